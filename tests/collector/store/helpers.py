"""Build decoded batches for store tests without a network."""

from __future__ import annotations

from collections.abc import Sequence

from collector.decode import DecodedBatch, SeriesChecker, decode
from protos import serieskey
from protos.vigil.v1 import agent_pb2 as pb

T0 = 1_790_000_000_000 - 1_790_000_000_000 % 3_600_000  # an hour boundary in 2026


def batch(
    agent_id: str,
    seq: int,
    series: Sequence[tuple[str, str, dict[str, str], Sequence[int], Sequence[float]]],
    events: Sequence[pb.Event] = (),
    now_ms: int = T0 + 86_400_000,
) -> DecodedBatch:
    """series: (device, metric, labels, timestamps_ms, values)."""
    message = pb.MetricBatch(seq=seq, events=events)
    devices = {event.device for event in events}
    for device, metric, labels, ts, values in series:
        serieskey.add_series(message, device, metric, tuple(sorted(labels.items())), ts, values)
        devices.add(device)
    return decode(agent_id, message, SeriesChecker(devices), now_ms=now_ms)


def hello(agent_id: str, *devices: str) -> pb.Hello:
    h = pb.Hello(agent_id=agent_id, customer="客户A", site="上海", agent_version="0.1.0", protocol="vigil.v1")
    for device in devices:
        h.devices.add(id=device, name=device, kind="switch", labels={"rack": "A1"})
    return h
