"""Stand-in for gradio: ``Blocks.launch`` serves what it was called with."""

from stand_in_server import serve


class Blocks:
    def launch(self, **kwargs: object) -> None:
        serve(kwargs["server_port"], {"launched": type(self).__name__, "kwargs": kwargs})


class Interface(Blocks):
    def __init__(self, fn: object, inputs: object, outputs: object) -> None:
        self.fn = fn
