"""agent/ssh/lines.py: output chunks become lines as they complete, capped at max_bytes."""

from __future__ import annotations

from agent.ssh.lines import LineStream


def test_lines_are_emitted_as_their_newline_arrives() -> None:
    seen: list[str] = []
    stream = LineStream(seen.append, 1000)
    stream.feed(b"first li")
    assert seen == []
    stream.feed(b"ne\r\nsecond\nthi")
    assert seen == ["first line", "second"]
    assert stream.close() == "first line\nsecond\nthi"
    assert seen == ["first line", "second", "thi"]


def test_a_character_split_across_chunks_stays_whole() -> None:
    seen: list[str] = []
    stream = LineStream(seen.append, 1000)
    encoded = "机房 A\n".encode()
    for i in range(len(encoded)):
        stream.feed(encoded[i:i + 1])
    assert seen == ["机房 A"]
    assert stream.close() == "机房 A\n"


def test_the_cap_cuts_at_max_bytes_and_says_so() -> None:
    seen: list[str] = []
    stream = LineStream(seen.append, 10)
    assert stream.feed(b"12345\n")
    assert not stream.feed(b"6789\nabcdef\n")
    assert stream.truncated and stream.received == 10
    assert stream.close() == "12345\n6789"
    assert seen == ["12345", "6789"]
    assert not stream.feed(b"more")


def test_reconcile_streams_only_what_was_not_streamed_yet() -> None:
    seen: list[str] = []
    stream = LineStream(seen.append, 1000)
    stream.feed(b"a\nb\nprompt#")
    assert stream.reconcile("a\nb\nc") == "a\nb\nc"
    assert seen == ["a", "b", "c"]
    assert stream.text == "a\nb\nc"


def test_reconcile_keeps_the_final_text_when_the_stream_differs() -> None:
    seen: list[str] = []
    stream = LineStream(seen.append, 1000)
    stream.feed(b"garbage\n")
    assert stream.reconcile("real output\n") == "real output\n"
    assert stream.text == "real output\n"
    empty = LineStream(seen.append, 1000)
    assert empty.reconcile("") == "" and empty.lines == []
