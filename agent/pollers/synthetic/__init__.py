"""Made-up series at a chosen rate: the load generator for capacity tests and benchmarks.

It exists so the agent's whole path (scheduler, batcher, durable buffer,
transport) and the collector behind it can be driven at a known number of
points per second without a lab full of devices: `series` points per poll,
one each of `synthetic_value{n="0000"}`, `{n="0001"}`, … on the device
`device_id`. It is off by default (`pollers.synthetic.enabled: false`) and
has no place on a customer site.

The label tuples are built once, at start; a poll only pairs them with
values (a cheap function of the poll's time and the series' index), so what
a benchmark measures is the agent, not this generator.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from agent.pollers import register
from agent.samples import Labels, Poll, Sample

if TYPE_CHECKING:
    from agent.config import AgentConfig, SyntheticPoller as SyntheticConfig

METRIC = "synthetic_value"
LABEL = "n"
PERIOD_MS = 60_000  # values rise over a minute, then start again: a sawtooth per series


def label_sets(series: int) -> list[Labels]:
    """`(("n", "0000"),)`, `(("n", "0001"),)`, …: zero-padded so text order is index order."""
    width = max(4, len(str(series - 1)))
    return [((LABEL, f"{index:0{width}d}"),) for index in range(series)]


class SyntheticPoller:
    kind = "synthetic"

    def __init__(self, config: SyntheticConfig) -> None:
        self.device_id = config.device_id
        self.interval_s = config.interval
        self.timeout_s = config.timeout
        self._labels = label_sets(config.series)

    async def poll(self) -> Poll:
        return self.collect(int(time.time() * 1000))

    def collect(self, ts_ms: int) -> Poll:
        """One poll stamped `ts_ms` (Unix ms UTC); a benchmark calls it to pre-build a backlog."""
        phase = (ts_ms % PERIOD_MS) / 1000.0
        samples: list[Sample] = [(METRIC, labels, index + phase) for index, labels in enumerate(self._labels)]
        return Poll(self.device_id, ts_ms, samples)


@register("synthetic")
def build(config: AgentConfig) -> list[SyntheticPoller]:
    return [SyntheticPoller(config.pollers.synthetic)]
