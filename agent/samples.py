"""What a poll produces, kept as plain tuples because the host poller makes
hundreds of them per collection and the agent's CPU budget per collection is
a couple of milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

Labels = tuple[tuple[str, str], ...]
"""Label pairs sorted by key: the order is part of a series' identity."""

Sample = tuple[str, Labels, float]
"""(metric name, labels, value). The device and the timestamp belong to the poll."""

NO_LABELS: Labels = ()


def labels(**pairs: str) -> Labels:
    return tuple(sorted(pairs.items()))


@dataclass(slots=True)
class Poll:
    """One poller's answer for one device at one instant (Unix ms UTC)."""

    device: str
    ts_ms: int
    samples: list[Sample]
