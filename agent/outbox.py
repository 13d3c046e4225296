"""Batches waiting for the collector's acknowledgement.

This is the in-memory outbox of the walking skeleton: bounded, ordered by
sequence number, oldest dropped first when full, and every dropped point
counted with the time range it covered so the loss is reported rather than
silent. The durable store-and-forward buffer replaces it behind the same
methods.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass

from protos.vigil.v1 import agent_pb2 as pb

log = logging.getLogger("vigil.agent.outbox")


@dataclass(slots=True)
class Pending:
    message: pb.AgentMessage   # an AgentMessage whose body is the batch
    points: int
    min_ts_ms: int
    max_ts_ms: int


@dataclass(slots=True)
class DropAccount:
    points: int = 0
    from_ms: int = 0
    to_ms: int = 0

    def add(self, item: Pending) -> None:
        self.points += item.points
        self.from_ms = min(self.from_ms, item.min_ts_ms) if self.from_ms else item.min_ts_ms
        self.to_ms = max(self.to_ms, item.max_ts_ms)


class Outbox:
    def __init__(self, max_batches: int) -> None:
        self._max = max_batches
        self._items: OrderedDict[int, Pending] = OrderedDict()
        self.points = 0
        self.dropped = DropAccount()
        self.changed = asyncio.Event()

    def __len__(self) -> int:
        return len(self._items)

    def put(self, seq: int, item: Pending) -> None:
        self._items[seq] = item
        self.points += item.points
        while len(self._items) > self._max:
            old_seq, old = self._items.popitem(last=False)
            self.points -= old.points
            self.dropped.add(old)
            log.warning("outbox full (%d batches): dropped batch %d with %d points", self._max, old_seq, old.points)
        self.changed.set()

    def after(self, seq: int, limit: int) -> list[tuple[int, Pending]]:
        """Up to `limit` batches numbered above `seq`, oldest first."""
        found: list[tuple[int, Pending]] = []
        for s, item in self._items.items():
            if s > seq:
                found.append((s, item))
                if len(found) >= limit:
                    break
        return found

    def count_upto(self, seq: int) -> int:
        """How many pending batches are numbered `seq` or below (sent, not yet acked)."""
        count = 0
        for s in self._items:
            if s > seq:
                break
            count += 1
        return count

    def ack(self, seq: int) -> int:
        """Forget every batch numbered `seq` or below; return how many went."""
        released = 0
        while self._items:
            first = next(iter(self._items))
            if first > seq:
                break
            self.points -= self._items.pop(first).points
            released += 1
        if released:
            self.changed.set()
        return released

    def reject(self, seq: int, reason: str) -> None:
        """The collector refused this batch as malformed: resending cannot help."""
        item = self._items.pop(seq, None)
        if item is not None:
            self.points -= item.points
            self.dropped.add(item)
            log.error("collector rejected batch %d (%d points), dropped it: %s", seq, item.points, reason)

    def oldest(self) -> int:
        return next(iter(self._items), 0)

    def renumber(self, first: int) -> dict[int, int]:
        """Give every pending batch a new number from `first` on (state was lost)."""
        mapping: dict[int, int] = {}
        renumbered: OrderedDict[int, Pending] = OrderedDict()
        for offset, (seq, item) in enumerate(self._items.items()):
            item.message.batch.seq = first + offset
            renumbered[first + offset] = item
            mapping[seq] = first + offset
        self._items = renumbered
        return mapping
