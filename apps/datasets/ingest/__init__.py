"""Reading uploaded files into Arrow tables and profiling their columns (no database in here)."""


class IngestionError(Exception):
    """A file Hangar cannot ingest; the message is shown to the user as the job's error_message."""
