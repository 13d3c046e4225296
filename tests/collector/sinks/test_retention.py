"""Raw retention waits for lagging sinks — up to a limit, after which the loss is counted; `vigil status` shows it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from collector.cli import table
from collector.cli.main import main
from collector.sinks import outbox
from collector.sinks.outbox import DeadLetter, Outbox, forget_unconfigured, points_cursor
from collector.store import rollup, schema
from tests.collector.sinks.conftest import open_store, write
from tests.collector.store.helpers import T0

DAY = 86_400_000


def _blocks(engine) -> list[int]:  # type: ignore[no-untyped-def]
    with engine.connect() as c:
        return list(c.execute(select(schema.point_blocks.c.block_id).order_by(schema.point_blocks.c.block_id)).scalars())


def _store(url: str):  # type: ignore[no-untyped-def]
    engine, writer = open_store(url)
    for seq in (1, 2, 3):
        write(writer, "a1", seq, [("host-1", "mem_used_percent", {}, [T0 + seq * 1000, T0 + seq * 1000 + 500], [1.0, 2.0])])
    rollup.roll_up(engine)
    return engine


def _sent_up_to(engine, sink: str, block: int) -> None:  # type: ignore[no-untyped-def]
    box = Outbox(engine, sink, 10)
    box.commit(outbox.OutboxBatch(start=(0, 0), end=(block, 0)), [])


def test_blocks_a_sink_has_not_sent_are_kept_past_retention_then_counted_as_lost(store_url: str) -> None:
    engine = _store(store_url)
    _sent_up_to(engine, "lagging", 1)
    _sent_up_to(engine, "punctual", 3)
    assert rollup.expire(engine, T0 + 15 * DAY, 14 * DAY, 800 * DAY)[0] == 1  # block 1: sent by both
    assert _blocks(engine) == [2, 3]
    assert outbox.status(engine, "lagging").unsent_points == 4 and outbox.status(engine, "punctual").unsent_points == 0
    with engine.connect() as c:
        assert not c.execute(select(schema.sink_dead_letters)).all()

    assert rollup.expire(engine, T0 + 22 * DAY, 14 * DAY, 800 * DAY, unsent_hold_ms=7 * DAY)[0] == 2  # past the hold
    assert _blocks(engine) == []
    with engine.connect() as c:
        [lost] = c.execute(select(schema.sink_dead_letters)).all()
    assert (lost.sink, lost.status, lost.points, lost.line) == ("lagging", 0, 4, "")
    assert "raw retention deleted 2 blocks (4 points from 2026-09-21 " in lost.reason and "before this sink sent them" in lost.reason
    assert outbox.status(engine, "lagging").dead_letter_points == 4
    engine.dispose()


def test_a_sink_no_longer_configured_stops_holding_blocks(store_url: str) -> None:
    engine = _store(store_url)
    _sent_up_to(engine, "kept", 3)
    _sent_up_to(engine, "removed", 1)
    with engine.begin() as c:  # it has a dead letter from earlier, which stays as a record
        c.execute(schema.sink_dead_letters.insert().values(sink="removed", at_ms=T0, status=400, reason="bad", line="x 1"))
    assert forget_unconfigured(engine, ["kept"]) == ["removed"]
    assert forget_unconfigured(engine, ["kept"]) == []
    assert outbox.known_sinks(engine) == ["kept", "removed"]
    rollup.expire(engine, T0 + 15 * DAY, 14 * DAY, 800 * DAY)
    assert _blocks(engine) == []
    engine.dispose()


def test_vigil_status_shows_agents_intake_sinks_and_dead_letters(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    engine = _store(store_url)
    _sent_up_to(engine, "influx-main", 1)
    Outbox(engine, "influx-main", 10).commit(
        outbox.OutboxBatch(start=(1, 0), end=(1, 0)),
        [DeadLetter(422, 'HTTP 422: partial write: field type conflict: input field "uptime" on measurement "system"',
                    "system,host=h uptime=5i 1790000000000")],
    )
    assert main(["--db", store_url, "status"]) == 0
    out = capsys.readouterr().out
    assert "AGENTS CONNECTED" in out and "1 of 1" in out  # registered by its Hello, not disconnected yet
    lines = out.splitlines()
    row = next(line for line in lines if line.startswith("influx-main "))
    assert "block 1" in row and " 4 " in row and "1 (1 rows)" in row
    assert table.utc(T0 + 2000) in row  # the oldest unsent point
    assert any("422" in line and "field type conflict" in line and "system,host=h" in line for line in lines)
    with engine.connect() as c:
        assert c.execute(select(schema.cursors.c.position).where(schema.cursors.c.name == points_cursor("influx-main"))).scalar() == 1
    engine.dispose()


def test_vigil_status_without_sinks_says_so(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'vigil.db'}"
    open_store(url)[0].dispose()
    assert main(["--db", url, "status"]) == 0
    assert "No metric sinks configured" in capsys.readouterr().out
