"""``manage.py serve``: daphne on HTTP and WebSocket, plus the embedded Celery worker."""

from daphne.cli import CommandLineInterface
from django.core.management.base import BaseCommand, CommandParser

from apps.core.embedded_worker import start_embedded_worker


class Command(BaseCommand):
    """Serve Hangar the way ``make run`` does."""

    help = "Serve Hangar with daphne; in the embedded default, run the Celery worker in-process too."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default="8000")

    def handle(self, *args, host: str, port: str, **options) -> None:
        if start_embedded_worker():
            self.stdout.write("Embedded Celery worker and beat started in this process.")
        self.stdout.write(f"Serving Hangar on http://{host}:{port}")
        CommandLineInterface().run(["--bind", host, "--port", str(port), "config.asgi:application"])
