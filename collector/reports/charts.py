"""The report's charts, as SVG: per-device trend lines written directly, the summary charts with matplotlib.

A monthly report of 200 devices has some 600 trend charts. Through
matplotlib each cost ~25 ms to save and WeasyPrint ~25 ms to draw (it
walks every `<g>` matplotlib nests and lays out every label), half a
minute for charts alone, so a device's trends are written here as one SVG
of a few paths per panel (one per line, the grid, the time axis, the
limit) with its titles and scales as HTML: under 1 ms to make, a few ms
for WeasyPrint to draw (bench/report.py measures both ways). matplotlib draws the handful of summary charts (findings by
severity, SLA clocks, availability per site), where its layout earns its
cost. Both set text in the report's CJK font, as text, so the PDF embeds
one font and Chinese labels stay selectable.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from zoneinfo import ZoneInfo

from collector.inspections.model import Trend, TrendLine
from collector.reports.fonts import FAMILY

LINE_COLORS = ("#2563eb", "#0d9488", "#9333ea", "#ea580c", "#db2777")
SEVERITY_COLORS = {"critical": "#991b1b", "major": "#dc2626", "minor": "#ea580c", "warning": "#d97706", "info": "#64748b"}
STATUS_COLORS = {"pass": "#15803d", "warn": "#d97706", "fail": "#dc2626", "nodata": "#94a3b8"}
LIMIT_COLOR = "#dc2626"
GRID_COLOR = "#e5e7eb"
TEXT_COLOR = "#374151"
MUTED_COLOR = "#6b7280"

PANEL_WIDTH, HEIGHT, GAP = 230, 92, 14
PLOT_TOP, PLOT_BOTTOM, PLOT_LEFT = 4.0, 84.0, 2.0
DAY_MS = 86_400_000
HOUR_MS = 3_600_000


# ---------------------------------------------------------------- trend charts, written directly


@dataclass(frozen=True, slots=True)
class Panel:
    title: str
    unit: str
    threshold: float | None
    lines: list[TrendLine]


def panels(trends: Sequence[Trend], titles: Mapping[str, str]) -> list[Panel]:
    """CPU and memory share one panel (both %); filesystems and interfaces have one each."""
    found: list[Panel] = []
    by_kind = {t.kind: t for t in trends}
    usage = [by_kind[k] for k in ("cpu", "memory") if k in by_kind]
    if usage:
        lines = []
        for t in usage:
            prefix = titles[f"short_{t.kind}"]
            lines += [TrendLine(prefix if len(t.lines) == 1 else f"{prefix} {line.label}", line.start_ms, line.step_ms, line.values,
                                line.highs) for line in t.lines]
        threshold = min((t.threshold for t in usage if t.threshold is not None), default=None)
        found.append(Panel(titles["chart_usage"], "%", threshold, lines[:4]))
    for kind in ("filesystem", "interface"):
        t = by_kind.get(kind)
        if t is not None:
            title = titles["chart_traffic"] if kind == "interface" and t.unit != "%" else titles[f"chart_{kind}"]
            found.append(Panel(title, t.unit, t.threshold, t.lines[:4]))
    return found


def _nice_ceiling(value: float) -> float:
    if value <= 0:
        return 1.0
    exponent = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * exponent * (1 + 1e-9):
            return step * exponent
    return 10 * exponent


def _label(value: float) -> str:
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


@dataclass(frozen=True, slots=True)
class Caption:
    """A panel's title and legend, set as HTML above the chart (SVG text costs WeasyPrint a layout per letter)."""

    title: str
    legend: list[tuple[str, str]]          # (colour, label)


def device_svg(trends: Sequence[Trend], titles: Mapping[str, str], end_ms: int, tz: ZoneInfo) -> tuple[str, list[Caption]]:
    """A device's trends side by side (utilisation, filesystems, interfaces): one small SVG, and each panel's caption.

    No text inside: WeasyPrint lays out and draws each letter of an SVG text
    on its own (~0.3 ms a letter, 600 charts), so a panel's title, legend and
    scale are its HTML caption, and the time axis is the period (ticks at
    local midnights, longer on Mondays). What is left is one grid path, the
    ticks, the limit, and a path per line.
    """
    shown = panels(trends, titles)
    width = PANEL_WIDTH * max(1, len(shown)) + GAP * max(0, len(shown) - 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {HEIGHT}" width="{width}" height="{HEIGHT}">']
    captions = []
    for n, panel in enumerate(shown):
        svg, top = _panel(panel, n * (PANEL_WIDTH + GAP), end_ms, tz)
        parts.append(svg)
        scale = f"0–{_label(top)}"
        unit = f"（{panel.unit}，{scale}）" if any(ord(c) > 0x2E80 for c in panel.title) else f" ({panel.unit}, {scale})"
        captions.append(Caption(panel.title + unit, [(LINE_COLORS[i % len(LINE_COLORS)], line.label[:24])
                                                     for i, line in enumerate(panel.lines)]))
    parts.append("</svg>")
    return "".join(parts), captions


def _ticks(start_ms: int, end_ms: int, tz: ZoneInfo) -> list[tuple[int, bool]]:
    """Local midnights in the period (daily up to 6 weeks, else Mondays), and whether each is a Monday."""
    local = dt.datetime.fromtimestamp(start_ms / 1000, tz).replace(hour=0, minute=0, second=0, microsecond=0)
    found = []
    weekly = end_ms - start_ms > 42 * DAY_MS
    day = local
    while True:
        ms = int(day.timestamp() * 1000)
        if ms >= end_ms:
            return found
        if ms > start_ms and (not weekly or day.weekday() == 0):
            found.append((ms, day.weekday() == 0))
        day = (day + dt.timedelta(days=1, hours=3)).replace(hour=0)


def _panel(panel: Panel, left: float, end_ms: int, tz: ZoneInfo) -> tuple[str, float]:
    start, step = panel.lines[0].start_ms, panel.lines[0].step_ms
    span = max(1, end_ms - start)
    x0, x1 = left + PLOT_LEFT, left + PANEL_WIDTH - 4
    peak = max([v for line in panel.lines for v in (line.highs or line.values) if v is not None] or [0.0])
    if panel.unit == "%":
        top = 100.0 if peak <= 100 else _nice_ceiling(peak)
    else:
        top = _nice_ceiling(max(peak * 1.05, 1e-9))

    def x(i: int) -> float:
        return x0 + (x1 - x0) * min(1.0, (i * step + step / 2) / span)

    def y(v: float) -> float:
        return PLOT_BOTTOM - (PLOT_BOTTOM - PLOT_TOP) * max(0.0, min(v, top)) / top

    grid = f"M{x0:.0f} {PLOT_TOP:.0f}H{x1:.0f}M{x0:.0f} {(PLOT_TOP + PLOT_BOTTOM) / 2:.0f}H{x1:.0f}"
    ticks = "".join(f"M{x0 + (x1 - x0) * (ms - start) / span:.1f} {PLOT_BOTTOM:.0f}v{5 if monday else 2.5}"
                    for ms, monday in _ticks(start, end_ms, tz))
    out = [f'<path d="{grid}" stroke="{GRID_COLOR}" stroke-width="0.7" fill="none"/>',
           f'<path d="M{x0:.0f} {PLOT_BOTTOM:.0f}H{x1:.0f}{ticks}" stroke="#9ca3af" stroke-width="0.7" fill="none"/>']
    if len(panel.lines) == 1 and panel.lines[0].highs:
        band = _band(panel.lines[0].values, panel.lines[0].highs, x, y)
        if band:
            out.append(f'<path d="{band}" fill="{LINE_COLORS[0]}" fill-opacity="0.15" stroke="none"/>')
    if panel.threshold is not None and panel.threshold <= top:
        out.append(f'<path d="M{x0:.0f} {y(panel.threshold):.1f}H{x1:.0f}" stroke="{LIMIT_COLOR}" stroke-width="0.8" '
                   'stroke-dasharray="4 3" fill="none"/>')
    for i, line in enumerate(panel.lines):
        d = _polyline(line.values, x, y)
        if d:
            out.append(f'<path d="{d}" stroke="{LINE_COLORS[i % len(LINE_COLORS)]}" stroke-width="1.1" fill="none" '
                       'stroke-linejoin="round"/>')
    return "".join(out), top


def _polyline(values: Sequence[float | None], x, y) -> str:  # type: ignore[no-untyped-def]
    """Lines through the points, broken where there was no data; a point alone is a short dash, so it shows."""
    out: list[str] = []
    for i, v in enumerate(values):
        if v is None:
            continue
        alone = (i == 0 or values[i - 1] is None) and (i + 1 >= len(values) or values[i + 1] is None)
        if alone:
            out.append(f"M{x(i) - 2:.1f} {y(v):.1f}h4")
        else:
            out.append(f"{'M' if i == 0 or values[i - 1] is None else 'L'}{x(i):.1f} {y(v):.1f}")
    return "".join(out)


def _band(values: Sequence[float | None], highs: Sequence[float | None], x, y) -> str:  # type: ignore[no-untyped-def]
    """Closed shapes between the means and the peaks, one per stretch without gaps."""
    shapes: list[str] = []
    run: list[int] = []
    for i in range(len(values) + 1):
        if i < len(values) and values[i] is not None and highs[i] is not None:
            run.append(i)
            continue
        if len(run) > 1:
            upper = "L".join(f"{x(j):.1f} {y(highs[j]):.1f}" for j in run)
            lower = "L".join(f"{x(j):.1f} {y(values[j]):.1f}" for j in reversed(run))
            shapes.append(f"M{upper}L{lower}Z")
        run = []
    return "".join(shapes)


# ---------------------------------------------------------------- summary charts, with matplotlib


@cache
def _matplotlib():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("svg", force=False)
    from matplotlib.figure import Figure

    matplotlib.rcParams.update({
        "svg.fonttype": "none", "svg.hashsalt": "vigil", "font.family": "sans-serif",
        "font.sans-serif": [FAMILY, "DejaVu Sans"], "axes.unicode_minus": False, "font.size": 8,
        "axes.edgecolor": GRID_COLOR, "axes.labelcolor": TEXT_COLOR, "xtick.color": MUTED_COLOR, "ytick.color": TEXT_COLOR,
    })
    return Figure


def _svg(figure) -> str:  # type: ignore[no-untyped-def]
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", pad_inches=0.02, metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    return re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)


def bars_svg(labels: Sequence[str], values: Sequence[float], colors: Sequence[str], value_labels: Sequence[str],
             width_in: float = 3.3) -> str:
    """Horizontal bars, one per label, with its value printed at its end."""
    Figure = _matplotlib()
    figure = Figure(figsize=(width_in, 0.28 * len(labels) + 0.25))
    axes = figure.add_subplot()
    positions = list(range(len(labels)))[::-1]
    axes.barh(positions, values, color=colors, height=0.62)
    top = max(values or [0]) or 1
    for position, value, text in zip(positions, values, value_labels):
        axes.text(value + top * 0.02, position, text, va="center", fontsize=8, color=TEXT_COLOR)
    axes.set_yticks(positions, labels)
    axes.set_xlim(0, top * 1.25)
    axes.set_xticks([])
    for side in ("top", "right", "bottom"):
        axes.spines[side].set_visible(False)
    axes.tick_params(length=0)
    return _svg(figure)


def stacked_svg(labels: Sequence[str], series: Sequence[tuple[str, str, Sequence[float]]], width_in: float = 3.3) -> str:
    """Horizontal stacked bars: `series` is (name, colour, one value per label); a legend below."""
    Figure = _matplotlib()
    figure = Figure(figsize=(width_in, 0.34 * len(labels) + 0.55))
    axes = figure.add_subplot()
    positions = list(range(len(labels)))[::-1]
    left = [0.0] * len(labels)
    for name, color, values in series:
        axes.barh(positions, values, left=left, color=color, height=0.6, label=name)
        for position, start, value in zip(positions, left, values):
            if value:
                axes.text(start + value / 2, position, f"{value:g}", va="center", ha="center", fontsize=8, color="white")
        left = [a + b for a, b in zip(left, values)]
    axes.set_yticks(positions, labels)
    axes.set_xticks([])
    axes.set_xlim(0, max(left or [1]) or 1)
    for side in ("top", "right", "bottom"):
        axes.spines[side].set_visible(False)
    axes.tick_params(length=0)
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=len(series), frameon=False, fontsize=7.5,
                handlelength=1.0, columnspacing=1.2)
    return _svg(figure)
