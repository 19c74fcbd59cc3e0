"""Stand-in for streamlit: the script API the test notebook uses."""

WRITTEN: list = []


def title(text: str) -> None:
    WRITTEN.append(text)


write = title
