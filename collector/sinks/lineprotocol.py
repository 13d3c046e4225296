"""InfluxDB line protocol, formatted directly from packed blocks.

influxdb-client's `Point` objects cost about 50× more per point than
formatting strings (bench/README.md, PEERS.md), so a series' line —
measurement, sorted tags, field key — is built, escaped and encoded once
and cached as a %-format; a whole block is then formatted by one bytes
`%` in C (see `LineEncoder`), and its lines come out already joined, as the
request needs them. Lines are UTF-8 `bytes` from the start: with a Chinese
customer name in every line, joining `str` lines and encoding the result
cost more than formatting them. Floats are written with `repr()` (bytes'
`%a`), the shortest text that reads back as the same float64, so a value
survives the trip exactly; it is most of the formatting's cost (~0.4 µs a
value). NaN and ±Inf have no line protocol form: such points are counted
and left out. Timestamps are Vigil's milliseconds, written in the sink's
precision (`s` drops the milliseconds; `us`/`ns` append zeros).

Escaping follows the line protocol reference: in measurements `\\`, `,` and
space; in tag keys, tag values and field keys also `=`; in string field
values `\\` and `"`. Line protocol has no escape for a newline: one becomes
the two characters `\\n`, as Telegraf writes it.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable

from collector.sinks import Encoded, Lines, telegraf
from collector.sinks.outbox import OutboxBatch, SeriesMeta
from collector.store.blocks import Block

_CONTROL = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_MEASUREMENT = str.maketrans({"\\": "\\\\", ",": "\\,", " ": "\\ ", **_CONTROL})
_KEY = str.maketrans({"\\": "\\\\", ",": "\\,", "=": "\\=", " ": "\\ ", **_CONTROL})
_STRING = str.maketrans({"\\": "\\\\", '"': '\\"', **_CONTROL})
_NEEDS_ESCAPE = re.compile(r"[\\, =\n\r\t]").search  # translate() is slow; most names need nothing

PRECISIONS = ("s", "ms", "us", "ns")
SEVERITY_LEVEL = {"info": 0, "warning": 1, "minor": 2, "major": 3, "critical": 4}


def escape_measurement(text: str) -> str:
    return text.translate(_MEASUREMENT) if _NEEDS_ESCAPE(text) else text


@functools.lru_cache(maxsize=16384)  # the same customer, site, agent, device and tag names in every series
def escape_key(text: str) -> str:
    """A tag key, tag value or field key."""
    return text.translate(_KEY) if _NEEDS_ESCAPE(text) else text


def escape_string(text: str) -> str:
    """A string field value, without its quotes."""
    return text.translate(_STRING)


def prefix(measurement: str, tags: Iterable[tuple[str, str]], field: str) -> str:
    """`measurement,tag=value,… field=`: everything of a line before its value."""
    tag_text = "".join(f",{escape_key(k)}={escape_key(v)}" for k, v in tags if v)
    return f"{escape_measurement(measurement)}{tag_text} {escape_key(field)}="


def timestamp_text(ts_ms: int, precision: str) -> str:
    if precision == "ms":
        return str(ts_ms)
    if precision == "s":
        return str(ts_ms // 1000)
    return str(ts_ms * (1000 if precision == "us" else 1_000_000))


class LineEncoder:
    """Blocks and events of an outbox batch → line protocol, a block's lines formatted at once.

    Each series gets a cached %-format of its whole line — the escaped
    prefix (`%` doubled), then `%a` (a float's `repr()`) or `%di` (an
    integer), the timestamp, a newline — and a block is one format of the
    series' formats, each repeated for its points, with the values and
    timestamps interleaved: one C call formats every point, and the lines
    come out already joined. A block holding NaN or ±Inf, or a series whose
    row is missing, is written line by line, leaving those points out.
    """

    def __init__(self, precision: str = "ms") -> None:
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
        self.precision = precision
        self._formats: dict[int, bytes] = {}

    def forget(self) -> None:
        self._formats.clear()

    def series_prefix(self, meta: SeriesMeta) -> tuple[bytes, bool]:
        """`measurement,tags field=` of a series, and whether its field is an integer."""
        target = telegraf.target(
            meta.metric, meta.labels, customer=meta.customer, site=meta.site, agent=meta.agent_id,
            device=meta.device_id, address=meta.address, snmp_device=meta.snmp,
        )
        return prefix(target.measurement, target.tags, target.field).encode(), target.integer

    def series_format(self, series_id: int, meta: SeriesMeta) -> bytes:
        """The series' line as a bytes %-format of (value, b" timestamp"), newline included."""
        found = self._formats.get(series_id)
        if found is None:
            head, integer = self.series_prefix(meta)
            found = self._formats[series_id] = head.replace(b"%", b"%%") + (b"%di%s\n" if integer else b"%a%s\n")
        return found

    def encode(self, batch: OutboxBatch) -> Encoded:
        parts: list[Lines] = []
        skipped = 0
        for row in batch.blocks:
            lines, lost = self._block(Block.unpack(row), batch.series)
            parts.append(lines)
            skipped += lost
        if batch.events:
            parts.append(Lines.of([self.event_line(event).encode() for event in batch.events]))
        return Encoded(parts, skipped)

    def _block(self, block: Block, series: dict[int, SeriesMeta]) -> tuple[Lines, int]:
        ts, values = block.timestamps.tolist(), block.values.tolist()
        if not ts:
            return Lines(b"", 0), 0
        precision = self.precision
        stamps = {t: (" " + timestamp_text(t, precision)).encode() for t in set(ts)}
        tails = list(map(stamps.__getitem__, ts))
        series_ids = block.series_ids.tolist()
        formats = list(map(self._formats.get, series_ids))
        if None in formats or not series.keys() >= set(series_ids):  # new series, or one without its row (None)
            formats = [self.series_format(sid, series[sid]) if sid in series else None for sid in series_ids]
        total = sum(values)
        # All finite (NaN or ±Inf anywhere makes the sum non-finite) and every series named: one format.
        if total - total == 0.0 and None not in formats:
            template = b"".join(map(bytes.__mul__, formats, block.counts.tolist()))  # type: ignore[arg-type]
            args: list[object] = [None] * (2 * len(ts))
            args[::2] = values
            args[1::2] = tails
            return Lines((template % tuple(args))[:-1], len(ts)), 0
        lines: list[bytes] = []
        skipped = 0
        for (_, start, end), line_format in zip(block.segments(), formats):
            if line_format is None:  # the series row is missing: cannot name the points
                skipped += end - start
                continue
            for v, tail in zip(values[start:end], tails[start:end]):
                if math.isfinite(v):
                    lines.append((line_format % (v, tail))[:-1])
                else:
                    skipped += 1
        return Lines.of(lines), skipped

    def event_line(self, event) -> str:  # type: ignore[no-untyped-def]
        """An event (row of `events` with its agent's customer and site) as one `vigil_event` point."""
        tags = {
            "source": event.source, "name": event.name, "severity": event.severity,
            "customer": event.customer or "", "site": event.site or "", "agent": event.agent_id,
            "device": event.device_id or "unknown", "host": event.device_id or "unknown", "agent_host": event.address or "",
        }
        head = prefix(telegraf.EVENT_MEASUREMENT, sorted(tags.items()), "message")
        level = SEVERITY_LEVEL.get(event.severity, 0)
        return f'{head}"{escape_string(event.message)}",severity_level={level}i {timestamp_text(event.at_ms, self.precision)}'
