"""The packed form of a batch's points, as stored in `point_blocks`.

Four arrays per block: series ids (int64), points per series (int32),
timestamps (int64 ms) and values (float64), all little-endian. `array` does
the packing and unpacking in C; nothing here loops over points in Python.
"""

from __future__ import annotations

import sys
from array import array
from dataclasses import dataclass
from itertools import accumulate

_SWAP = sys.byteorder != "little"


def _pack(values: array) -> bytes:
    if _SWAP:
        values = array(values.typecode, values)
        values.byteswap()
    return values.tobytes()


def _unpack(typecode: str, data: bytes) -> array:
    values = array(typecode)
    values.frombytes(data)
    if _SWAP:
        values.byteswap()
    return values


@dataclass(slots=True)
class Block:
    series_ids: array    # 'q'
    counts: array        # 'i'
    timestamps: array    # 'q'
    values: array        # 'd'

    def pack(self) -> dict[str, bytes]:
        return {
            "series_ids": _pack(self.series_ids),
            "counts": _pack(self.counts),
            "timestamps": _pack(self.timestamps),
            "point_values": _pack(self.values),
        }

    @classmethod
    def unpack(cls, row: object) -> Block:
        """From a `point_blocks` row (anything with those four attributes)."""
        return cls(
            _unpack("q", row.series_ids),  # type: ignore[attr-defined]
            _unpack("i", row.counts),  # type: ignore[attr-defined]
            _unpack("q", row.timestamps),  # type: ignore[attr-defined]
            _unpack("d", row.point_values),  # type: ignore[attr-defined]
        )

    def segments(self) -> list[tuple[int, int, int]]:
        """(series id, start, end) of each series' points in the flat arrays."""
        ends = list(accumulate(self.counts))
        starts = [0, *ends[:-1]]
        return list(zip(self.series_ids, starts, ends))
