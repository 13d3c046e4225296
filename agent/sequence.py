"""Per-agent batch sequence numbers that survive restarts.

The collector drops any batch whose number is at or below the highest it has
stored for this agent, so a number must never be reused. Writing the counter
on every batch would cost an fsync per batch; instead a block of numbers is
reserved on disk (hi/lo allocation) and used from memory. A crash skips the
rest of a block, which leaves a harmless gap; it never repeats a number.
"""

from __future__ import annotations

import os
from pathlib import Path

BLOCK = 1000


class SequenceAllocator:
    def __init__(self, state_dir: Path) -> None:
        self._path = state_dir / "sequence"
        state_dir.mkdir(parents=True, exist_ok=True)
        self.fresh = not self._path.exists()
        reserved = 0 if self.fresh else self._read()
        self._next = reserved + 1
        self._ceiling = reserved

    def _read(self) -> int:
        text = self._path.read_text().strip()
        if not text.isdigit():
            raise ValueError(f"{self._path}: expected a number, found {text[:40]!r}")
        return int(text)

    def _reserve(self, ceiling: int) -> None:
        tmp = self._path.with_suffix(".tmp")
        with open(tmp, "w") as f:
            f.write(f"{ceiling}\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self._path)
        directory = os.open(self._path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        self._ceiling = ceiling

    def next(self) -> int:
        if self._next > self._ceiling:
            self._reserve(self._next + BLOCK - 1)
        value = self._next
        self._next += 1
        return value

    def skip_past(self, seq: int) -> None:
        """Continue after `seq` (the collector knows of newer numbers than our state)."""
        if seq >= self._next:
            self._next = seq + 1

