"""The filesystem forecast over a whole period, and the capacity outlook: least-squares lines through hourly means.

`checks.rules.Forecast` fed hour by hour re-fits its whole window at every
hour: fine for the live engine (one hour at a time), too slow for a month
of a few hundred filesystems in one go. `replay` gives the same fires,
resolves and days-left with running sums (O(1) per hour); the tests hold it
to the live rule on random series. `fit` is the same line through any set of
hours, for the capacity outlook.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

HOUR_MS = 3_600_000
DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class Line:
    now: float             # the line at the newest hour
    slope_per_hour: float
    eta_ms: float          # from the newest hour to the limit: 0 if there already, inf if never


def fit(hours_ms: np.ndarray, values: np.ndarray, limit: float) -> Line | None:
    """The least-squares line through (hour, value) and when it meets `limit`; None for fewer than 2 hours."""
    if len(hours_ms) < 2:
        return None
    xs = (hours_ms - hours_ms[-1]) / HOUR_MS
    mean_x, mean_y = xs.mean(), values.mean()
    sxx = float(((xs - mean_x) ** 2).sum())
    if sxx == 0:
        return None
    slope = float(((xs - mean_x) * (values - mean_y)).sum()) / sxx
    now = float(mean_y - slope * mean_x)
    return Line(now, slope, _eta(now, slope, limit))


def _eta(now: float, slope: float, limit: float) -> float:
    if now >= limit:
        return 0.0
    if slope <= 0:
        return math.inf
    return (limit - now) / slope * HOUR_MS


@dataclass(frozen=True, slots=True)
class Replay:
    fires: list[tuple[int, float]]        # (hour ms, days left) of each fire
    resolves: list[tuple[int, float]]
    firing: bool                          # at the last hour
    days_left: float | None               # at the last hour (None: not judged yet, inf: never)


def replay(hours_ms: np.ndarray, values: np.ndarray, thresholds: Mapping[str, float]) -> Replay:
    """`checks.rules.Forecast` fed every hour in order (thresholds: threshold, horizon, recover_horizon, lookback, min_history)."""
    limit = thresholds["threshold"]
    horizon_ms, recover_ms = thresholds["horizon"] * 1000, thresholds["recover_horizon"] * 1000
    lookback_ms, min_ms = thresholds["lookback"] * 1000, thresholds["min_history"] * 1000
    window: deque[tuple[int, float, float]] = deque()
    # Running sums over the window, with x in hours from the first hour fed (small numbers, exact sums).
    n = sx = sy = sxx = sxy = 0.0
    origin = int(hours_ms[0]) if len(hours_ms) else 0
    fires: list[tuple[int, float]] = []
    resolves: list[tuple[int, float]] = []
    firing = False
    days_left: float | None = None
    last = -1
    for ts, value in zip(hours_ms.tolist(), values.tolist()):
        if ts <= last:
            continue
        last = ts
        x = (ts - origin) / HOUR_MS
        window.append((ts, x, value))
        n += 1
        sx += x
        sy += value
        sxx += x * x
        sxy += x * value
        while ts - window[0][0] >= lookback_ms:
            _, ox, ov = window.popleft()
            n -= 1
            sx -= ox
            sy -= ov
            sxx -= ox * ox
            sxy -= ox * ov
        if ts - window[0][0] < min_ms or n < 2:
            continue
        mean_x, mean_y = sx / n, sy / n
        var = sxx - n * mean_x * mean_x
        if var <= 0:
            continue
        slope = (sxy - n * mean_x * mean_y) / var
        now = mean_y + slope * (x - mean_x)
        eta_ms = _eta(now, slope, limit)
        days_left = eta_ms / DAY_MS
        if not firing and eta_ms <= horizon_ms:
            firing = True
            fires.append((ts, days_left))
        elif firing and eta_ms > recover_ms:
            firing = False
            resolves.append((ts, days_left))
    return Replay(fires, resolves, firing, days_left)
