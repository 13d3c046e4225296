"""Check what an agent sends (Hello, MetricBatch) and flatten batches into packed arrays.

A malformed batch is refused whole, with a message that names the agent, the
batch, the series and what is wrong, because half-storing a batch would make
the agent's resend ambiguous. A batch is four parallel arrays (see
agent.proto), converted to `array`s in C; a series key is checked the first
time a stream sends it and recognised by a set lookup afterwards, so the
per-point work in Python is the ordering check of multi-point series only.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field

from protos import serieskey
from protos.vigil.v1 import agent_pb2 as pb

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,199}")
_LABEL_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")
MAX_LABEL_VALUE = 512
# Timestamps outside [2000-01-01, now + 1 day] are a broken clock, not data.
MIN_TS_MS = 946_684_800_000
MAX_FUTURE_MS = 86_400_000


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


class SeriesChecker:
    """The series keys one stream has sent and passed: each is checked once per stream.

    Per stream, not global, because "the device was declared" depends on that
    stream's Hello. Bounded: past `limit` keys new ones are checked every time.
    """

    def __init__(self, devices: set[str], limit: int = 200_000) -> None:
        self.devices = devices
        self._passed: set[str] = set()
        self._limit = limit

    def check(self, keys: list[str]) -> tuple[int, str] | None:
        """(index, problem) of the first bad key, or None when all pass."""
        new = set(keys).difference(self._passed)
        if not new:
            return None
        for index, key in enumerate(keys):
            if key in new:
                problem = _key_problem(key, self.devices)
                if problem:
                    return index, problem
        if len(self._passed) < self._limit:
            self._passed |= new
        return None


def _key_problem(key: str, devices: set[str]) -> str:
    try:
        device, metric, labels = serieskey.split(key)
    except ValueError as exc:
        return str(exc)
    if device not in devices:
        return f"device {device!r} was not declared in the hello"
    if not _NAME.fullmatch(metric):
        return f"metric name must match {_NAME.pattern}"
    previous = ""
    for name, value in labels:
        if not _LABEL_KEY.fullmatch(name):
            return f"label key {name!r} must match {_LABEL_KEY.pattern}"
        if name <= previous:
            return f"label keys must be unique and sorted ({previous!r} before {name!r})"
        if len(value) > MAX_LABEL_VALUE:
            return f"label {name!r} is longer than {MAX_LABEL_VALUE} characters"
        previous = name
    return ""


@dataclass(slots=True, frozen=True)
class DecodedEvent:
    device: str
    at_ms: int
    source: str
    name: str
    severity: str
    message: str
    attributes: dict[str, str]


@dataclass(slots=True)
class DecodedBatch:
    agent_id: str
    seq: int
    keys: list[str]     # series keys (protos.serieskey), checked
    counts: array       # 'i', points per key
    timestamps: array   # 'q'
    values: array       # 'd'
    min_ts_ms: int
    max_ts_ms: int
    events: list[DecodedEvent] = field(default_factory=list)

    @property
    def points(self) -> int:
        return len(self.values)


def decode(agent_id: str, batch: pb.MetricBatch, series: SeriesChecker, now_ms: int) -> DecodedBatch:
    """Validate `batch` from `agent_id`; raise BatchError naming the first problem."""
    where = f"agent {agent_id}: batch {batch.seq}"
    if batch.seq == 0:
        raise BatchError(f"{where}: seq must be 1 or more")
    events = [_event(f"{where}: events[{index}]", event, series.devices, now_ms) for index, event in enumerate(batch.events)]
    keys = list(batch.series_keys)
    if not keys:
        if not events:
            raise BatchError(f"{where}: no series and no events")
        if batch.point_counts or batch.timestamps_ms or batch.values:
            raise BatchError(f"{where}: points without series keys")
        times = [event.at_ms for event in events]
        return DecodedBatch(agent_id, batch.seq, [], array("i"), array("q"), array("d"), min(times), max(times), events)

    def fail(index: int, problem: str) -> BatchError:
        try:
            device, metric, _ = serieskey.split(keys[index])
            name = f"{device}/{metric}"
        except ValueError:
            name = repr(keys[index][:80])
        return BatchError(f"{where}: series[{index}] ({name}): {problem}")

    bad = series.check(keys)
    if bad:
        raise fail(*bad)
    counts_in = batch.point_counts
    if len(counts_in) != len(keys):
        raise BatchError(f"{where}: {len(keys)} series keys but {len(counts_in)} point counts")
    if min(counts_in) < 1:
        raise fail(list(counts_in).index(0), "no points")
    total = sum(counts_in)
    if total != len(batch.timestamps_ms) or total != len(batch.values):
        raise BatchError(
            f"{where}: point counts add up to {total}, but there are "
            f"{len(batch.timestamps_ms)} timestamps and {len(batch.values)} values"
        )
    counts = array("i", counts_in)  # each ≤ total, which the message size bounds
    timestamps = array("q", batch.timestamps_ms)
    values = array("d", batch.values)
    lowest, highest = min(timestamps), max(timestamps)
    if lowest < MIN_TS_MS or highest > now_ms + MAX_FUTURE_MS:
        bad_ts = lowest if lowest < MIN_TS_MS else highest
        raise fail(_series_of(counts, timestamps.index(bad_ts)), f"timestamp {bad_ts} ms is implausible (clock?)")
    if total != len(keys):
        _check_order(counts, timestamps, fail)
    return DecodedBatch(agent_id, batch.seq, keys, counts, timestamps, values, lowest, highest, events)


SEVERITIES = ("info", "warning", "minor", "major", "critical")
_EVENT_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
MAX_EVENT_MESSAGE = 2000
MAX_ATTRIBUTES = 64
MAX_ATTRIBUTE_VALUE = 2000
_ATTRIBUTE_KEY = re.compile(r"[A-Za-z0-9_.:-]{1,100}")  # names or numeric OIDs of trap varbinds


def _event(where: str, event: pb.Event, devices: set[str], now_ms: int) -> DecodedEvent:
    if event.device and event.device not in devices:
        raise BatchError(f"{where}: device {event.device!r} was not declared in the hello")
    if not _EVENT_NAME.fullmatch(event.name):
        raise BatchError(f"{where}: name {event.name[:80]!r} must match {_EVENT_NAME.pattern}")
    if not _EVENT_NAME.fullmatch(event.source):
        raise BatchError(f"{where} ({event.name}): source {event.source[:80]!r} must match {_EVENT_NAME.pattern}")
    if event.severity not in SEVERITIES:
        raise BatchError(f"{where} ({event.name}): severity {event.severity[:20]!r} is not one of {', '.join(SEVERITIES)}")
    if not MIN_TS_MS <= event.at_ms <= now_ms + MAX_FUTURE_MS:
        raise BatchError(f"{where} ({event.name}): time {event.at_ms} ms is implausible (clock?)")
    if len(event.message) > MAX_EVENT_MESSAGE:
        raise BatchError(f"{where} ({event.name}): message is longer than {MAX_EVENT_MESSAGE} characters")
    if len(event.attributes) > MAX_ATTRIBUTES:
        raise BatchError(f"{where} ({event.name}): more than {MAX_ATTRIBUTES} attributes")
    for key, value in event.attributes.items():
        if not _ATTRIBUTE_KEY.fullmatch(key) or len(value) > MAX_ATTRIBUTE_VALUE:
            raise BatchError(
                f"{where} ({event.name}): attribute {key[:80]!r} needs a key matching {_ATTRIBUTE_KEY.pattern} "
                f"and a value of at most {MAX_ATTRIBUTE_VALUE} characters"
            )
    return DecodedEvent(
        event.device, event.at_ms, event.source, event.name, event.severity, event.message, dict(event.attributes)
    )


def _check_order(counts: array, timestamps: array, fail: Callable[[int, str], BatchError]) -> None:
    start = 0
    for index, count in enumerate(counts):
        if count > 1:
            segment = timestamps[start : start + count]
            if segment[-1] < segment[0] or (count > 2 and segment.tolist() != sorted(segment)):
                raise fail(index, "timestamps are not in ascending order")
        start += count


def _series_of(counts: array, point: int) -> int:
    """Index of the series that owns the point at flat position `point`."""
    end = 0
    for index, count in enumerate(counts):
        end += count
        if point < end:
            return index
    return len(counts) - 1
