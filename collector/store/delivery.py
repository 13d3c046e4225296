"""Which of an agent's numbered batches are stored: the exactly-once bookkeeping.

An agent numbers its batches in creation order but may deliver them out of
order: after an outage it replays its backlog while live batches go ahead
of it, so live data is not starved. A single "highest stored" number would
then turn every older replayed batch into a false duplicate. Instead:

* `watermark`: every batch numbered at or below it is stored, or the agent
  has said it no longer holds it (dropped by its buffer limits, or a gap in
  its numbering after a crash);
* `above`: the batches stored beyond the watermark.

The watermark is committed with the points (agents.last_seq); `above` is
read back from point_blocks at each Hello. The agent's "oldest batch I still
hold" (Hello, Heartbeat) lets the watermark move past numbers that will
never come.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Delivery:
    watermark: int = 0
    above: set[int] = field(default_factory=set)

    def has(self, seq: int) -> bool:
        return seq <= self.watermark or seq in self.above

    def add(self, seq: int) -> None:
        if seq > self.watermark:
            self.above.add(seq)
            self._advance()

    def holds_nothing_below(self, oldest_held: int) -> None:
        """The agent holds no batch under `oldest_held`: what is missing below it is gone."""
        if oldest_held > self.watermark + 1:
            self.watermark = oldest_held - 1
            self.above = {seq for seq in self.above if seq > self.watermark}
            self._advance()

    def _advance(self) -> None:
        while self.watermark + 1 in self.above:
            self.watermark += 1
            self.above.discard(self.watermark)

    def copy(self) -> Delivery:
        return Delivery(self.watermark, set(self.above))
