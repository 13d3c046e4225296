"""Metric sinks: extra copies of every stored point, sent somewhere else (InfluxDB …).

The embedded store is always written first; a sink follows it. Each sink
reads the committed `point_blocks` after its own cursor (see `outbox.py`),
encodes them, sends them, and only then moves its cursor, so a down, slow or
refusing server delays a sink but never loses a point and never holds back
ingest or an agent's acknowledgement. `runner.py` drives one sink: retries
with backoff, splitting what the server refuses, dead letters.

This module is the one place that says what a sink is (`MetricSink`), the
failures a sink reports (`RetryLater`, `TooLarge`, `Rejected`) and which
kinds exist (`KINDS`). The rest of the collector builds sinks with `build()`
and never imports an implementation by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, overload

if TYPE_CHECKING:
    from collector.config import InfluxDBSink as InfluxDBSinkConfig
    from collector.sinks.outbox import OutboxBatch


class Lines(Sequence[bytes]):
    """Records joined by newlines: a request's text before it is packed.

    A sink formats a whole block straight into one text (see
    `lineprotocol.py`); the single records are split out of it only when
    someone asks for one — the runner when it has to split a request the
    server refused, a sink when it looks for the lines a server named. So a
    record must never contain a newline (line protocol escapes them).
    """

    __slots__ = ("text", "count", "_records")

    def __init__(self, text: bytes, count: int) -> None:
        self.text = text
        self.count = count
        self._records: list[bytes] | None = None

    @classmethod
    def of(cls, records: Sequence[bytes]) -> Lines:
        return cls(b"\n".join(records), len(records))

    @classmethod
    def join(cls, parts: Sequence[Lines]) -> Lines:
        if len(parts) == 1:
            return parts[0]
        return cls(b"\n".join(part.text for part in parts if part.count), sum(part.count for part in parts))

    def records(self) -> list[bytes]:
        if self._records is None:
            self._records = self.text.split(b"\n") if self.count else []
            assert len(self._records) == self.count, "a record holds a newline"
        return self._records

    def __len__(self) -> int:
        return self.count

    @overload
    def __getitem__(self, index: int) -> bytes: ...
    @overload
    def __getitem__(self, index: slice) -> list[bytes]: ...
    def __getitem__(self, index: int | slice) -> bytes | list[bytes]:
        return self.records()[index]

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.records())

    def __repr__(self) -> str:
        return f"Lines({self.count} records, {len(self.text):,} bytes)"


def text_of(records: Sequence[bytes]) -> bytes:
    """`records` joined by newlines (no copy when they are `Lines` already)."""
    return records.text if isinstance(records, Lines) else b"\n".join(records)


@dataclass(slots=True)
class Encoded:
    """A batch in the sink's own wire form: one record per point (or event), in order (e.g. a line protocol line).

    The records come in parts (a block's points, the events), each already
    joined; the runner packs consecutive parts into requests.
    """

    parts: list[Lines]
    skipped: int = 0  # points the sink cannot represent (NaN, ±Inf in line protocol)

    @property
    def count(self) -> int:
        return sum(part.count for part in self.parts)

    @property
    def records(self) -> list[bytes]:
        """Every record, one by one (tests and tools; the runner keeps them joined)."""
        return [record for part in self.parts for record in part.records()]


class MetricSink(Protocol):
    """Where copies of stored points go. Every method blocks; the runner calls them from threads.

    `encode` and `pack` run on the sink's reader thread (while the previous
    request is in flight), `send` on its sender thread; `pack` also runs on the
    sender thread for the parts of a request the runner had to split. None is
    called concurrently with itself.
    """

    name: str
    kind: str

    def encode(self, batch: OutboxBatch) -> Encoded:
        """The records of every point and event in `batch`."""
        ...

    def pack(self, text: bytes) -> bytes:
        """One request's body for records joined by newlines (e.g. gzip'd line protocol)."""
        ...

    def send(self, records: Sequence[bytes], body: bytes) -> None:
        """Deliver `records`, packed as `body`; raise a `SinkError` if not all of them arrived.

        `records` is usually `Lines`: look at single records only on a failure.
        """
        ...

    def close(self) -> None:
        ...


class SinkError(Exception):
    """`send()` did not deliver everything; the subclass says what the runner should do."""

    def __init__(self, reason: str, status: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class RetryLater(SinkError):
    """Nothing was (knowingly) stored: the server is down, slow, overloaded or refuses our credentials.

    `after_s` is the server's Retry-After, when it gave one; `config_problem`
    marks answers no waiting will fix by itself (401, 403, 404: token, org or
    bucket), which are logged as errors.
    """

    def __init__(self, reason: str, status: int = 0, after_s: float | None = None, config_problem: bool = False) -> None:
        super().__init__(reason, status)
        self.after_s = after_s
        self.config_problem = config_problem


class TooLarge(SinkError):
    """The request was too large (413): nothing was stored; send it in smaller parts."""


class Rejected(SinkError):
    """The server refused some records as malformed or conflicting (400, 422).

    `culprits`: indexes (into the records sent) that the server's answer
    names, or None when it names none and the runner must split to find them.
    `rest_stored`: the records not named were stored (a partial write), so
    only the culprits are left to deal with; otherwise nothing was stored.
    """

    def __init__(self, reason: str, status: int, culprits: list[int] | None = None, rest_stored: bool = False) -> None:
        super().__init__(reason, status)
        self.culprits = culprits
        self.rest_stored = rest_stored


def _influxdb(config: InfluxDBSinkConfig) -> MetricSink:
    from collector.sinks.influxdb import InfluxDBSink

    return InfluxDBSink(config)


# kind → builder; a kind's module is imported only when a sink of that kind is configured.
KINDS: dict[str, Callable[..., MetricSink]] = {"influxdb": _influxdb}


def build(config: InfluxDBSinkConfig) -> MetricSink:
    try:
        return KINDS[config.kind](config)
    except KeyError:
        raise ValueError(f"sink {config.name!r}: unknown kind {config.kind!r} (known: {', '.join(KINDS)})") from None
