"""A malformed batch is refused whole, with the agent, batch, series and problem named."""

from __future__ import annotations

import re

import pytest

from collector.decode import BatchError, ContractError, SeriesChecker, check_hello, decode
from protos import serieskey
from protos.vigil.v1 import agent_pb2 as pb

NOW = 1_790_000_000_000


def _batch(**series_fields) -> pb.MetricBatch:  # type: ignore[no-untyped-def]
    fields = {"device": "sw1", "metric": "cpu_usage_percent", "labels": (), "timestamps_ms": [NOW - 2000, NOW - 1000], "values": [1.0, 2.0]}
    fields.update(series_fields)
    batch = pb.MetricBatch(seq=5)
    serieskey.add_series(batch, **fields)
    return batch


def _decode(agent_id: str, batch: pb.MetricBatch, devices: set[str]):  # type: ignore[no-untyped-def]
    return decode(agent_id, batch, SeriesChecker(devices), NOW)


def test_a_good_batch_flattens_into_arrays() -> None:
    batch = _batch(labels=(("cpu", "cpu0"), ("host", "h")))
    serieskey.add_series(batch, "sw1", "mem_used_percent", (), [NOW], [40.0])
    decoded = _decode("a1", batch, {"sw1"})
    assert [serieskey.split(key) for key in decoded.keys] == [
        ("sw1", "cpu_usage_percent", (("cpu", "cpu0"), ("host", "h"))),
        ("sw1", "mem_used_percent", ()),
    ]
    assert list(decoded.counts) == [2, 1]
    assert list(decoded.values) == [1.0, 2.0, 40.0]
    assert (decoded.min_ts_ms, decoded.max_ts_ms, decoded.points) == (NOW - 2000, NOW, 3)


@pytest.mark.parametrize(
    ("fields", "devices", "message"),
    [
        ({}, {"other"}, "device 'sw1' was not declared in the hello"),
        ({"metric": "cpu usage"}, {"sw1"}, "metric name must match"),
        ({"metric": ""}, {"sw1"}, "metric name must match"),
        ({"timestamps_ms": [NOW, NOW - 5, NOW - 1], "values": [1.0, 2.0, 3.0]}, {"sw1"}, "not in ascending order"),
        ({"timestamps_ms": [NOW, NOW - 5], "values": [1.0, 2.0]}, {"sw1"}, "not in ascending order"),
        ({"timestamps_ms": [5, 6]}, {"sw1"}, "implausible"),
        ({"timestamps_ms": [NOW, NOW + 10 * 86_400_000]}, {"sw1"}, "implausible"),
        ({"labels": (("b", "1"), ("a", "2"))}, {"sw1"}, "unique and sorted"),
        ({"labels": (("a", "1"), ("a", "2"))}, {"sw1"}, "unique and sorted"),
        ({"labels": (("bad key", "1"),)}, {"sw1"}, "label key 'bad key'"),
        ({"labels": (("k", "x" * 600),)}, {"sw1"}, "longer than 512"),
    ],
)
def test_malformed_series_are_named(fields, devices, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BatchError) as error:
        _decode("agent-7", _batch(**fields), devices)
    text = str(error.value)
    assert text.startswith("agent agent-7: batch 5: series[0] (sw1/")
    assert message in text


def test_the_second_series_is_named_by_its_index() -> None:
    batch = _batch()
    serieskey.add_series(batch, "sw1", "mem_used_percent", (), [NOW - 1000, 7], [1.0, 2.0])
    with pytest.raises(BatchError, match=r"series\[1\] \(sw1/mem_used_percent\): timestamp 7 ms is implausible"):
        _decode("a1", batch, {"sw1"})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda b: b.values.pop(), "point counts add up to 2, but there are 2 timestamps and 1 values"),
        (lambda b: b.point_counts.append(1), "1 series keys but 2 point counts"),
        (lambda b: b.point_counts.__setitem__(0, 0), "series[0] (sw1/cpu_usage_percent): no points"),
        (lambda b: b.series_keys.__setitem__(0, "sw1"), "a series key is device, metric, then label key/value pairs"),
        (lambda b: b.series_keys.__setitem__(0, "sw1\0m\0k"), "a series key is device, metric, then label key/value pairs"),
    ],
)
def test_columns_that_do_not_line_up_are_refused(change, message) -> None:  # type: ignore[no-untyped-def]
    batch = _batch()
    change(batch)
    with pytest.raises(BatchError) as error:
        _decode("a1", batch, {"sw1"})
    assert message in str(error.value)


def test_a_stream_checks_a_key_once_and_still_refuses_a_new_bad_one() -> None:
    checker = SeriesChecker({"sw1"})
    assert decode("a1", _batch(), checker, NOW).points == 2
    assert decode("a1", _batch(), checker, NOW).points == 2  # the known key passes by lookup
    with pytest.raises(BatchError, match="device 'sw2' was not declared"):
        decode("a1", _batch(device="sw2"), checker, NOW)
    other_stream = SeriesChecker({"sw2"})
    with pytest.raises(BatchError, match="device 'sw1' was not declared"):
        decode("a2", _batch(), other_stream, NOW)


def test_a_nul_in_a_label_value_cannot_forge_another_label() -> None:
    key = serieskey.join("sw1", "net_up", (("alias", "uplink\0evil\0x"),))
    assert serieskey.split(key) == ("sw1", "net_up", (("alias", "uplink\ufffdevil\ufffdx"),))


def test_empty_batch_and_zero_seq_are_refused() -> None:
    with pytest.raises(BatchError, match="no series"):
        _decode("a1", pb.MetricBatch(seq=1), {"sw1"})
    batch = _batch()
    batch.seq = 0
    with pytest.raises(BatchError, match="seq must be 1 or more"):
        _decode("a1", batch, {"sw1"})


def _hello(**fields) -> pb.Hello:  # type: ignore[no-untyped-def]
    hello = pb.Hello(agent_id="a1", customer="客户A", site="上海", protocol="vigil.v1")
    for key, value in fields.items():
        setattr(hello, key, value)
    return hello


def test_a_good_hello_passes() -> None:
    hello = _hello()
    hello.devices.add(id="sw1", kind="switch", name="核心交换机")
    check_hello(hello)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda h: setattr(h, "agent_id", "a b"), "hello.agent_id 'a b' is not a valid id"),
        (lambda h: setattr(h, "agent_id", "a1\n"), "is not a valid id"),
        (lambda h: setattr(h, "customer", " "), "agent a1: hello.customer is required"),
        (lambda h: setattr(h, "site", "x" * 201), "agent a1: hello.site is longer than 200 characters"),
        (lambda h: h.devices.add(id="../etc", kind="switch"), "hello.devices[0].id '../etc' is not a valid id"),
        (lambda h: [h.devices.add(id="sw1", kind="switch") for _ in range(2)], "hello.devices[1].id 'sw1' is given twice"),
        (lambda h: h.devices.add(id="sw1", kind="k" * 21), "hello.devices[0].kind is longer than 20 characters"),
    ],
)
def test_a_bad_hello_names_the_field(change, message) -> None:  # type: ignore[no-untyped-def]
    hello = _hello()
    change(hello)
    with pytest.raises(ContractError, match=re.escape(message)):
        check_hello(hello)


def _event(**fields) -> pb.Event:  # type: ignore[no-untyped-def]
    values = {"device": "sw1", "at_ms": NOW, "source": "snmp_trap", "name": "link_down", "severity": "major", "message": "ge0/1 down"}
    values.update(fields)
    return pb.Event(**values)


def test_a_batch_of_events_only_decodes_with_their_time_range() -> None:
    batch = pb.MetricBatch(seq=3, events=[_event(at_ms=NOW - 10), _event(device="", name="cold_start", at_ms=NOW)])
    decoded = _decode("a1", batch, {"sw1"})
    assert (decoded.points, decoded.keys, decoded.min_ts_ms, decoded.max_ts_ms) == (0, [], NOW - 10, NOW)
    assert [(e.device, e.name) for e in decoded.events] == [("sw1", "link_down"), ("", "cold_start")]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"device": "sw9"}, "events[0]: device 'sw9' was not declared in the hello"),
        ({"name": "Link Down"}, "events[0]: name 'Link Down' must match"),
        ({"severity": "fatal"}, "events[0] (link_down): severity 'fatal' is not one of info, warning, minor, major, critical"),
        ({"at_ms": 5}, "events[0] (link_down): time 5 ms is implausible"),
        ({"message": "x" * 3000}, "message is longer than 2000 characters"),
        ({"attributes": {"bad key!": "v"}}, "attribute 'bad key!' needs a key matching"),
    ],
)
def test_malformed_events_are_named(fields, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BatchError) as error:
        _decode("a1", pb.MetricBatch(seq=3, events=[_event(**fields)]), {"sw1"})
    assert str(error.value).startswith("agent a1: batch 3: ")
    assert message in str(error.value)


def test_points_without_keys_are_refused() -> None:
    batch = pb.MetricBatch(seq=3, events=[_event()], timestamps_ms=[NOW], values=[1.0])
    with pytest.raises(BatchError, match="points without series keys"):
        _decode("a1", batch, {"sw1"})
