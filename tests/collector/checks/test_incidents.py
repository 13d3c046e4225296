"""collector/incidents/keeper.py on the real store: open once, resolve, re-open as a flap, pause when flapping, close."""

from __future__ import annotations

import math

from sqlalchemy import select

import checks
from collector.checks.engine import DeviceInfo, Finding
from collector.incidents.keeper import IncidentKeeper, Notice
from collector.store import database, schema

MIN = 60_000
T0 = 1_790_000_000_000
CPU = checks.library()["cpu_high"]


def _finding(kind: str, at_ms: int, value: float = 97.0) -> Finding:
    return Finding(kind, CPU, "a1", "h1", "cpu=cpu-total", at_ms, at_ms + 500, value, 90.0, CPU.thresholds)


def _keeper(url: str) -> tuple[IncidentKeeper, list[Notice]]:
    notices: list[Notice] = []
    engine = database.open_store(url)
    return IncidentKeeper(engine, lambda a, d: DeviceInfo("客户A", "上海机房", "server"), notices.append), notices


def _incidents(keeper: IncidentKeeper):  # type: ignore[no-untyped-def]
    with keeper.engine.connect() as c:
        return c.execute(select(schema.incidents).order_by(schema.incidents.c.incident_id)).all()


def _timeline(keeper: IncidentKeeper, incident_id: int) -> list[str]:
    t = schema.incident_timeline
    with keeper.engine.connect() as c:
        return [r.kind for r in c.execute(select(t.c.kind).where(t.c.incident_id == incident_id).order_by(t.c.entry_id))]


def test_one_incident_while_firing_with_texts_in_both_languages(store_url: str) -> None:
    keeper, notices = _keeper(store_url)
    keeper.handle(_finding("fire", T0))
    keeper.handle(_finding("fire", T0 + MIN))          # still firing (e.g. after a restart): no second incident
    (incident,) = _incidents(keeper)
    assert (incident.status, incident.customer, incident.severity, incident.happened_ms) == ("open", "客户A", "major", T0)
    assert incident.last_fired_ms == T0 + MIN and incident.value == 97.0
    assert "97 %" in incident.analysis_en and "97%" in incident.analysis_zh and "h1" in incident.analysis_en
    assert [n.kind for n in notices] == ["opened"]
    assert keeper.firing_keys() == {("a1", "h1", "cpu_high", "cpu=cpu-total")}
    keeper.handle(_finding("resolve", T0 + 10 * MIN, 50.0))
    (incident,) = _incidents(keeper)
    assert (incident.status, incident.resolved_ms) == ("resolved", T0 + 10 * MIN)
    assert [n.kind for n in notices] == ["opened", "resolved"]
    assert _timeline(keeper, incident.incident_id) == ["opened", "resolved"]
    assert keeper.firing_keys() == set()
    keeper.engine.dispose()


def test_refires_reopen_the_same_incident_and_flapping_pauses_notices(store_url: str) -> None:
    keeper, notices = _keeper(store_url)
    at = T0
    for _ in range(5):
        keeper.handle(_finding("fire", at))
        keeper.handle(_finding("resolve", at + 2 * MIN, 50.0))
        at += 5 * MIN
    (incident,) = _incidents(keeper)
    assert (incident.flaps, incident.flapping) == (4, True)
    # Flap 3 (the limit) says "flapping" once; after it, neither re-opens nor resolves notify.
    assert [n.kind for n in notices] == ["opened", "resolved", "reopened", "resolved", "reopened", "resolved", "flapping"]
    assert _timeline(keeper, incident.incident_id).count("reopened") == 4

    resolved_at = at - 3 * MIN                         # the last resolve
    assert keeper.sweep(resolved_at + 29 * MIN) == 0   # not quiet for the whole 30-minute window yet
    assert keeper.sweep(resolved_at + 31 * MIN) == 1
    (incident,) = _incidents(keeper)
    assert incident.status == "closed"
    assert _timeline(keeper, incident.incident_id)[-2:] == ["settled", "closed"]

    keeper.handle(_finding("fire", at + 40 * MIN))      # after the close: a new incident
    assert [i.status for i in _incidents(keeper)] == ["closed", "open"]
    keeper.engine.dispose()


def test_an_absence_without_a_value_is_stored_as_null(store_url: str) -> None:
    keeper, _ = _keeper(store_url)
    keeper.handle(Finding("fire", CPU, "a1", "h1", "", T0, T0, math.nan, math.nan, CPU.thresholds))
    (incident,) = _incidents(keeper)
    assert incident.value is None and incident.threshold is None
    keeper.engine.dispose()


def test_replayed_findings_move_the_start_back_and_a_stale_recovery_is_ignored(store_url: str) -> None:
    keeper, _ = _keeper(store_url)
    keeper.handle(_finding("fire", T0 + 60 * MIN))               # live: firing now
    keeper.handle(_finding("fire", T0 + 5 * MIN))                # the backlog: it started an hour ago
    keeper.handle(_finding("resolve", T0 + 20 * MIN, 50.0))      # a recovery inside the backlog, before the live fire
    (incident,) = _incidents(keeper)
    assert (incident.status, incident.happened_ms, incident.last_fired_ms) == ("open", T0 + 5 * MIN, T0 + 60 * MIN)
    keeper.engine.dispose()
