"""agent/sequence.py: batch numbers that never repeat, even across restarts."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.sequence import BLOCK, SequenceAllocator


def test_fresh_state_dir_starts_at_one_and_is_created(tmp_path: Path) -> None:
    state = tmp_path / "nested" / "state"
    allocator = SequenceAllocator(state)
    assert allocator.fresh is True
    assert [allocator.next() for _ in range(3)] == [1, 2, 3]
    stored = int((state / "sequence").read_text())
    assert stored >= 3  # the reservation on disk covers every number handed out
    assert not (state / "sequence.tmp").exists()


def test_restart_never_repeats_a_number(tmp_path: Path) -> None:
    first = SequenceAllocator(tmp_path)
    before = [first.next() for _ in range(5)]
    # No clean shutdown: a second instance on the same directory, as after a crash.
    second = SequenceAllocator(tmp_path)
    assert second.fresh is False
    after = [second.next() for _ in range(5)]
    assert min(after) > max(before)
    assert after == sorted(after) and len(set(after)) == 5


def test_numbers_strictly_increase_across_blocks_and_instances(tmp_path: Path) -> None:
    seen: list[int] = []
    for _ in range(3):
        allocator = SequenceAllocator(tmp_path)
        seen.extend(allocator.next() for _ in range(BLOCK + 5))
    assert all(a < b for a, b in zip(seen, seen[1:]))


@pytest.mark.parametrize("content", ["garbage\n", "", "-5\n", "12abc"])
def test_corrupt_sequence_file_is_a_clear_error_naming_the_file(tmp_path: Path, content: str) -> None:
    (tmp_path / "sequence").write_text(content)
    with pytest.raises(ValueError) as caught:
        SequenceAllocator(tmp_path)
    assert str(tmp_path / "sequence") in str(caught.value)
    assert "expected a number" in str(caught.value)


def test_skip_past_continues_after_the_given_number(tmp_path: Path) -> None:
    allocator = SequenceAllocator(tmp_path)
    assert allocator.next() == 1
    allocator.skip_past(41)
    assert allocator.next() == 42
    allocator.skip_past(10)  # behind us: no effect, never goes back
    assert allocator.next() == 43


def test_skip_past_beyond_the_reserved_block_survives_a_restart(tmp_path: Path) -> None:
    allocator = SequenceAllocator(tmp_path)
    allocator.next()
    allocator.skip_past(5 * BLOCK)
    assert allocator.next() == 5 * BLOCK + 1
    assert SequenceAllocator(tmp_path).next() > 5 * BLOCK + 1
