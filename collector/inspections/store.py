"""Inspection runs and their reports in the database: claims, results, rendered reports, history.

A run is claimed by inserting its row under a unique `run_key`; whoever's
insert wins runs it, everyone else sees the row. A claim carries a lease:
a run whose collector died (`lease_ms` passed, or the same collector
restarted: `claimed_by` is its own id) is taken over and finished from
where it stopped — a result already stored is reused, a report already
rendered is not rendered again, and the mail's key is the inspection's, so
it is queued once whatever happens in between.
"""

from __future__ import annotations

import gzip
import time
from dataclasses import dataclass

from sqlalchemy import Engine, Row, insert, select, update
from sqlalchemy.exc import IntegrityError

from collector.inspections.model import Inspection
from collector.inspections.period import Period
from collector.store import schema

LEASE_MS = 3_600_000
RETRY_MS = 15 * 60_000
MAX_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class Claim:
    inspection_id: int
    number: str
    resumed: bool          # taken over from a run that did not finish
    result: bytes | None   # the inspection stored by that run, if it got that far


def _now() -> int:
    return int(time.time() * 1000)


def number_for(prefix: str, period: Period, inspection_id: int) -> str:
    return f"{prefix}-{period.compact()}-{inspection_id:05d}"


def claim(engine: Engine, run_key: str, customer: str, period: Period, languages: tuple[str, ...], send: bool, owner: str,
          prefix: str, trigger: str = "manual", due_ms: int = 0, now_ms: int | None = None) -> Claim | None:
    """Claim the run `run_key`: a new claim, a take-over of an abandoned one, or None (done, or someone else's)."""
    now = _now() if now_ms is None else now_ms
    t = schema.inspections
    try:
        with engine.begin() as connection:
            inspection_id = connection.execute(insert(t).values(
                run_key=run_key, customer=customer, trigger=trigger, due_ms=due_ms, period_label=period.label,
                period_start_ms=period.start_ms, period_end_ms=period.end_ms, timezone=period.timezone,
                languages=",".join(languages), send=send, status="running", claimed_by=owner, lease_ms=now + LEASE_MS,
                attempts=1, started_ms=now,
            )).inserted_primary_key[0]
            number = number_for(prefix, period, int(inspection_id))
            connection.execute(update(t).where(t.c.inspection_id == inspection_id).values(number=number))
        return Claim(int(inspection_id), number, False, None)
    except IntegrityError:
        pass
    return take_over(engine, run_key, owner, now)


def take_over(engine: Engine, run_key: str, owner: str, now_ms: int | None = None) -> Claim | None:
    now = _now() if now_ms is None else now_ms
    t = schema.inspections
    with engine.begin() as connection:
        row = connection.execute(select(t.c.inspection_id, t.c.number, t.c.status, t.c.claimed_by, t.c.lease_ms, t.c.attempts,
                                        t.c.result).where(t.c.run_key == run_key)).first()
        if row is None or row.status == "done":
            return None
        abandoned = row.status == "running" and (row.claimed_by == owner or row.lease_ms < now)
        retry = row.status == "failed" and row.attempts < MAX_ATTEMPTS and row.lease_ms < now
        if not (abandoned or retry):
            return None
        taken = connection.execute(update(t).where(
            t.c.inspection_id == row.inspection_id, t.c.status == row.status, t.c.lease_ms == row.lease_ms,
            t.c.claimed_by == row.claimed_by,
        ).values(status="running", claimed_by=owner, lease_ms=now + LEASE_MS, attempts=row.attempts + 1, error="")).rowcount
    if not taken:
        return None   # another replica took it over between our read and our update
    return Claim(int(row.inspection_id), row.number, True, row.result)


def unfinished(engine: Engine, owner: str, now_ms: int | None = None) -> list[Row]:
    """Scheduled runs to take over: running under our own id (we restarted) or with a lapsed lease, failed ones due a retry.

    Manual runs (`vigil inspect`) are not taken over: whoever ran one sees it fail and runs it again.
    """
    now = _now() if now_ms is None else now_ms
    t = schema.inspections
    with engine.connect() as connection:
        rows = connection.execute(select(t.c.inspection_id, t.c.run_key, t.c.customer, t.c.trigger, t.c.due_ms, t.c.period_label,
                                         t.c.period_start_ms, t.c.period_end_ms, t.c.timezone, t.c.languages, t.c.send,
                                         t.c.status, t.c.claimed_by, t.c.lease_ms, t.c.attempts)
                                  .where(t.c.status.in_(("running", "failed"))).order_by(t.c.inspection_id)).all()
    return [r for r in rows if r.trigger == "schedule" and (
        (r.status == "running" and (r.claimed_by == owner or r.lease_ms < now))
        or (r.status == "failed" and r.attempts < MAX_ATTEMPTS and r.lease_ms < now))]


def save_result(engine: Engine, inspection_id: int, inspection: Inspection) -> None:
    t = schema.inspections
    findings = sum(1 for d in inspection.devices for f in d.findings if f.severity != "info")
    with engine.begin() as connection:
        connection.execute(update(t).where(t.c.inspection_id == inspection_id).values(
            result=inspection.to_json(), score=inspection.score, devices=len(inspection.devices), findings=findings))


def finish(engine: Engine, inspection_id: int, now_ms: int | None = None) -> None:
    t = schema.inspections
    with engine.begin() as connection:
        connection.execute(update(t).where(t.c.inspection_id == inspection_id).values(
            status="done", finished_ms=_now() if now_ms is None else now_ms, lease_ms=0, error=""))


def fail(engine: Engine, inspection_id: int, error: str, now_ms: int | None = None) -> None:
    """A failed run is tried again `RETRY_MS` later, up to `MAX_ATTEMPTS` times in all."""
    now = _now() if now_ms is None else now_ms
    t = schema.inspections
    with engine.begin() as connection:
        connection.execute(update(t).where(t.c.inspection_id == inspection_id).values(
            status="failed", finished_ms=now, lease_ms=now + RETRY_MS, error=error[:2000]))


def previous(engine: Engine, customer: str, start_ms: int, exclude: int) -> Inspection | None:
    """The latest finished inspection of `customer` over an earlier period: what "since the last report" compares with."""
    t = schema.inspections
    with engine.connect() as connection:
        data = connection.execute(select(t.c.result).where(
            t.c.customer == customer, t.c.status == "done", t.c.period_start_ms < start_ms, t.c.inspection_id != exclude,
            t.c.result.is_not(None),
        ).order_by(t.c.period_start_ms.desc(), t.c.inspection_id.desc()).limit(1)).scalar()
    return None if data is None else Inspection.from_json(data)


def result(engine: Engine, inspection_id: int) -> Inspection | None:
    t = schema.inspections
    with engine.connect() as connection:
        data = connection.execute(select(t.c.result).where(t.c.inspection_id == inspection_id)).scalar()
    return None if data is None else Inspection.from_json(data)


# ---------------------------------------------------------------- reports


def save_report(engine: Engine, inspection_id: int, customer: str, number: str, lang: str, html: str, pdf: bytes,
                pages: int, now_ms: int | None = None) -> int:
    """Store one language's report; an existing one (a resumed run) is kept and its id returned."""
    r = schema.reports
    html_gz = gzip.compress(html.encode("utf-8"), 6)
    try:
        with engine.begin() as connection:
            return int(connection.execute(insert(r).values(
                inspection_id=inspection_id, customer=customer, number=number, lang=lang,
                created_ms=_now() if now_ms is None else now_ms, html_gz=html_gz, pdf=pdf,
                html_bytes=len(html.encode("utf-8")), pdf_bytes=len(pdf), pages=pages,
            )).inserted_primary_key[0])
    except IntegrityError:
        existing = report_id_for(engine, inspection_id, lang)
        if existing is None:
            raise
        return existing


def report_id_for(engine: Engine, inspection_id: int, lang: str) -> int | None:
    r = schema.reports
    with engine.connect() as connection:
        found = connection.execute(select(r.c.report_id).where(r.c.inspection_id == inspection_id, r.c.lang == lang)).scalar()
    return None if found is None else int(found)


def reports(engine: Engine, customer: str | None = None, limit: int = 50) -> list[Row]:
    """Reports newest first, without their content, with their inspection's period, score and findings."""
    r, t = schema.reports, schema.inspections
    query = (select(r.c.report_id, r.c.inspection_id, r.c.customer, r.c.number, r.c.lang, r.c.created_ms, r.c.pdf_bytes,
                    r.c.html_bytes, r.c.pages, t.c.period_label, t.c.trigger, t.c.score, t.c.devices, t.c.findings)
             .join(t, t.c.inspection_id == r.c.inspection_id)
             .order_by(r.c.created_ms.desc(), r.c.report_id.desc()).limit(limit))
    if customer:
        query = query.where(r.c.customer == customer)
    with engine.connect() as connection:
        return connection.execute(query).all()


def report(engine: Engine, report_id: int) -> Row | None:
    r, t = schema.reports, schema.inspections
    with engine.connect() as connection:
        return connection.execute(
            select(r, t.c.period_label, t.c.period_start_ms, t.c.period_end_ms, t.c.timezone, t.c.trigger, t.c.score,
                   t.c.devices, t.c.findings, t.c.result, t.c.run_key, t.c.status)
            .join(t, t.c.inspection_id == r.c.inspection_id).where(r.c.report_id == report_id)
        ).first()


def html_of(row: Row) -> str:
    return gzip.decompress(row.html_gz).decode("utf-8")
