"""Nothing lost: outages, kills and a torn buffer file, with real processes on 127.0.0.1.

Every poll of the host poller yields exactly one `vigil_poll_up` point, so
the record is complete when those points have no gap wider than the poll
interval (except where the agent itself was down) and no duplicates.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from collector.store import database, queries, schema
from tests.e2e.test_end_to_end import _agent_row, agent_yaml, collector_yaml
from tests.peers.vigil import Agent, Collector, wait_until

pytestmark = pytest.mark.integration
HOST = "host-agent-a"


def _fast_agent(pki: Path, port: int) -> str:
    return agent_yaml(pki, port, "agent-a").replace("interval: 300ms", "interval: 1s").replace("max_delay: 300ms", "max_delay: 1s")


def _collector_again(folder: Path, pki: Path, port: int) -> Collector:
    """The collector started again on its store and its port (the agent's address stays right)."""
    return Collector(folder, collector_yaml(pki).replace("127.0.0.1:0", f"127.0.0.1:{port}"))


def _wait_for_batches(engine, count: int, what: str) -> None:  # type: ignore[no-untyped-def]
    wait_until(lambda: (r := _agent_row(engine, "agent-a")) and r.last_seq >= count, 30, what)


def _poll_times(engine) -> list[int]:  # type: ignore[no-untyped-def]
    series = queries.series_of(engine, "agent-a", HOST, "vigil_poll_up")
    if not series:
        return []
    sid = series[0].series_id
    ts, _ = queries.raw_points(engine, "agent-a", {sid}, 0, int(time.time() * 1000) + 60_000)[sid]
    return ts


def _assert_exactly_once(engine, allowed_gaps: list[tuple[int, int]] = ()) -> list[int]:  # type: ignore[no-untyped-def,assignment]
    """Every batch stored once, every poll stored once, no gap but the allowed ones."""
    with engine.connect() as c:
        seqs = [s for (s,) in c.execute(select(schema.point_blocks.c.seq).where(schema.point_blocks.c.agent_id == "agent-a"))]
        stored = c.execute(select(func.sum(schema.point_blocks.c.n_points))).scalar()
    assert len(seqs) == len(set(seqs)), "a batch was stored twice"
    assert _agent_row(engine, "agent-a").points_stored == stored
    times = _poll_times(engine)
    assert len(times) == len(set(times)), "a poll was stored twice"
    for before, after in zip(times, times[1:]):
        if after - before > 1600 and not any(lo <= before and after <= hi for lo, hi in allowed_gaps):
            raise AssertionError(f"{after - before} ms without a poll between {before} and {after}: points were lost")
    return times


def test_collector_down_for_60_s_loses_nothing(tmp_path: Path, pki: Path) -> None:
    folder = tmp_path / "collector"
    collector = Collector(folder, collector_yaml(pki))
    port = collector.port
    agent = Agent(tmp_path / "agent", _fast_agent(pki, port))
    engine = database.connect(f"sqlite:///{folder / 'vigil.db'}")
    try:
        _wait_for_batches(engine, 3, "first batches")
        assert collector.stop() == 0
        down_at = time.time()
        time.sleep(60)
        collector = _collector_again(folder, pki, port)
        # Reconnect backoff is capped at 1 s: gRPC's own (shared, up to 120 s) must not stack on it.
        wait_until(lambda: agent.output().count("connected to collector") >= 2, 5, "the agent to reconnect within 5 s")
        wait_until(lambda: len([t for t in _poll_times(engine) if t > (down_at + 58) * 1000]) >= 3, 60, "polls after the outage")
        times = _assert_exactly_once(engine)
        during = [t for t in times if down_at * 1000 < t < (down_at + 60) * 1000]
        assert len(during) >= 58, f"only {len(during)} of ~60 polls of the outage were delivered"
        assert "reconnecting" in agent.output()
    finally:
        agent.stop()
        collector.stop()
        engine.dispose()


def test_agent_killed_and_restarted_loses_and_doubles_nothing(tmp_path: Path, pki: Path) -> None:
    collector = Collector(tmp_path / "collector", collector_yaml(pki))
    engine = database.connect(f"sqlite:///{collector.config_path.parent / 'vigil.db'}")
    config = _fast_agent(pki, collector.port)
    agent = Agent(tmp_path / "agent", config)
    try:
        _wait_for_batches(engine, 4, "batches before the kill")
        acked_before = _agent_row(engine, "agent-a").points_stored
        agent.process.send_signal(signal.SIGKILL)
        agent.process.wait(10)
        killed_at = time.time() * 1000
        agent.stop()
        agent = Agent(tmp_path / "agent", config)  # same state directory
        wait_until(lambda: len([t for t in _poll_times(engine) if t > killed_at]) >= 4, 30, "polls after the restart")
        restarted_at = time.time() * 1000
        _assert_exactly_once(engine, allowed_gaps=[(killed_at - 2000, restarted_at)])
        assert _agent_row(engine, "agent-a").points_stored > acked_before
    finally:
        agent.stop()
        collector.stop()
        engine.dispose()


def test_torn_buffer_file_is_reported_and_the_rest_delivered(tmp_path: Path, pki: Path) -> None:
    folder = tmp_path / "collector"
    collector = Collector(folder, collector_yaml(pki))
    port = collector.port
    engine = database.connect(f"sqlite:///{folder / 'vigil.db'}")
    config = _fast_agent(pki, port)
    agent = Agent(tmp_path / "agent", config)
    try:
        _wait_for_batches(engine, 2, "first batches")
        assert collector.stop() == 0
        buffer = tmp_path / "agent" / "state" / "buffer"
        wait_until(lambda: sum(p.stat().st_size for p in buffer.glob("*.seg")) > 20_000, 30, "a backlog on disk")
        agent.process.send_signal(signal.SIGKILL)  # a power cut: no clean shutdown
        agent.process.wait(10)
        agent.stop()
        segment = max(buffer.glob("*.seg"), key=lambda p: p.stat().st_size)
        size = segment.stat().st_size
        with open(segment, "r+b") as f:  # cut the last record in half
            f.truncate(size - 300)
            os.fsync(f.fileno())
        stored_before = _agent_row(engine, "agent-a").points_stored

        collector = _collector_again(folder, pki, port)
        agent = Agent(tmp_path / "agent", config)
        wait_until(lambda: "is damaged at byte" in agent.output(), 20, "the damage to be reported")
        assert segment.name in agent.output()
        assert list((buffer / "damaged").glob(f"{segment.stem}.at-*.bad")), "the damaged tail was not kept aside"
        wait_until(lambda: _agent_row(engine, "agent-a").points_stored > stored_before + 1000, 30, "the intact backlog delivered")
        assert agent.alive()
        _assert_exactly_once(engine, allowed_gaps=[(0, int(time.time() * 1000))])
    finally:
        agent.stop()
        collector.stop()
        engine.dispose()


def test_flapping_link_loses_and_doubles_nothing(tmp_path: Path, pki: Path) -> None:
    from tests.peers.proxy import FlakyLink

    collector = Collector(tmp_path / "collector", collector_yaml(pki))
    link = FlakyLink(collector.port)
    engine = database.connect(f"sqlite:///{collector.config_path.parent / 'vigil.db'}")
    agent = Agent(tmp_path / "agent", agent_yaml(pki, link.port, "agent-a"))  # polls every 300 ms
    try:
        _wait_for_batches(engine, 2, "first batches")
        started = time.time() * 1000
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # cut the link every 2.5 s for 30 s
            time.sleep(2.5)
            link.cut()
        cut_end = time.time() * 1000
        wait_until(lambda: len([t for t in _poll_times(engine) if t > cut_end]) >= 5, 30, "polls after the flapping")
        times = _assert_exactly_once(engine)
        during = [t for t in times if started <= t <= cut_end]
        assert len(during) >= (cut_end - started) / 300 * 0.9, f"only {len(during)} polls of the flapping period arrived"
        assert link.cuts >= 10 and agent.output().count("connected to collector") >= 5
    finally:
        agent.stop()
        link.close()
        collector.stop()
        engine.dispose()


def test_collector_killed_mid_stream_leaves_no_duplicate_and_no_hole(tmp_path: Path, pki: Path) -> None:
    """SIGKILL at arbitrary moments, several times: by timing, some fall between a commit and its ack."""
    folder = tmp_path / "collector"
    collector = Collector(folder, collector_yaml(pki))
    port = collector.port
    engine = database.connect(f"sqlite:///{folder / 'vigil.db'}")
    config = agent_yaml(pki, port, "agent-a").replace("interval: 300ms", "interval: 100ms").replace(
        "max_delay: 300ms", "max_delay: 100ms"
    )
    agent = Agent(tmp_path / "agent", config)
    try:
        _wait_for_batches(engine, 5, "first batches")
        for delay in (0.35, 0.8, 1.3, 0.55):
            time.sleep(delay)
            collector.process.send_signal(signal.SIGKILL)
            collector.process.wait(10)
            collector.stop()
            collector = _collector_again(folder, pki, port)
        end = time.time() * 1000
        wait_until(lambda: len([t for t in _poll_times(engine) if t > end + 2000]) >= 5, 30, "polls after the last kill")
        _assert_exactly_once(engine)
        assert "reconnecting" in agent.output()
    finally:
        agent.stop()
        collector.stop()
        engine.dispose()


def _rss_kib(pid: int) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_full_buffer_drops_oldest_reports_the_loss_and_memory_stays_flat(tmp_path: Path, pki: Path) -> None:
    folder = tmp_path / "collector"
    collector = Collector(folder, collector_yaml(pki))
    port = collector.port
    engine = database.connect(f"sqlite:///{folder / 'vigil.db'}")
    config = (
        agent_yaml(pki, port, "agent-a").replace("interval: 300ms", "interval: 100ms").replace("max_delay: 300ms", "max_delay: 100ms")
        + "buffer: {max_bytes: 64KiB, segment_bytes: 16KiB}\n"
    )
    agent = Agent(tmp_path / "agent", config)
    try:
        _wait_for_batches(engine, 3, "first batches")
        assert collector.stop() == 0
        rss_at_start = _rss_kib(agent.process.pid)
        wait_until(lambda: "buffer full: dropped batch" in agent.output(), 30, "the buffer to overflow")
        time.sleep(5)  # keep overflowing for a while
        rss_growth_mib = (_rss_kib(agent.process.pid) - rss_at_start) / 1024
        assert rss_growth_mib < 3, f"the agent's memory grew by {rss_growth_mib:.1f} MiB during the outage"
        buffer_bytes = sum(p.stat().st_size for p in (tmp_path / "agent" / "state" / "buffer").glob("*.seg"))
        assert buffer_bytes <= 64 * 1024 + 16 * 1024, f"{buffer_bytes} bytes buffered, over the limit"

        collector = _collector_again(folder, pki, port)
        row = wait_until(lambda: (r := _agent_row(engine, "agent-a")) and r.dropped_points > 0 and r, 60, "the loss reported")
        assert row.dropped_from_ms and row.dropped_to_ms > row.dropped_from_ms
        from tests.e2e.test_end_to_end import vigil_cli

        shown = vigil_cli("--db", f"sqlite:///{folder / 'vigil.db'}", "agents")
        assert f"{row.dropped_points:,}" in shown.stdout and "UTC)" in shown.stdout, shown.stdout
        dropped_series = queries.series_of(engine, "agent-a", HOST, "vigil_buffer_dropped_points_total")
        assert dropped_series, "the loss is not among the agent's own metrics"
        # The store has a hole exactly where the agent says it dropped data, and none elsewhere.
        _assert_exactly_once(engine, allowed_gaps=[(row.dropped_from_ms - 1500, row.dropped_to_ms + 1500)])
    finally:
        agent.stop()
        collector.stop()
        engine.dispose()


def test_live_data_is_not_stuck_behind_a_replay(tmp_path: Path, pki: Path) -> None:
    folder = tmp_path / "collector"
    collector = Collector(folder, collector_yaml(pki))
    port = collector.port
    engine = database.connect(f"sqlite:///{folder / 'vigil.db'}")
    config = (
        agent_yaml(pki, port, "agent-a").replace("interval: 300ms", "interval: 100ms").replace("max_delay: 300ms", "max_delay: 100ms")
        .replace("  reconnect:", "  max_in_flight_batches: 2\n  reconnect:")
    )
    agent = Agent(tmp_path / "agent", config)
    try:
        _wait_for_batches(engine, 3, "first batches")
        assert collector.stop() == 0
        time.sleep(20)  # ~200 batches of backlog
        collector = _collector_again(folder, pki, port)
        line = wait_until(lambda: [l for l in agent.output().splitlines() if "replaying" in l], 30, "the replay to start")[-1]
        live_from = int(line.rsplit("batches from ", 1)[1].split()[0])
        restarted = time.time() * 1000
        wait_until(lambda: len([t for t in _poll_times(engine) if t > restarted + 3000]) >= 5, 30, "live polls after the replay")
        blocks = schema.point_blocks
        with engine.connect() as c:
            rows = c.execute(select(blocks.c.block_id, blocks.c.seq).order_by(blocks.c.block_id)).all()
        first_session = max(r.seq for r in rows if r.block_id <= 3)
        replayed = [r.block_id for r in rows if first_session < r.seq < live_from]
        live = [r.block_id for r in rows if r.seq >= live_from]
        assert len(replayed) > 100 and live
        assert min(live) < max(replayed), (
            f"every live batch waited for the whole replay ({len(replayed)} batches, last stored as block {max(replayed)}; "
            f"first live batch stored as block {min(live)})"
        )
        _assert_exactly_once(engine)
    finally:
        agent.stop()
        collector.stop()
        engine.dispose()


def test_reinstalled_agent_with_a_new_state_directory_is_not_mistaken_for_resends(tmp_path: Path, pki: Path) -> None:
    import shutil

    collector = Collector(tmp_path / "collector", collector_yaml(pki))
    engine = database.connect(f"sqlite:///{collector.config_path.parent / 'vigil.db'}")
    config = _fast_agent(pki, collector.port)
    agent = Agent(tmp_path / "agent", config)
    try:
        _wait_for_batches(engine, 5, "first batches")
        assert agent.stop() == 0
        shutil.rmtree(tmp_path / "agent" / "state")  # the site's box was reinstalled
        reinstalled = time.time() * 1000
        agent = Agent(tmp_path / "agent", config)
        wait_until(lambda: len([t for t in _poll_times(engine) if t > reinstalled]) >= 4, 30, "data from the reinstalled agent")
        _assert_exactly_once(engine, allowed_gaps=[(reinstalled - 3000, reinstalled + 3000)])
    finally:
        agent.stop()
        collector.stop()
        engine.dispose()
