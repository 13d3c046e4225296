"""The durable mail outbox: enqueue once by key, read the delivery log.

`enqueue` writes the message, its attachments and one delivery row per
recipient in one transaction; the key is unique in the table, so a second
enqueue under the same key (a retried job, a restarted collector) changes
nothing and returns False. The `Deliverer` (deliver.py) sends from here.
"""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Sequence

from sqlalchemy import Engine, Row, insert, select
from sqlalchemy.exc import IntegrityError

from collector.mail.message import Attachment
from collector.store import schema

MAX_KEY = 200
# Set by enqueue: a deliverer in this process wakes up instead of waiting for its next poll.
enqueued = threading.Event()


def enqueue(engine: Engine, key: str, to: Sequence[str], subject: str, html: str, text: str,
            attachments: Sequence[Attachment] = ()) -> bool:
    """Queue a message for `to`; False (and nothing queued) if `key` was enqueued before, ever.

    Raises ValueError for a message that could never be sent (no recipient,
    an address without '@', a key too long).
    """
    if not key or len(key) > MAX_KEY:
        raise ValueError(f"a mail key is 1–{MAX_KEY} characters: {key[:60]!r}")
    recipients = _recipients(to)
    if not recipients:
        raise ValueError(f"mail {key!r} has no recipient")
    o = schema.mail_outbox
    now = int(time.time() * 1000)
    try:
        with engine.begin() as connection:
            if connection.execute(select(o.c.message_id).where(o.c.key == key)).first() is not None:
                return False
            message_id = connection.execute(insert(o).values(
                key=key, created_ms=now, subject=subject, text_body=text, html_body=html,
                message_header_id=email.utils.make_msgid(domain="vigil.local"),
            )).inserted_primary_key[0]
            if attachments:
                connection.execute(insert(schema.mail_attachments), [
                    {"message_id": message_id, "position": n, "filename": a.filename, "content_type": a.content_type, "data": a.data}
                    for n, a in enumerate(attachments)
                ])
            connection.execute(insert(schema.mail_deliveries), [
                {"message_id": message_id, "recipient": r, "status": "queued", "attempts": 0, "next_attempt_ms": 0}
                for r in recipients
            ])
    except IntegrityError:
        return False  # the same key enqueued at the same moment by someone else
    enqueued.set()
    return True


def deliveries(engine: Engine, key: str) -> list[Row]:
    """The delivery log of one message: (recipient, status, attempts, last_error, sent_ms) per recipient.

    status: queued (not tried yet) | sent | refused (the server refused the
    recipient with 5xx) | retrying (4xx or no connection; tried again with
    backoff) | failed (given up, or the message itself was refused).
    """
    o, d = schema.mail_outbox, schema.mail_deliveries
    with engine.connect() as connection:
        return connection.execute(
            select(d.c.recipient, d.c.status, d.c.attempts, d.c.last_error, d.c.sent_ms)
            .join(o, o.c.message_id == d.c.message_id).where(o.c.key == key).order_by(d.c.recipient)
        ).all()


def exists(engine: Engine, key: str) -> bool:
    o = schema.mail_outbox
    with engine.connect() as connection:
        return connection.execute(select(o.c.message_id).where(o.c.key == key)).first() is not None


def _recipients(to: Sequence[str]) -> list[str]:
    """Bare addresses, each once (case-insensitively), in the order given."""
    if isinstance(to, str):
        to = [to]
    seen: set[str] = set()
    found: list[str] = []
    for entry in to:
        address = email.utils.parseaddr(entry)[1].strip()
        if "@" not in address or address.startswith("@") or address.endswith("@"):
            raise ValueError(f"{entry!r} is not an e-mail address")
        if address.lower() not in seen:
            seen.add(address.lower())
            found.append(address)
    return found
