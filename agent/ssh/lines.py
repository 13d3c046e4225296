"""Turn a command's output, as it trickles in, into complete lines and a capped text.

Every executor (paramiko exec, netmiko CLI, local subprocess) feeds raw bytes
here, so all of them cut at `max_bytes` and split lines the same way: UTF-8
decoded incrementally (a character split across two reads stays whole; bad
bytes become U+FFFD), `\\r\\n` ending as `\\n`, each complete line handed to
`on_line` as soon as its newline arrives.
"""

from __future__ import annotations

import codecs
import logging
from collections.abc import Callable

from agent.ssh.types import OnLine

log = logging.getLogger("vigil.agent.ssh")


def safe_call(on_line: OnLine, line: str) -> None:
    """A listener that raises must not abort the command it listens to."""
    try:
        on_line(line)
    except Exception:  # noqa: BLE001 - the listener's bug is logged, the command goes on
        log.exception("an output line listener failed")


class LineStream:
    """Bytes in, lines out. `emit` is called with each complete line (no line ending)."""

    def __init__(self, emit: Callable[[str], None] | None, max_bytes: int,
                 line_filter: Callable[[str], str] | None = None) -> None:
        self._emit = emit
        self._filter = line_filter
        self.max_bytes = max(0, max_bytes)
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._pending = ""
        self.lines: list[str] = []
        self.received = 0             # bytes accepted (never more than max_bytes)
        self.truncated = False
        self._ended_with_newline = False
        self._closed = False

    def set_emit(self, emit: Callable[[str], None] | None) -> None:
        self._emit = emit

    def feed(self, data: bytes) -> bool:
        """Take a chunk; False once the cap is reached (the rest of the chunk was dropped)."""
        if self.truncated or self._closed:
            return False
        room = self.max_bytes - self.received
        if len(data) > room:
            data, self.truncated = data[:room], True
        self.received += len(data)
        if data:
            self._take(self._decoder.decode(data))
        return not self.truncated

    def _take(self, text: str) -> None:
        text = self._pending + text
        *complete, self._pending = text.split("\n")
        for line in complete:
            self._line(line)
        if complete:
            self._ended_with_newline = not self._pending

    def _line(self, line: str) -> None:
        line = line.removesuffix("\r")
        if self._filter is not None:
            line = self._filter(line)
        self.lines.append(line)
        if self._emit is not None:
            self._emit(line)

    def close(self, flush_partial: bool = True) -> str:
        """End of output: the unfinished last line is emitted too (unless `flush_partial` is False)."""
        if not self._closed:
            self._closed = True
            tail = self._pending + self._decoder.decode(b"", final=True)
            self._pending = ""
            if tail and flush_partial:
                self._line(tail)
                self._ended_with_newline = False
        return self.text

    @property
    def text(self) -> str:
        return "\n".join(self.lines) + ("\n" if self._ended_with_newline and self.lines else "")

    def reconcile(self, final: str) -> str:
        """Adopt `final` (what the CLI library returned) as the output; emit its lines not yet streamed.

        The stream saw the raw channel; `final` is the library's cleaned-up
        version. When what was streamed is a prefix of it, the rest is
        streamed now, so a listener sees every line of the stored text once.
        """
        self._closed = True
        self._pending = ""
        raw = final.encode("utf-8", "replace")
        if len(raw) > self.max_bytes:
            final, self.truncated = raw[: self.max_bytes].decode("utf-8", "replace"), True
        final = final.replace("\r\n", "\n")
        wanted = final.split("\n") if final else []
        if final.endswith("\n"):
            wanted.pop()
        done = len(self.lines)
        if wanted[:done] == self.lines:
            for line in wanted[done:]:
                self.lines.append(line)
                if self._emit is not None:
                    self._emit(line)
        else:
            log.debug("streamed lines differ from the CLI's final output; the final output is kept")
            self.lines = wanted
        self._ended_with_newline = final.endswith("\n")
        return final
