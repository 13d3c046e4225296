"""Incident notices: what should be told about an incident, decided once, in the transaction that made it true.

The keeper records `opened` / `reopened` / `flapping` / `resolved` with the
incident change itself, the SLA sweep records escalations; the notification
service (collector/notify) routes the pending ones to people. The key
`incident:{id}:{kind}:{n}` is unique, so an event is recorded once however
often a restarted collector or a second replica meets it again, and the same
key is the mail outbox's and the webhook outbox's key: one event, one mail.

A notice that must not reach anyone (a maintenance window, an incident
folded under its site's, below the customer's severity) is still recorded,
as `suppressed` or `skipped` with the reason: the record that it was held back.
"""

from __future__ import annotations

import time

from sqlalchemy import Connection, Engine, Row, func, select, update

from collector.store import dialect, schema

PENDING, QUEUED, SUPPRESSED, SKIPPED = "pending", "queued", "suppressed", "skipped"


def key(incident_id: int, kind: str, n: int) -> str:
    return f"incident:{incident_id}:{kind}:{n}"


def record(connection: Connection, incident_id: int, kind: str, n: int, at_ms: int, level: int = 0,
           state: str = PENDING, reason: str = "") -> bool:
    """Record a notice unless its key exists; True if it is new."""
    n_key = key(incident_id, kind, n)
    statement = dialect.insert(connection, schema.incident_notices).values(
        key=n_key, incident_id=incident_id, kind=kind, level=level, at_ms=at_ms,
        created_ms=int(time.time() * 1000), state=state, reason=reason,
    ).on_conflict_do_nothing(index_elements=["key"]).returning(schema.incident_notices.c.notice_id)
    return connection.execute(statement).first() is not None   # (rowcount is not reliable here on psycopg)


def count_in_timeline(connection: Connection, incident_id: int, kind: str) -> int:
    """The how-many-th `kind` of this incident the latest one is (n of the key)."""
    t = schema.incident_timeline
    return int(connection.execute(select(func.count()).where(t.c.incident_id == incident_id, t.c.kind == kind)).scalar_one())


def pending(engine: Engine, limit: int = 200) -> list[Row]:
    n = schema.incident_notices
    with engine.connect() as connection:
        return connection.execute(select(n).where(n.c.state == PENDING).order_by(n.c.notice_id).limit(limit)).all()


def mark(connection: Connection, notice_id: int, state: str, reason: str) -> None:
    n = schema.incident_notices
    connection.execute(update(n).where(n.c.notice_id == notice_id).values(state=state, reason=reason[:2000]))


def of_incident(engine: Engine, incident_id: int) -> list[Row]:
    n = schema.incident_notices
    with engine.connect() as connection:
        return connection.execute(select(n).where(n.c.incident_id == incident_id).order_by(n.c.notice_id)).all()
