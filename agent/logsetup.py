"""One logging setup for agent and collector, with the redaction filter on it.

Secrets (SNMP communities, SSH passwords, keys' passphrases) are registered
here as the config is loaded; the filter replaces any of them in a log line
before a handler sees it, whichever module wrote the line.
"""

from __future__ import annotations

import logging
import sys
import time

_SECRETS: set[str] = set()
MASK = "******"


def register_secret(value: str) -> None:
    if value and len(value) >= 3:  # shorter strings would mask ordinary words
        _SECRETS.add(value)


def redact(text: str) -> str:
    for secret in _SECRETS:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if _SECRETS:
            message = redact(record.getMessage())
            record.msg, record.args = message, None
        return True


class _UTCFormatter(logging.Formatter):
    converter = time.gmtime

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return time.strftime("%Y-%m-%dT%H:%M:%S", self.converter(record.created)) + f".{int(record.msecs):03d}Z"


def setup(program: str, level: str = "info") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_UTCFormatter(f"%(asctime)s {program} %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Alembic announces every plugin and migration step at INFO.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
