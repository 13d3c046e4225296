"""Plain-text tables that line up with Chinese text too (wide characters count twice)."""

from __future__ import annotations

import datetime as dt
import math
import time
import unicodedata
from collections.abc import Sequence


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, size: int, right: bool = False) -> str:
    gap = " " * max(0, size - width(text))
    return gap + text if right else text + gap


def render(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> str:
    """Columns sized to fit; column indexes in `right` are right-aligned (numbers)."""
    sizes = [width(h) for h in headers]
    for row in rows:
        sizes = [max(s, width(cell)) for s, cell in zip(sizes, row)]
    lines = ["  ".join(pad(h, s, i in right) for i, (h, s) in enumerate(zip(headers, sizes))).rstrip()]
    lines.append("  ".join("─" * s for s in sizes))
    for row in rows:
        lines.append("  ".join(pad(c, s, i in right) for i, (c, s) in enumerate(zip(row, sizes))).rstrip())
    return "\n".join(lines)


def ago(ms: int | None, now: float | None = None) -> str:
    if not ms:
        return "never"
    seconds = max(0.0, (now or time.time()) - ms / 1000)
    if seconds < 60:
        return f"{seconds:.0f}s ago"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m ago"
    if seconds < 86400:
        return f"{seconds / 3600:.1f}h ago"
    return f"{seconds / 86400:.1f}d ago"


def utc(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def count(n: int) -> str:
    return f"{n:,}"


_BINARY = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
_DECIMAL = ("", "k", "M", "G", "T")


def value(metric: str, v: float) -> str:
    """A value in the unit its metric name ends with (see README "Metric names")."""
    if math.isnan(v):
        return "NaN"
    if metric.endswith("_percent"):
        return f"{v:.1f} %"
    if metric.endswith("_bits_per_second"):
        return _scaled(v, _DECIMAL, 1000, "bit/s")
    if metric.endswith("_bytes_per_second"):
        return _scaled(v, _BINARY, 1024, "/s")
    if metric.endswith("_bytes"):
        return _scaled(v, _BINARY, 1024, "")
    if metric.endswith("_celsius"):
        return f"{v:.1f} °C"
    if metric.endswith("_seconds"):
        return duration(v)
    if metric.endswith("_per_second"):
        return f"{v:,.2f}/s"
    return f"{v:,.0f}" if v == int(v) and abs(v) < 1e15 else f"{v:,.3f}"


def _scaled(v: float, units: tuple[str, ...], step: int, suffix: str) -> str:
    index = 0
    while abs(v) >= step and index < len(units) - 1:
        v /= step
        index += 1
    unit = units[index]
    number = f"{v:.0f}" if index == 0 and units is _BINARY else f"{v:.1f}"
    return f"{number} {unit}{suffix}".replace("  ", " ").strip()


def duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    return f"{days}d {hours}h {rest // 60}m" if days else f"{hours}h {rest // 60}m"
