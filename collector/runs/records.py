"""The stored record of remote diagnoses: runs and, in order, what the devices answered.

This is the service record and the audit log, so it only grows: a run row is
inserted when an engineer (or an incident) asks, its status moves forward
(queued → sent → running → one final status) and its end is written once;
output rows are inserted, never changed. Nothing here updates a finished run.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, Row, insert, select, update

from collector.store import schema

ACTIVE = ("queued", "sent", "running")
FINAL = ("ok", "failed", "refused", "cancelled", "timeout", "lost")

runs = schema.playbook_runs
output = schema.playbook_run_output


def _now_ms() -> int:
    return int(time.time() * 1000)


@contextlib.contextmanager
def _transaction(bind: Engine | Connection) -> Iterator[Connection]:
    """A transaction of its own on an engine; on a connection, the caller's (to store many items in one)."""
    if isinstance(bind, Connection):
        yield bind
    else:
        with bind.begin() as connection:
            yield connection


@dataclass(frozen=True, slots=True)
class Request:
    """Everything a run is asked with; the playbook is pinned by its content hash."""

    agent_id: str
    device_id: str
    customer: str
    site: str
    playbook_id: str
    playbook_hash: str
    mode: str
    params: Mapping[str, str]
    requested_by: str
    approval: Mapping[str, object] | None = None
    incident_id: int | None = None


def create(engine: Engine, request: Request, now_ms: int | None = None) -> int:
    """Queue a run; the collector's dispatcher sends it to the agent's stream."""
    values = {
        "agent_id": request.agent_id, "device_id": request.device_id,
        "customer": request.customer, "site": request.site,
        "playbook_id": request.playbook_id, "playbook_hash": request.playbook_hash, "mode": request.mode,
        "params": json.dumps(dict(request.params), ensure_ascii=False, sort_keys=True),
        "requested_by": request.requested_by, "requested_ms": now_ms or _now_ms(),
        "approval": json.dumps(dict(request.approval), ensure_ascii=False) if request.approval else "",
        "incident_id": request.incident_id, "status": "queued",
    }
    with engine.begin() as connection:
        return int(connection.execute(insert(runs).values(**values)).inserted_primary_key[0])


def get(engine: Engine, run_id: int) -> Row | None:
    with engine.connect() as connection:
        return connection.execute(select(runs).where(runs.c.run_id == run_id)).first()


def queued(engine: Engine) -> list[Row]:
    with engine.connect() as connection:
        return connection.execute(select(runs).where(runs.c.status == "queued").order_by(runs.c.run_id)).all()


def cancels_requested(engine: Engine) -> list[Row]:
    """Active runs an engineer asked to cancel."""
    with engine.connect() as connection:
        return connection.execute(
            select(runs.c.run_id, runs.c.agent_id, runs.c.status, runs.c.cancel_requested_by)
            .where(runs.c.status.in_(ACTIVE), runs.c.cancel_requested_ms > 0)
        ).all()


def mark_sent(bind: Engine | Connection, run_id: int, now_ms: int | None = None) -> None:
    with _transaction(bind) as connection:
        connection.execute(
            update(runs).where(runs.c.run_id == run_id, runs.c.status == "queued").values(status="sent", sent_ms=now_ms or _now_ms())
        )


def append(bind: Engine | Connection, run_id: int, agent_id: str, items: Sequence[tuple[int, str, str, str, str]],
           now_ms: int | None = None) -> bool:
    """Store output items `(seq, kind, step, text, data_json)` of an active run, in one transaction.

    Only the agent the run was sent to may write to it; False if the run is
    not that agent's, or has ended (the record is closed).
    """
    at = now_ms or _now_ms()
    with _transaction(bind) as connection:
        status = connection.execute(
            select(runs.c.status).where(runs.c.run_id == run_id, runs.c.agent_id == agent_id)
        ).scalar()
        if status not in ("sent", "running"):
            return False
        connection.execute(
            insert(output), [{"run_id": run_id, "seq": seq, "at_ms": at, "kind": kind, "step": step, "text": text, "data": data}
                             for seq, kind, step, text, data in items],
        )
        if status == "sent":
            connection.execute(update(runs).where(runs.c.run_id == run_id, runs.c.status == "sent").values(status="running"))
    return True


def finish(bind: Engine | Connection, run_id: int, status: str, error: str = "", findings_json: str = "[]",
           duration_ms: int = 0, now_ms: int | None = None, agent_id: str | None = None) -> bool:
    """Write a run's end, once: False if it had already ended (or never existed, or is not `agent_id`'s)."""
    if status not in FINAL:
        raise ValueError(f"not a final run status: {status!r}")
    condition = (runs.c.run_id == run_id) & runs.c.status.in_(ACTIVE)
    if agent_id is not None:
        condition = condition & (runs.c.agent_id == agent_id)
    with _transaction(bind) as connection:
        changed = connection.execute(
            update(runs).where(condition)
            .values(status=status, error=error, findings=findings_json or "[]", duration_ms=duration_ms,
                    finished_ms=now_ms or _now_ms())
        ).rowcount
    return bool(changed)


def request_cancel(engine: Engine, run_id: int, who: str, now_ms: int | None = None) -> bool:
    """Ask for a run to stop; False if it has already ended. A queued run is cancelled at once."""
    now = now_ms or _now_ms()
    with engine.begin() as connection:
        changed = connection.execute(
            update(runs).where(runs.c.run_id == run_id, runs.c.status.in_(ACTIVE), runs.c.cancel_requested_ms == 0)
            .values(cancel_requested_ms=now, cancel_requested_by=who)
        ).rowcount
        connection.execute(
            update(runs).where(runs.c.run_id == run_id, runs.c.status == "queued")
            .values(status="cancelled", error=f"cancelled by {who} before it was sent", finished_ms=now)
        )
    return bool(changed)


def end_active(engine: Engine, reason: str, agent_id: str | None = None, now_ms: int | None = None) -> int:
    """Mark runs that can no longer finish as lost: their agent went away, or the collector restarted."""
    condition = runs.c.status.in_(("sent", "running"))
    if agent_id is not None:
        condition = condition & (runs.c.agent_id == agent_id)
    with engine.begin() as connection:
        return connection.execute(update(runs).where(condition).values(status="lost", error=reason, finished_ms=now_ms or _now_ms())).rowcount


def output_of(engine: Engine, run_id: int, after_seq: int = 0) -> list[Row]:
    with engine.connect() as connection:
        return connection.execute(
            select(output).where(output.c.run_id == run_id, output.c.seq > after_seq).order_by(output.c.seq)
        ).all()


def listing(engine: Engine, *, customer: str | None = None, device: str | None = None,
            incident_id: int | None = None, limit: int = 50) -> list[Row]:
    query = select(runs).order_by(runs.c.run_id.desc()).limit(limit)
    if customer:
        query = query.where(runs.c.customer == customer)
    if device:
        query = query.where(runs.c.device_id == device)
    if incident_id is not None:
        query = query.where(runs.c.incident_id == incident_id)
    with engine.connect() as connection:
        return connection.execute(query).all()
