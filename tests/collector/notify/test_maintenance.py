"""Maintenance windows hold back opening and notices, record what they held back, and open what still fails at their end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from collector.cli.main import main
from collector.incidents import maintenance
from collector.notify.service import NotificationService
from collector.store import database
from tests.collector.notify.helpers import MIN, T0, config, finding, incidents, keeper, notices, store_path, timeline


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    store = database.open_store(store_path(tmp_path))
    yield store
    store.dispose()


def test_a_fire_inside_a_window_opens_nothing_and_is_recorded(engine: Engine) -> None:
    window = maintenance.add(engine, "客户A", T0, T0 + 60 * MIN, device_id="db-1", reason="内存扩容", who="张工")
    told: list[object] = []
    k = keeper(engine, told.append)
    k.handle(finding("fire", T0 + 5 * MIN))
    k.handle(finding("fire", T0 + 6 * MIN))                                    # a repeat: recorded once
    k.handle(finding("resolve", T0 + 20 * MIN, value=40.0))
    k.handle(finding("fire", T0 + 5 * MIN, device_id="db-2"))                 # another device: not covered
    assert [(i.device_id, i.status) for i in incidents(engine)] == [("db-2", "open")]
    assert [(e.kind, e.at_ms) for e in maintenance.suppressed(engine, window)] == [("fire", T0 + 5 * MIN), ("resolve", T0 + 20 * MIN)]
    assert [n.kind for n in told] == ["opened"]                                # only db-2's
    k.sweep(T0 + 61 * MIN)                                                     # recovered inside the window: nothing to open
    assert len(incidents(engine)) == 1


def test_what_still_fails_when_the_window_ends_is_opened_then_and_notified(engine: Engine) -> None:
    window = maintenance.add(engine, "客户A", T0, T0 + 60 * MIN, site="上海机房", reason="UPS swap")
    k = keeper(engine)
    k.handle(finding("fire", T0 + 10 * MIN))
    assert incidents(engine) == []
    k.sweep(T0 + 59 * MIN)
    assert incidents(engine) == []
    k.sweep(T0 + 61 * MIN)
    (incident,) = incidents(engine)
    assert (incident.status, incident.happened_ms, incident.value) == ("open", T0 + 60 * MIN, 97.0)
    assert timeline(engine, incident.incident_id)[-1] == (
        "note", f"still failing when maintenance window {window} (客户A / 上海机房: UPS swap) ended; held back since 2026-09-21 14:23:20 UTC")
    assert [(key, state) for key, state, _ in notices(engine)] == [("incident:1:opened:1", "pending")]
    k.sweep(T0 + 62 * MIN)                                                     # released once
    assert len(incidents(engine)) == 1


def test_notices_of_an_incident_already_open_are_suppressed_during_a_window(engine: Engine) -> None:
    k = keeper(engine)
    k.handle(finding("fire", T0))
    maintenance.add(engine, "客户A", T0 + 10 * MIN, T0 + 60 * MIN)            # the whole customer
    k.handle(finding("resolve", T0 + 20 * MIN, value=40.0))
    assert [(key, state) for key, state, _ in notices(engine)] == [("incident:1:opened:1", "pending"), ("incident:1:resolved:1", "suppressed")]
    assert timeline(engine, 1)[-1] == ("suppressed", "resolved not notified: maintenance window 1 (客户A)")
    assert NotificationService(engine, config()).run_once() == 1               # the opening only


def test_end_a_window_early_and_bad_windows(engine: Engine) -> None:
    window = maintenance.add(engine, "客户A", T0, T0 + 60 * MIN)
    assert maintenance.end(engine, window, T0 + 30 * MIN).ends_ms == T0 + 30 * MIN
    with pytest.raises(maintenance.MaintenanceError, match="ends before it starts"):
        maintenance.add(engine, "客户A", T0, T0)
    with pytest.raises(maintenance.MaintenanceError, match="no maintenance window 9"):
        maintenance.end(engine, 9)


def test_the_maintenance_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = store_path(tmp_path)
    database.open_store(url).dispose()
    assert main(["--db", url, "maintenance", "add", "--customer", "客户A", "--device", "core-sw1",
                 "--start", "2030-01-05 22:00", "--end", "2030-01-06 02:00", "--tz", "Asia/Shanghai",
                 "--reason", "固件升级", "--by", "张工"]) == 0
    assert "maintenance window 1 added: 客户A / core-sw1, 2030-01-05 14:00 → 2030-01-05 18:00 UTC" in capsys.readouterr().out
    assert main(["--db", url, "maintenance", "list"]) == 0
    out = capsys.readouterr().out
    assert "固件升级" in out and "张工" in out and "core-sw1" in out
    assert main(["--db", url, "maintenance", "add", "--customer", "客户A", "--for", "2h", "--reason", "now"]) == 0
    assert main(["--db", url, "maintenance", "end", "2"]) == 0
    assert "maintenance window 2 ended" in capsys.readouterr().out
    assert main(["--db", url, "maintenance", "add", "--customer", "客户A", "--start", "tomorrow", "--for", "1h"]) == 2
    assert "'tomorrow' is not a time" in capsys.readouterr().err
    assert main(["--db", url, "maintenance", "add", "--customer", "客户A"]) == 2
    assert "give --end or --for" in capsys.readouterr().err
    assert main(["--db", url, "maintenance", "show", "1"]) == 0
    assert "nothing held back" in capsys.readouterr().out
