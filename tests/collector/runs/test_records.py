"""The run record only grows: a run ends once, only its own agent writes to it, output keeps the agent's order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from collector.runs import records
from collector.store import database


@pytest.fixture
def engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = database.connect(f"sqlite:///{tmp_path / 'vigil.db'}")
    database.upgrade(engine)
    yield engine
    engine.dispose()


def _request(**changes: object) -> records.Request:
    values: dict[str, object] = dict(
        agent_id="agent-a", device_id="core-1", customer="acme", site="hq", playbook_id="cisco_ios_health",
        playbook_hash="ab" * 32, mode="diagnostic", params={"interface": "Gi0/1"}, requested_by="li.wei",
    )
    values.update(changes)
    return records.Request(**values)  # type: ignore[arg-type]


def test_a_run_moves_forward_and_ends_once(engine) -> None:  # type: ignore[no-untyped-def]
    run_id = records.create(engine, _request(), now_ms=1_000)
    assert [r.run_id for r in records.queued(engine)] == [run_id]
    records.mark_sent(engine, run_id, now_ms=1_100)
    assert records.append(engine, run_id, "agent-a", [(1, "step_started", "version", "show version", "{}")])
    assert records.get(engine, run_id).status == "running"
    assert records.finish(engine, run_id, "ok", findings_json='[{"severity": "major"}]', duration_ms=900, now_ms=2_000)
    # The end is written once: a late or repeated RunFinished changes nothing, nor does more output.
    assert not records.finish(engine, run_id, "failed", "late")
    assert not records.append(engine, run_id, "agent-a", [(2, "lines", "version", "late line", "")])
    row = records.get(engine, run_id)
    assert (row.status, row.error, row.finished_ms, row.duration_ms) == ("ok", "", 2_000, 900)
    assert json.loads(row.findings) == [{"severity": "major"}]
    assert [o.seq for o in records.output_of(engine, run_id)] == [1]
    assert json.loads(row.params) == {"interface": "Gi0/1"}


def test_only_the_agent_a_run_was_sent_to_may_write_to_it(engine) -> None:  # type: ignore[no-untyped-def]
    run_id = records.create(engine, _request())
    records.mark_sent(engine, run_id)
    assert not records.append(engine, run_id, "agent-b", [(1, "lines", "x", "forged", "")])
    assert not records.finish(engine, run_id, "ok", agent_id="agent-b")
    assert records.output_of(engine, run_id) == []
    assert records.get(engine, run_id).status == "sent"


def test_output_is_read_back_in_order_after_a_position(engine) -> None:  # type: ignore[no-untyped-def]
    run_id = records.create(engine, _request())
    records.mark_sent(engine, run_id)
    records.append(engine, run_id, "agent-a", [(1, "step_started", "s", "cmd", ""), (2, "lines", "s", "a\nb", "")])
    records.append(engine, run_id, "agent-a", [(3, "step_finished", "s", "", '{"exit_status": 0}')])
    assert [o.kind for o in records.output_of(engine, run_id)] == ["step_started", "lines", "step_finished"]
    assert [o.seq for o in records.output_of(engine, run_id, after_seq=2)] == [3]


def test_cancelling_a_queued_run_ends_it_and_a_running_one_waits_for_its_agent(engine) -> None:  # type: ignore[no-untyped-def]
    queued = records.create(engine, _request())
    assert records.request_cancel(engine, queued, "li.wei")
    row = records.get(engine, queued)
    assert row.status == "cancelled" and "li.wei" in row.error
    running = records.create(engine, _request())
    records.mark_sent(engine, running)
    assert records.request_cancel(engine, running, "li.wei")
    assert not records.request_cancel(engine, running, "someone else")  # asked once
    assert [r.run_id for r in records.cancels_requested(engine)] == [running]
    assert records.get(engine, running).status == "sent"


def test_runs_of_a_vanished_agent_are_lost_and_others_untouched(engine) -> None:  # type: ignore[no-untyped-def]
    mine = records.create(engine, _request())
    other = records.create(engine, _request(agent_id="agent-b"))
    for run_id in (mine, other):
        records.mark_sent(engine, run_id)
    assert records.end_active(engine, "agent agent-a disconnected during the run", "agent-a") == 1
    assert records.get(engine, mine).status == "lost"
    assert records.get(engine, other).status == "sent"
    with pytest.raises(ValueError):
        records.finish(engine, other, "weird")
