"""Open the collector's store for a CLI command, or stop with a clear error (no traceback, no password)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from collector.cli.errors import UsageError
from collector.store.database import connect, is_current


@contextmanager
def opened(url: str) -> Iterator[Engine]:
    """The store at `url`, checked to be a Vigil store at the current schema; errors become UsageError."""
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        raise UsageError(f"no store at {url.removeprefix('sqlite:///')} (has the collector or the demo run?)")
    engine = connect(url)
    try:
        if not is_current(engine):
            raise UsageError(f"{safe(url)} is not a Vigil store at the current schema (has the collector run on it?)")
        yield engine
    except SQLAlchemyError as exc:
        raise UsageError(f"cannot read the store {safe(url)}: {exc.__class__.__name__}: {str(exc).splitlines()[0]}") from None
    finally:
        engine.dispose()


def safe(url: str) -> str:
    """The URL without its password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
