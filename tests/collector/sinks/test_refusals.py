"""What InfluxDB refuses: dead letters with its reason, splitting, Retry-After — the rest still flows.

VictoriaMetrics 1.79 answers 204 to every line (it skips what it cannot
parse) and is never overloaded on demand, so these tests put
`standin.InfluxStandIn` in front of it: it answers 400 / 413 / 422 / 429 /
503 with InfluxDB OSS 2.x's wording and semantics and forwards what it
stores to the real VictoriaMetrics, where every other point is read back.
"""

from __future__ import annotations

import email.utils
import logging
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from collector.sinks.outbox import points_cursor
from collector.store import schema
from tests.collector.sinks.conftest import drain, open_store, runner_for, sink_config, write
from tests.collector.sinks.standin import InfluxStandIn
from tests.collector.sinks.test_victoria import expected_points
from tests.collector.store.helpers import T0
from tests.peers.victoria import VictoriaMetrics

pytestmark = pytest.mark.integration


def _series(n: int, metric: str = "vigil_poll_duration_seconds") -> list:  # type: ignore[type-arg]
    return [("host-1", metric, {"poller": f"p{i:03d}"}, [T0 + k * 1000 for k in range(5)], [0.125 * (i + k) for k in range(5)])
            for i in range(n)]


def _dead(engine) -> list:  # type: ignore[no-untyped-def]
    with engine.connect() as c:
        rows = c.execute(select(schema.sink_dead_letters).order_by(schema.sink_dead_letters.c.dead_letter_id)).all()
    return rows


def _minus(points: list, names: set[str]) -> list:  # type: ignore[type-arg]
    return [p for p in points if p[0] not in names]


@pytest.mark.parametrize("names_the_line", [True, False], ids=["named", "found-by-splitting"])
def test_malformed_and_conflicting_lines_become_dead_letters_and_the_rest_flows(
    tmp_path: Path, victoria: VictoriaMetrics, names_the_line: bool
) -> None:
    engine, writer = open_store(f"sqlite:///{tmp_path / 'vigil.db'}")
    write(writer, "a1", 1, _series(20) + [
        # Telegraf writes uptime as an integer, and so does the sink; this bucket already holds it as a float.
        ("host-1", "system_uptime_seconds", {}, [T0, T0 + 1000], [100.0, 101.0]),
        # A broken device: 1e30 bytes does not fit InfluxDB's int64 field.
        ("host-1", "mem_total_bytes", {}, [T0, T0 + 1000], [1e30, 8e9]),
    ])
    with InfluxStandIn(upstream=victoria.url) as influx:
        influx.field_types[("system", "uptime")] = "float"
        if not names_the_line:  # an InfluxDB that does not quote the line: the sink must split to find it
            influx_answer = influx._answer

            def vague(lines, query, size):  # type: ignore[no-untyped-def]
                status, headers, text = influx_answer(lines, query, size)
                return (status, headers, '{"code":"invalid","message":"unable to parse points"}') if status == 400 else (status, headers, text)

            influx._answer = vague  # type: ignore[method-assign]
        runner = runner_for(engine, sink_config(influx.url, batch_points=50))
        drain(engine, runner)

    dead = sorted(_dead(engine), key=lambda d: (d.status, d.line))
    assert [(d.status, d.points) for d in dead] == [(400, 1), (422, 1), (422, 1)]
    assert dead[0].line.startswith("mem,") and " total=1000000000000000019884624838656i " in dead[0].line
    assert ("unable to parse '" + dead[0].line + "': value out of range") in dead[0].reason or not names_the_line
    assert {d.line.rsplit(" ", 2)[1] for d in dead[1:]} == {"uptime=100i", "uptime=101i"}
    assert 'field type conflict: input field "uptime" on measurement "system" is type integer, already exists as type float' in dead[1].reason
    # Everything else arrived, once.
    expected = [p for p in expected_points(engine, ("a1",)) if p[0] != "system_uptime" and not (p[0] == "mem_total" and p[2] > 1e20)]
    assert victoria.points() == expected
    assert len(expected) == 20 * 5 + 1
    requests = len(influx.seen)
    assert requests <= 4 if names_the_line else requests > 4  # named: 400, resend → 422 (partial), done


def test_too_large_requests_are_split_down_to_single_lines(tmp_path: Path, victoria: VictoriaMetrics) -> None:
    engine, writer = open_store(f"sqlite:///{tmp_path / 'vigil.db'}")
    huge = {f"label{i}": "x" * 500 for i in range(7)}
    write(writer, "a1", 1, _series(40) + [("host-1", "vigil_poll_up", huge, [T0], [1.0])])
    with InfluxStandIn(upstream=victoria.url) as influx:
        influx.max_bytes = 3000  # about 15 of these lines; the one with huge labels alone is larger
        runner = runner_for(engine, sink_config(influx.url, batch_points=200))
        drain(engine, runner)
    dead = _dead(engine)
    assert len(dead) == 1 and dead[0].status == 413 and "points batch is too large" in dead[0].reason
    assert "label0=" + "x" * 500 in dead[0].line
    assert victoria.points() == [p for p in expected_points(engine, ("a1",)) if p[0] != "vigil_poll_up"]
    sizes = [len(s.lines) for s in influx.seen]
    assert sizes[0] == 200 and max(len(s.lines) for s in influx.seen if s.status == 204) <= 15
    assert min(sizes) == 1


def test_overloaded_server_is_waited_for_as_retry_after_says(tmp_path: Path, victoria: VictoriaMetrics, caplog: pytest.LogCaptureFixture) -> None:
    """Stands in for an overloaded InfluxDB: 503 with Retry-After as an HTTP date, 429 in seconds, then a 401."""
    engine, writer = open_store(f"sqlite:///{tmp_path / 'vigil.db'}")
    write(writer, "a1", 1, _series(10))
    with InfluxStandIn(upstream=victoria.url) as influx:
        busy = '{"code":"too many requests","message":"org acme has exceeded its write rate limit"}'
        influx.script = [
            (503, {"Retry-After": email.utils.formatdate(time.time() + 2, usegmt=True)}, '{"code":"unavailable","message":"busy"}'),
            (429, {"Retry-After": "1"}, busy),
            (401, {}, '{"code":"unauthorized","message":"unauthorized access"}'),
        ]
        runner = runner_for(engine, sink_config(influx.url, max_retry_interval="200ms"))
        with caplog.at_level(logging.INFO, logger="vigil.collector.sinks"):
            drain(engine, runner)
    seen = influx.seen
    assert [s.status for s in seen] == [503, 429, 401, 204]
    assert seen[1].at - seen[0].at >= 0.95, "Retry-After as an HTTP date (2 s ahead, in whole seconds) was not honoured"
    assert seen[2].at - seen[1].at >= 0.95, "Retry-After: 1 was not honoured"
    assert seen[3].at - seen[2].at < 0.5, "after a 401 the backoff (capped at 200 ms here) applies"
    assert runner.retries == 3 and not _dead(engine)
    assert victoria.points() == expected_points(engine, ("a1",))
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "check the sink's token, org and bucket" in errors[0].getMessage()
    assert "s3cr3t-t0ken-value" not in caplog.text
    assert any("delivering again" in r.getMessage() for r in caplog.records)
    with engine.connect() as c:
        assert c.execute(select(schema.cursors.c.position).where(schema.cursors.c.name == points_cursor("influx"))).scalar() == 1
