"""The CLI's one error type, in its own module so `python -m collector.cli.main` and imports agree on it."""


class UsageError(Exception):
    """Something the user can fix; printed without a traceback."""
