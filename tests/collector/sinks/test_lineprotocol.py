"""Line protocol as the sink writes it: escaping, exact floats, integers, precision, what cannot be written."""

from __future__ import annotations

import math
from array import array
from types import SimpleNamespace

import pytest

from collector.sinks import Lines, Rejected, RetryLater, TooLarge, text_of
from collector.sinks.influxdb import classify, measurement_and_field, retry_after_seconds
from collector.sinks.lineprotocol import LineEncoder, escape_key, escape_measurement, escape_string, prefix, timestamp_text
from collector.sinks.outbox import OutboxBatch, SeriesMeta
from collector.store.blocks import Block
from tests.collector.sinks.standin import parse_line, split_unescaped

T = 1_790_000_000_123


def test_escaping_follows_the_line_protocol_reference() -> None:
    assert escape_measurement("disk io,x=1") == "disk\\ io\\,x=1"  # "=" needs no escape in a measurement
    assert escape_key("a b,c=d") == "a\\ b\\,c\\=d"
    assert escape_key("C:\\ Label") == "C:\\\\\\ Label"
    assert escape_key("ends with\\") == "ends\\ with\\\\"  # else the backslash would escape what follows
    assert escape_key("two\nlines\tand\rmore") == "two\\nlines\\tand\\rmore"  # no escape exists for a newline: as Telegraf
    assert escape_string('say "hi" \\ bye') == 'say \\"hi\\" \\\\ bye'
    assert escape_key("核心交换机") == "核心交换机"


def test_a_prefix_sorts_nothing_itself_but_drops_empty_tags() -> None:
    assert prefix("cpu", [("agent", "a1"), ("alias", ""), ("cpu", "cpu-total")], "usage_user") == "cpu,agent=a1,cpu=cpu-total usage_user="


def _batch(series: dict[int, SeriesMeta], blocks: list[Block]) -> OutboxBatch:
    rows = [SimpleNamespace(block_id=i + 1, received_ms=T, **b.pack()) for i, b in enumerate(blocks)]
    return OutboxBatch(start=(0, 0), end=(len(blocks), 0), blocks=rows, series=series)  # type: ignore[arg-type]


def _meta(metric: str, labels: tuple[tuple[str, str], ...] = (), device: str = "host-1") -> SeriesMeta:
    return SeriesMeta("a1", device, metric, labels, "ACME", "SH", "", False)


HARD_FLOATS = [0.1 + 0.2, 1 / 3, 5e-324, 1.7976931348623157e308, -0.0, 1e16, 123456789012345678.0, 2.5e-8, 100.0]


def test_every_float64_is_written_so_that_it_reads_back_bit_for_bit() -> None:
    block = Block(array("q", [1]), array("i", [len(HARD_FLOATS)]), array("q", [T + i for i in range(len(HARD_FLOATS))]), array("d", HARD_FLOATS))
    lines = [r.decode() for r in LineEncoder().encode(_batch({1: _meta("vigil_poll_duration_seconds")}, [block])).records]
    assert len(lines) == len(HARD_FLOATS)
    for line, value in zip(lines, HARD_FLOATS):
        text = line.rsplit(" ", 2)[1].removeprefix("poll_duration_seconds=")
        assert float(text).hex() == value.hex(), line
        parse_line(line)  # and InfluxDB's grammar takes it


def test_nan_and_infinity_are_left_out_and_counted() -> None:
    block = Block(array("q", [1, 2]), array("i", [3, 1]), array("q", [T, T + 1, T + 2, T]), array("d", [1.0, math.nan, -math.inf, 5.0]))
    encoded = LineEncoder().encode(_batch({1: _meta("cpu_user_percent", (("cpu", "cpu-total"),)), 2: _meta("mem_total_bytes")}, [block]))
    assert encoded.skipped == 2
    assert encoded.records == [
        f"cpu,agent=a1,cpu=cpu-total,customer=ACME,device=host-1,host=host-1,site=SH usage_user=1.0 {T}".encode(),
        f"mem,agent=a1,customer=ACME,device=host-1,host=host-1,site=SH total=5i {T}".encode(),
    ]


def _line_by_line(encoder: LineEncoder, series: dict[int, SeriesMeta], block: Block) -> list[bytes]:
    """The plain way to write a block: prefix, repr() or int(), timestamp, one point at a time."""
    lines = []
    values, stamps = block.values.tolist(), block.timestamps.tolist()
    for series_id, start, end in block.segments():
        if series_id not in series:
            continue
        head, integer = encoder.series_prefix(series[series_id])
        for v, t in zip(values[start:end], stamps[start:end]):
            if math.isfinite(v):
                stamp = timestamp_text(t, encoder.precision)
                lines.append(head + (f"{int(v)}i" if integer else repr(v)).encode() + f" {stamp}".encode())
    return lines


@pytest.mark.parametrize("precision", ["ms", "s", "ns"])
def test_a_block_formatted_at_once_is_the_block_written_line_by_line(precision: str) -> None:
    import random

    rng = random.Random(7)
    metrics = ["cpu_user_percent", "mem_total_bytes", "system_uptime_seconds", "net_oper_up", "odd%metric_100%d"]
    series = {
        i: _meta(metrics[i % len(metrics)], (("interface", f"Gi 1/0/{i} 50%s"), ("alias", "客户,=专线")), device=f"sw %d-{i}")
        for i in range(1, 40)
    }
    encoder = LineEncoder(precision)
    for finite in (True, False, True):  # a NaN anywhere sends the block the slow way; the cache is warm the second time
        ids = rng.sample(range(1, 43), 20)  # 40, 41, 42: no series row
        counts = [rng.randint(0, 6) for _ in ids]
        n = sum(counts)
        values = [rng.choice([rng.uniform(-1e9, 1e9), float(rng.randint(0, 10**12)), *HARD_FLOATS]) for _ in range(n)]
        if not finite:
            values[rng.randrange(n)] = math.nan
        block = Block(array("q", ids), array("i", counts), array("q", [T + rng.randint(0, 3) * 1000 for _ in range(n)]), array("d", values))
        encoded = encoder.encode(_batch(series, [block]))
        expected = _line_by_line(encoder, series, block)
        assert encoded.records == expected
        assert encoded.skipped == n - len(expected)
        assert [part.text for part in encoded.parts] == [b"\n".join(expected)]


def test_lines_are_split_only_when_a_record_is_asked_for() -> None:
    lines = Lines(b"a 1\nb 2\nc 3", 3)
    assert len(lines) == 3 and lines._records is None
    assert lines[1] == b"b 2" and lines[1:] == [b"b 2", b"c 3"] and list(lines) == [b"a 1", b"b 2", b"c 3"]
    assert Lines.join([lines, Lines(b"", 0), Lines.of([b"d 4"])]).text == b"a 1\nb 2\nc 3\nd 4"
    assert text_of([b"x 1", b"y 2"]) == b"x 1\ny 2" and text_of(lines) is lines.text


@pytest.mark.parametrize(("precision", "stamp"), [("ms", str(T)), ("s", str(T // 1000)), ("us", f"{T}000"), ("ns", f"{T}000000")])
def test_timestamps_in_the_configured_precision(precision: str, stamp: str) -> None:
    block = Block(array("q", [1]), array("i", [1]), array("q", [T]), array("d", [12345.9]))
    [line] = LineEncoder(precision).encode(_batch({1: _meta("system_uptime_seconds")}, [block])).records
    assert line.decode() == f"system,agent=a1,customer=ACME,device=host-1,host=host-1,site=SH uptime=12345i {stamp}"


def test_an_unknown_precision_is_refused() -> None:
    with pytest.raises(ValueError, match="precision"):
        LineEncoder("m")


def test_an_event_is_one_point_with_a_string_message() -> None:
    event = SimpleNamespace(source="snmp_trap", name="ups_on_battery", severity="critical", customer="ACME", site="SH",
                            agent_id="a1", device_id="", address=None, message="On battery\nsince 10:00 \"now\"", at_ms=T)
    assert LineEncoder().event_line(event) == (
        "vigil_event,agent=a1,customer=ACME,device=unknown,host=unknown,name=ups_on_battery,severity=critical,site=SH,"
        f'source=snmp_trap message="On battery\\nsince 10:00 \\"now\\"",severity_level=4i {T}'
    )


def test_the_sink_reads_measurement_and_field_back_from_its_own_lines() -> None:
    line = 'm\\ x\\,y,t\\ 1=a\\ b\\,c\\=d,u=e f\\=g\\ h=1.5 17'
    assert measurement_and_field(line) == ("m x,y", "f=g h")
    assert measurement_and_field("cpu usage=1 17") == ("cpu", "usage")
    assert split_unescaped(line, " ")[2] == "17"


class _Answer:
    """What influxdb-client hands to its exception: an HTTP answer."""

    def __init__(self, status: int, body: str, headers: dict[str, str] | None = None) -> None:
        self.status, self.reason, self.data = status, "reason", body
        self._headers = headers or {}

    def getheaders(self) -> dict[str, str]:
        return self._headers

    def getheader(self, name: str, default: str | None = None) -> str | None:
        return self._headers.get(name, default)


def _error(status: int, message: str, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    from influxdb_client.rest import ApiException

    return ApiException(http_resp=_Answer(status, '{"code":"x","message":' + __import__("json").dumps(message) + "}", headers))


def test_answers_become_what_to_do_next() -> None:
    lines = [b"cpu,host=a usage_user=1.0 1", b"mem,host=a total=1i 1", b"mem,host=b total=2i 1", b"system,host=a uptime=5i 1"]
    busy = classify(_error(429, "slow down", {"Retry-After": "7"}), lines)
    assert isinstance(busy, RetryLater) and busy.after_s == 7 and busy.status == 429 and not busy.config_problem
    assert classify(_error(503, "busy", {"Retry-After": "soon"}), lines).after_s is None  # type: ignore[union-attr]
    assert isinstance(classify(_error(413, "unable to read data: points batch is too large"), lines), TooLarge)
    named = classify(_error(400, f"unable to parse '{lines[1].decode()}': invalid number"), lines)
    assert isinstance(named, Rejected) and named.culprits == [1] and not named.rest_stored
    vague = classify(_error(400, "unable to parse points"), lines)
    assert isinstance(vague, Rejected) and vague.culprits is None
    conflict = classify(_error(422, 'partial write: field type conflict: input field "total" on measurement "mem" is type '
                                    "integer, already exists as type float dropped=2"), lines)
    assert isinstance(conflict, Rejected) and conflict.culprits == [1, 2] and conflict.rest_stored
    more = classify(_error(422, 'partial write: field type conflict: input field "total" on measurement "mem" is type '
                                "integer, already exists as type float dropped=3"), lines)
    assert isinstance(more, Rejected) and more.culprits == [1, 2] and not more.rest_stored  # one more is hidden: send the rest again
    retention = classify(_error(422, "partial write: points beyond retention policy dropped=1"), lines)
    assert isinstance(retention, Rejected) and retention.culprits is None
    for status in (401, 403, 404):
        refused = classify(_error(status, "unauthorized access"), lines)
        assert isinstance(refused, RetryLater) and refused.config_problem
    assert isinstance(classify(_error(500, "internal error"), lines), RetryLater)


def test_retry_after_in_seconds_or_as_a_date() -> None:
    import email.utils
    import time

    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds(None) is None and retry_after_seconds("later") is None
    assert 8 <= retry_after_seconds(email.utils.formatdate(time.time() + 10, usegmt=True)) <= 10  # type: ignore[operator]
    assert retry_after_seconds(email.utils.formatdate(time.time() - 10, usegmt=True)) == 0.0
    assert retry_after_seconds("86400") == 600.0  # capped: a misconfigured proxy must not stop a sink for a day
