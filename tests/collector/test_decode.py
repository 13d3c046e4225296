"""A malformed batch is refused whole, with the agent, batch, series and problem named."""

from __future__ import annotations

import re

import pytest

from collector.decode import BatchError, ContractError, check_hello, decode
from protos.vigil.v1 import agent_pb2 as pb

NOW = 1_790_000_000_000


def _batch(**series_fields) -> pb.MetricBatch:  # type: ignore[no-untyped-def]
    fields = {"device": "sw1", "metric": "cpu_usage_percent", "timestamps_ms": [NOW - 2000, NOW - 1000], "values": [1.0, 2.0]}
    fields.update(series_fields)
    labels = fields.pop("labels", [])
    batch = pb.MetricBatch(seq=5)
    series = batch.series.add(**fields)
    for key, value in labels:
        series.labels.add(key=key, value=value)
    return batch


def test_a_good_batch_flattens_into_arrays() -> None:
    batch = _batch(labels=[("cpu", "cpu0"), ("host", "h")])
    batch.series.add(device="sw1", metric="mem_used_percent", timestamps_ms=[NOW], values=[40.0])
    decoded = decode("a1", batch, {"sw1"}, NOW)
    assert decoded.keys == [("sw1", "cpu_usage_percent", (("cpu", "cpu0"), ("host", "h"))), ("sw1", "mem_used_percent", ())]
    assert list(decoded.counts) == [2, 1]
    assert list(decoded.values) == [1.0, 2.0, 40.0]
    assert (decoded.min_ts_ms, decoded.max_ts_ms, decoded.points) == (NOW - 2000, NOW, 3)


@pytest.mark.parametrize(
    ("fields", "devices", "message"),
    [
        ({}, {"other"}, "device 'sw1' was not declared in the hello"),
        ({"metric": "cpu usage"}, {"sw1"}, "metric name must match"),
        ({"metric": ""}, {"sw1"}, "metric name must match"),
        ({"values": [1.0]}, {"sw1"}, "2 timestamps but 1 values"),
        ({"timestamps_ms": [], "values": []}, {"sw1"}, "no points"),
        ({"timestamps_ms": [NOW, NOW - 5, NOW - 1], "values": [1.0, 2.0, 3.0]}, {"sw1"}, "not in ascending order"),
        ({"timestamps_ms": [5, 6]}, {"sw1"}, "implausible"),
        ({"timestamps_ms": [NOW, NOW + 10 * 86_400_000]}, {"sw1"}, "implausible"),
        ({"labels": [("b", "1"), ("a", "2")]}, {"sw1"}, "unique and sorted"),
        ({"labels": [("a", "1"), ("a", "2")]}, {"sw1"}, "unique and sorted"),
        ({"labels": [("bad key", "1")]}, {"sw1"}, "label key 'bad key'"),
        ({"labels": [("k", "x" * 600)]}, {"sw1"}, "longer than 512"),
    ],
)
def test_malformed_series_are_named(fields, devices, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BatchError) as error:
        decode("agent-7", _batch(**fields), devices, NOW)
    text = str(error.value)
    assert text.startswith("agent agent-7: batch 5: series[0] (sw1/")
    assert message in text


def test_empty_batch_and_zero_seq_are_refused() -> None:
    with pytest.raises(BatchError, match="no series"):
        decode("a1", pb.MetricBatch(seq=1), {"sw1"}, NOW)
    batch = _batch()
    batch.seq = 0
    with pytest.raises(BatchError, match="seq must be 1 or more"):
        decode("a1", batch, {"sw1"}, NOW)


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
