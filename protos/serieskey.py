"""Series keys and the columnar MetricBatch: how both sides of the contract write and read them.

A series key is `device NUL metric [NUL label_key NUL label_value]...`, labels
sorted by key. One string per series lets the collector check a series once
per stream and then recognise it by a dict lookup on a string whose hash
Python caches, instead of walking a message per series (see agent.proto).
NUL cannot occur in a device id, a metric name or a label key (their
patterns forbid it); in a label value, which may come from a device
(an SNMP ifAlias), it is replaced by U+FFFD.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from protos.vigil.v1 import agent_pb2 as pb

SEP = "\0"
Labels = tuple[tuple[str, str], ...]


def join(device: str, metric: str, labels: Labels = ()) -> str:
    """The key of a series; `labels` must already be sorted by key."""
    if not labels:
        return f"{device}{SEP}{metric}"
    parts = [device, metric]
    for key, value in labels:
        parts.append(key)
        parts.append(value.replace(SEP, "\ufffd") if SEP in value else value)
    return SEP.join(parts)


def split(key: str) -> tuple[str, str, Labels]:
    """(device, metric, labels) of a key; raises ValueError when the parts do not pair up."""
    parts = key.split(SEP)
    if len(parts) < 2 or len(parts) % 2:
        raise ValueError("a series key is device, metric, then label key/value pairs, separated by NUL")
    return parts[0], parts[1], tuple(zip(parts[2::2], parts[3::2]))


def add_series(
    batch: pb.MetricBatch,
    device: str,
    metric: str,
    labels: Labels,
    timestamps_ms: Sequence[int],
    values: Sequence[float],
) -> None:
    """Append one series to a batch (tests, tools and benchmarks; the agent's batcher fills the columns directly)."""
    batch.series_keys.append(join(device, metric, labels))
    batch.point_counts.append(len(timestamps_ms))
    batch.timestamps_ms.extend(timestamps_ms)
    batch.values.extend(values)


def iter_series(batch: pb.MetricBatch) -> Iterator[tuple[str, str, Labels, list[int], list[float]]]:
    """(device, metric, labels, timestamps, values) per series, for readers that want them one by one."""
    timestamps, values = list(batch.timestamps_ms), list(batch.values)
    start = 0
    for key, count in zip(batch.series_keys, batch.point_counts):
        device, metric, labels = split(key)
        yield device, metric, labels, timestamps[start : start + count], values[start : start + count]
        start += count
