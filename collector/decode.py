"""Check what an agent sends (Hello, MetricBatch) and flatten batches into packed arrays.

A malformed batch is refused whole, with a message that names the agent, the
batch, the series and what is wrong, because half-storing a batch would make
the agent's resend ambiguous. Checks are per series, not per point, except
the ordering check, which `sorted()` does in C.
"""

from __future__ import annotations

import math
import re
from array import array
from collections.abc import Callable
from dataclasses import dataclass

from protos.vigil.v1 import agent_pb2 as pb

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,199}")
_LABEL_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")
MAX_LABEL_VALUE = 512
# Timestamps outside [2000-01-01, now + 1 day] are a broken clock, not data.
MIN_TS_MS = 946_684_800_000
MAX_FUTURE_MS = 86_400_000

SeriesKey = tuple[str, str, tuple[tuple[str, str], ...]]

# Label sets already found valid: a site sends the same few thousand again and again.
_checked_labels: set[tuple[tuple[str, str], ...]] = set()
MAX_CHECKED_LABELS = 100_000


class ContractError(ValueError):
    """A message breaks the contract; `str()` names the agent, the field and the problem."""


class BatchError(ContractError):
    """The batch breaks the contract; `str()` says where and how."""


_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# Longest text the store keeps per Hello field (see store/schema.py).
_HELLO_LIMITS = {"customer": 200, "site": 200, "hostname": 255, "agent_version": 40, "protocol": 40}
_DEVICE_LIMITS = {"name": 200, "kind": 20, "address": 255, "platform": 40}


def check_hello(hello: pb.Hello) -> None:
    """Raise ContractError naming the first field of `hello` the collector cannot keep."""
    if not _ID.fullmatch(hello.agent_id):
        raise ContractError(f"hello.agent_id {hello.agent_id!r} is not a valid id")
    where = f"agent {hello.agent_id}: hello"
    for name in ("customer", "site"):
        if not getattr(hello, name).strip():
            raise ContractError(f"{where}.{name} is required")
    for name, limit in _HELLO_LIMITS.items():
        if len(getattr(hello, name)) > limit:
            raise ContractError(f"{where}.{name} is longer than {limit} characters")
    seen: set[str] = set()
    for index, device in enumerate(hello.devices):
        if not _ID.fullmatch(device.id):
            raise ContractError(f"{where}.devices[{index}].id {device.id!r} is not a valid id")
        if device.id in seen:
            raise ContractError(f"{where}.devices[{index}].id {device.id!r} is given twice")
        seen.add(device.id)
        for name, limit in _DEVICE_LIMITS.items():
            if len(getattr(device, name)) > limit:
                raise ContractError(f"{where}.devices[{index}].{name} is longer than {limit} characters")


@dataclass(slots=True)
class DecodedBatch:
    agent_id: str
    seq: int
    keys: list[SeriesKey]
    counts: array       # 'i', points per key
    timestamps: array   # 'q'
    values: array       # 'd'
    min_ts_ms: int
    max_ts_ms: int

    @property
    def points(self) -> int:
        return len(self.values)


def decode(agent_id: str, batch: pb.MetricBatch, devices: set[str], now_ms: int) -> DecodedBatch:
    """Validate `batch` from `agent_id`; raise BatchError naming the first problem."""
    where = f"agent {agent_id}: batch {batch.seq}"
    if batch.seq == 0:
        raise BatchError(f"{where}: seq must be 1 or more")
    if not batch.series:
        raise BatchError(f"{where}: no series")
    keys: list[SeriesKey] = []
    counts = array("i")
    timestamps = array("q")
    values = array("d")
    lowest, highest = math.inf, -math.inf
    max_ts = now_ms + MAX_FUTURE_MS
    for index, series in enumerate(batch.series):
        # The message is built only on failure: this loop runs for every series of every batch.
        def fail(problem: str) -> BatchError:
            return BatchError(f"{where}: series[{index}] ({series.device}/{series.metric}): {problem}")

        if series.device not in devices:
            raise fail(f"device {series.device!r} was not declared in the hello")
        if not _NAME.fullmatch(series.metric):
            raise fail(f"metric name must match {_NAME.pattern}")
        ts = list(series.timestamps_ms)
        if not ts:
            raise fail("no points")
        if len(ts) != len(series.values):
            raise fail(f"{len(ts)} timestamps but {len(series.values)} values")
        if ts[-1] < ts[0] or (len(ts) > 2 and ts != sorted(ts)):
            raise fail("timestamps are not in ascending order")
        if ts[0] < MIN_TS_MS or ts[-1] > max_ts:
            raise fail(f"timestamp {ts[0] if ts[0] < MIN_TS_MS else ts[-1]} ms is implausible (clock?)")
        keys.append((series.device, series.metric, _labels(fail, series.labels)))
        counts.append(len(ts))
        timestamps.extend(ts)
        values.extend(series.values)
        lowest = min(lowest, ts[0])
        highest = max(highest, ts[-1])
    return DecodedBatch(agent_id, batch.seq, keys, counts, timestamps, values, int(lowest), int(highest))


def _labels(fail: Callable[[str], BatchError], labels: object) -> tuple[tuple[str, str], ...]:
    pairs = tuple((label.key, label.value) for label in labels)  # type: ignore[attr-defined]
    if pairs in _checked_labels:
        return pairs
    previous = ""
    for key, value in pairs:
        if not _LABEL_KEY.fullmatch(key):
            raise fail(f"label key {key!r} must match {_LABEL_KEY.pattern}")
        if key <= previous:
            raise fail(f"label keys must be unique and sorted ({previous!r} before {key!r})")
        if len(value) > MAX_LABEL_VALUE:
            raise fail(f"label {key!r} is longer than {MAX_LABEL_VALUE} characters")
        previous = key
    if len(_checked_labels) < MAX_CHECKED_LABELS:
        _checked_labels.add(pairs)
    return pairs
