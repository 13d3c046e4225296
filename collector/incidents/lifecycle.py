"""What engineers do to an incident: acknowledge it, give the resolution plan, resolve it, close it.

Each step records who and when, on the incident row (for listing) and in
its timeline (for the SLA clocks and the report). Steps may be skipped (a
quick fix needs no written plan) but never go backwards: a closed incident
takes only notes.
"""

from __future__ import annotations

import time

from sqlalchemy import Engine, Row, insert, select, update

from collector.store import schema

ORDER = {"open": 0, "acknowledged": 1, "planned": 2, "resolved": 3, "closed": 4}


class LifecycleError(ValueError):
    """A step that does not apply to the incident now; `str()` says why."""


def get(engine: Engine, incident_id: int) -> Row:
    with engine.connect() as connection:
        row = connection.execute(select(schema.incidents).where(schema.incidents.c.incident_id == incident_id)).first()
    if row is None:
        raise LifecycleError(f"no incident {incident_id}")
    return row


def timeline(engine: Engine, incident_id: int) -> list[Row]:
    t = schema.incident_timeline
    with engine.connect() as connection:
        return connection.execute(select(t).where(t.c.incident_id == incident_id).order_by(t.c.at_ms, t.c.entry_id)).all()


def acknowledge(engine: Engine, incident_id: int, who: str, at_ms: int | None = None) -> None:
    """The response: someone has taken the incident (stops the response clock)."""
    _step(engine, incident_id, "acknowledged", who, at_ms, "", {"acknowledged_ms": None, "acknowledged_by": who})


def plan(engine: Engine, incident_id: int, who: str, text: str, at_ms: int | None = None) -> None:
    """The resolution plan (stops the plan clock); giving a plan also acknowledges."""
    if not text.strip():
        raise LifecycleError("a plan needs its text (what will be done, by whom, when)")
    row = get(engine, incident_id)
    values: dict[str, object] = {"plan_ms": None, "plan_by": who, "plan_text": text.strip()}
    if not row.acknowledged_ms:
        values.update(acknowledged_ms=None, acknowledged_by=who)
    _step(engine, incident_id, "planned", who, at_ms, text.strip(), values, kind="plan")


def resolve(engine: Engine, incident_id: int, who: str, note: str, at_ms: int | None = None) -> None:
    _step(engine, incident_id, "resolved", who, at_ms, note.strip(), {"resolved_ms": None})


def close(engine: Engine, incident_id: int, who: str, note: str = "", at_ms: int | None = None) -> None:
    _step(engine, incident_id, "closed", who, at_ms, note.strip(), {"closed_ms": None})


def _step(engine: Engine, incident_id: int, status: str, who: str, at_ms: int | None, text: str,
          values: dict[str, object], kind: str | None = None) -> None:
    if not who.strip():
        raise LifecycleError("say who you are (--by NAME, or $VIGIL_USER)")
    now = int(time.time() * 1000) if at_ms is None else at_ms
    i = schema.incidents
    with engine.begin() as connection:
        row = connection.execute(select(i.c.status).where(i.c.incident_id == incident_id).with_for_update()).first()
        if row is None:
            raise LifecycleError(f"no incident {incident_id}")
        if ORDER[row.status] > ORDER[status] or (row.status == status and status != "planned"):
            raise LifecycleError(f"incident {incident_id} is {row.status}: it cannot be {status} now")
        stamped = {key: (now if value is None else value) for key, value in values.items()}
        connection.execute(update(i).where(i.c.incident_id == incident_id).values(status=status, **stamped))
        connection.execute(insert(schema.incident_timeline).values(
            incident_id=incident_id, at_ms=now, kind=kind or status, who=who.strip(), text=text,
        ))
