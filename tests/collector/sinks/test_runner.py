"""How the runner cuts an encoded batch into requests."""

from __future__ import annotations

from collector.sinks import Lines
from collector.sinks.runner import cut_requests


def _part(name: str, n: int) -> Lines:
    return Lines.of([f"{name} v={i} {i}".encode() for i in range(n)])


def test_whole_parts_share_a_request_up_to_batch_points_and_a_larger_part_is_cut() -> None:
    parts = [_part("a", 2), _part("b", 3), Lines(b"", 0), _part("c", 1), _part("d", 12), _part("e", 4)]
    requests = list(cut_requests(parts, 5))
    assert [len(r) for r in requests] == [5, 1, 5, 5, 2, 4]
    assert [record for r in requests for record in r] == [record for p in parts for record in p]
    assert requests[0].text == parts[0].text + b"\n" + parts[1].text  # joined, not split and joined again
    assert requests[1] is parts[3]
