"""InfluxDB line protocol, formatted directly from packed blocks.

influxdb-client's `Point` objects cost about 50× more per point than
formatting strings (bench/README.md, PEERS.md), so a series' line prefix —
measurement, sorted tags, field key, `=` — is built, escaped and encoded
once and cached; per point only the value and the timestamp are formatted,
and `map()` keeps that loop in C. Lines are UTF-8 `bytes` from the start:
with a Chinese customer name in every line, joining `str` lines and encoding
the result cost more than formatting them. Floats are written with `repr()`, the shortest
text that reads back as the same float64, so a value survives the trip
exactly. NaN and ±Inf have no line protocol form: such points are counted
and left out. Timestamps are Vigil's milliseconds, written in the sink's
precision (`s` drops the milliseconds; `us`/`ns` append zeros).

Escaping follows the line protocol reference: in measurements `\\`, `,` and
space; in tag keys, tag values and field keys also `=`; in string field
values `\\` and `"`. Line protocol has no escape for a newline: one becomes
the two characters `\\n`, as Telegraf writes it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from operator import add

from collector.sinks import Encoded, telegraf
from collector.sinks.outbox import OutboxBatch, SeriesMeta
from collector.store.blocks import Block

_CONTROL = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_MEASUREMENT = str.maketrans({"\\": "\\\\", ",": "\\,", " ": "\\ ", **_CONTROL})
_KEY = str.maketrans({"\\": "\\\\", ",": "\\,", "=": "\\=", " ": "\\ ", **_CONTROL})
_STRING = str.maketrans({"\\": "\\\\", '"': '\\"', **_CONTROL})

PRECISIONS = ("s", "ms", "us", "ns")
SEVERITY_LEVEL = {"info": 0, "warning": 1, "minor": 2, "major": 3, "critical": 4}


def escape_measurement(text: str) -> str:
    return text.translate(_MEASUREMENT)


def escape_key(text: str) -> str:
    """A tag key, tag value or field key."""
    return text.translate(_KEY)


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
    """Blocks and events of an outbox batch → one line per point; caches each series' prefix."""

    def __init__(self, precision: str = "ms") -> None:
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
        self.precision = precision
        self._prefixes: dict[int, tuple[bytes, bool]] = {}

    def forget(self) -> None:
        self._prefixes.clear()

    def series_prefix(self, series_id: int, meta: SeriesMeta) -> tuple[bytes, bool]:
        found = self._prefixes.get(series_id)
        if found is None:
            target = telegraf.target(
                meta.metric, meta.labels, customer=meta.customer, site=meta.site, agent=meta.agent_id,
                device=meta.device_id, address=meta.address, snmp_device=meta.snmp,
            )
            head = prefix(target.measurement, target.tags, target.field).encode()
            found = self._prefixes[series_id] = (head, target.integer)
        return found

    def encode(self, batch: OutboxBatch) -> Encoded:
        lines: list[bytes] = []
        skipped = 0
        for row in batch.blocks:
            skipped += self._block(Block.unpack(row), batch.series, lines)
        for event in batch.events:
            lines.append(self.event_line(event).encode())
        return Encoded(lines, skipped)

    def _block(self, block: Block, series: dict[int, SeriesMeta], out: list[bytes]) -> int:
        ts, values = block.timestamps.tolist(), block.values.tolist()
        if not ts:
            return 0
        precision = self.precision
        stamps = {t: (" " + timestamp_text(t, precision)).encode() for t in set(ts)}
        total = sum(values)
        if total - total == 0.0:  # all finite: NaN or ±Inf anywhere makes the sum non-finite
            texts = list(map(str.encode, map(repr, values)))
            tails = list(map(stamps.__getitem__, ts))
        else:
            texts = tails = []
        skipped = 0
        for series_id, start, end in block.segments():
            meta = series.get(series_id)
            if meta is None:  # the series row is missing: cannot name the points
                skipped += end - start
                continue
            head, integer = self.series_prefix(series_id, meta)
            if texts and not integer:
                out.extend(map(head.__add__, map(add, texts[start:end], tails[start:end])))
                continue
            for t, v in zip(ts[start:end], values[start:end]):
                if not math.isfinite(v):
                    skipped += 1
                elif integer:
                    out.append(b"%s%di%s" % (head, int(v), stamps[t]))
                else:
                    out.append(head + repr(v).encode() + stamps[t])
        return skipped

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
