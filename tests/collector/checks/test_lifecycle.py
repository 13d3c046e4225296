"""An incident's life: ack, plan, resolve, close — who and when in the row and the timeline — and the CLI for it."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

import checks
from collector.checks.engine import DeviceInfo, Finding
from collector.cli import incidents_command
from collector.cli.errors import UsageError
from collector.incidents import lifecycle
from collector.incidents.keeper import IncidentKeeper
from collector.store import database

MIN = 60_000
T0 = 1_790_000_000_000
FS = checks.library()["filesystem_usage"]


def _open(url: str) -> int:
    engine = database.open_store(url)
    keeper = IncidentKeeper(engine, lambda a, d: DeviceInfo("客户A", "上海机房", "server"))
    keeper.handle(Finding("fire", FS, "a1", "db-1", "path=/data", T0, T0 + 1000, 97.0, 90.0, FS.thresholds))
    engine.dispose()
    return 1


def test_each_step_records_who_and_when_and_never_goes_back(store_url: str) -> None:
    incident_id = _open(store_url)
    engine = database.open_store(store_url)
    lifecycle.acknowledge(engine, incident_id, "张工", at_ms=T0 + 30 * MIN)
    lifecycle.plan(engine, incident_id, "张工", "Expand /data by 200 GB tonight; 今晚扩容", at_ms=T0 + 5 * 60 * MIN)
    lifecycle.resolve(engine, incident_id, "张工", "expanded", at_ms=T0 + 20 * 60 * MIN)
    row = lifecycle.get(engine, incident_id)
    assert (row.status, row.acknowledged_ms, row.acknowledged_by) == ("resolved", T0 + 30 * MIN, "张工")
    assert (row.plan_ms, row.plan_text, row.resolved_ms) == (T0 + 5 * 60 * MIN, "Expand /data by 200 GB tonight; 今晚扩容", T0 + 20 * 60 * MIN)
    steps = [(t.kind, t.who) for t in lifecycle.timeline(engine, incident_id)]
    assert steps == [("opened", "vigil"), ("acknowledged", "张工"), ("plan", "张工"), ("resolved", "张工")]
    with pytest.raises(lifecycle.LifecycleError, match="is resolved: it cannot be acknowledged now"):
        lifecycle.acknowledge(engine, incident_id, "李工")
    with pytest.raises(lifecycle.LifecycleError, match="needs its text"):
        lifecycle.plan(engine, incident_id, "李工", "  ")
    with pytest.raises(lifecycle.LifecycleError, match="no incident 99"):
        lifecycle.close(engine, 99, "李工")
    engine.dispose()


def test_a_plan_without_an_ack_acknowledges_too(store_url: str) -> None:
    incident_id = _open(store_url)
    engine = database.open_store(store_url)
    lifecycle.plan(engine, incident_id, "王工", "replace the disk", at_ms=T0 + MIN)
    row = lifecycle.get(engine, incident_id)
    assert (row.status, row.acknowledged_ms, row.acknowledged_by) == ("planned", T0 + MIN, "王工")
    engine.dispose()


def _cli(url: str, *argv: str) -> None:
    parser = argparse.ArgumentParser()
    incidents_command.add_parsers(parser.add_subparsers(dest="command"))
    incidents_command.run(parser.parse_args(list(argv)), url)


def test_the_cli_lists_shows_and_steps(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'vigil.db'}"
    _open(url)
    _cli(url, "incidents", "--open")
    out = capsys.readouterr().out
    assert "OPEN" in out and "db-1" in out and "Filesystem" in out and "/data" in out
    _cli(url, "ack", "1", "--by", "张工")
    assert "incident 1: acknowledged" in capsys.readouterr().out
    _cli(url, "incident", "show", "1")
    out = capsys.readouterr().out
    assert "客户A / 上海机房 / db-1" in out
    assert any("acknowledged" in line and "张工" in line for line in out.splitlines())
    assert "97" in out
    with pytest.raises(UsageError, match="cannot be acknowledged now"):
        _cli(url, "ack", "1", "--by", "张工")
    _cli(url, "incidents", "--customer", "nobody")
    assert "No incidents." in capsys.readouterr().out
