"""A stand-in for InfluxDB's refusals, in front of the real VictoriaMetrics.

VictoriaMetrics 1.79 answers 204 to every write and silently skips lines it
cannot use, and it is never overloaded on demand. An InfluxDB OSS 2.x under
load or with a bucket Telegraf already wrote to answers differently, and
this small HTTP server answers `/api/v2/write` the way InfluxDB documents it
(docs: "Troubleshoot issues writing data"), with InfluxDB's own wording:

* `script`: the next answers, before anything else — e.g. an overloaded
  InfluxDB's `429 Too Many Requests` / `503 Service Unavailable` with
  `Retry-After`; nothing is stored;
* `max_bytes`: a larger (uncompressed) body gets `413`, nothing stored;
* a line it cannot parse (here: an integer outside int64) gets `400` naming
  that line — `unable to parse '<line>': value out of range` — and nothing of
  the request is stored;
* a field written with another type than the bucket already holds
  (`field_types`, seeded by the test, then learnt from what it stores) gets
  `422` "partial write: field type conflict …", and the other lines are stored.

Lines it stores are forwarded, uncompressed and unchanged, to `upstream`
(the real VictoriaMetrics), where the tests read them back. Its line parser
is its own, not the sink's.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

INT64 = (-(2**63), 2**63 - 1)


@dataclass
class Seen:
    at: float
    lines: list[str]
    status: int


class ParseError(ValueError):
    pass


def split_unescaped(text: str, sep: str) -> list[str]:
    """Split at `sep` outside quotes and not after a backslash."""
    parts, current, quoted, index = [], [], False, 0
    while index < len(text):
        ch = text[index]
        if ch == "\\" and index + 1 < len(text):
            current.append(text[index : index + 2])
            index += 2
            continue
        if ch == '"':
            quoted = not quoted
        if ch == sep and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        index += 1
    parts.append("".join(current))
    return parts


def parse_line(line: str) -> tuple[str, dict[str, str]]:
    """(measurement, {field: type}) of one line; ParseError like InfluxDB's for what it refuses."""
    parts = split_unescaped(line, " ")
    if len(parts) != 3:
        raise ParseError("bad timestamp" if len(parts) > 3 else "missing fields")
    measurement = split_unescaped(parts[0], ",")[0].replace("\\ ", " ").replace("\\,", ",")
    types = {}
    for pair in split_unescaped(parts[1], ","):
        key, eq, value = pair.partition("=")
        if not eq or not value:
            raise ParseError("missing field value")
        if value.endswith("i"):
            number = int(value[:-1])
            if not INT64[0] <= number <= INT64[1]:
                raise ParseError("value out of range")
            kind = "integer"
        elif value.startswith('"'):
            kind = "string"
        elif value in ("t", "f", "true", "false"):
            kind = "boolean"
        else:
            float(value)
            kind = "float"
        types[key.replace("\\", "")] = kind
    int(parts[2])
    return measurement, types


class InfluxStandIn:
    def __init__(self, upstream: str | None = None) -> None:
        self.upstream = upstream
        self.script: list[tuple[int, dict[str, str], str]] = []
        self.max_bytes: int | None = None
        self.field_types: dict[tuple[str, str], str] = {}
        self.seen: list[Seen] = []
        self.stored: list[str] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, name="influx-standin", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> InfluxStandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def _answer(self, lines: list[str], query: dict[str, list[str]], size: int) -> tuple[int, dict[str, str], str]:
        if self.script:
            return self.script.pop(0)
        if self.max_bytes is not None and size > self.max_bytes:
            return 413, {}, _error("request too large", "unable to read data: points batch is too large")
        parsed = []
        for line in lines:
            try:
                parsed.append(parse_line(line))
            except (ParseError, ValueError) as exc:
                return 400, {}, _error("invalid", f"unable to parse '{line}': {exc}")
        good, conflicts = [], []
        types = dict(self.field_types)
        for line, (measurement, fields) in zip(lines, parsed):
            clash = next(((f, t) for f, t in fields.items() if types.get((measurement, f), t) != t), None)
            if clash:
                conflicts.append((measurement, clash[0], clash[1], types[(measurement, clash[0])]))
            else:
                good.append(line)
                types.update({(measurement, f): t for f, t in fields.items()})
        self.field_types = types
        if good:
            self._store(good, query)
        if conflicts:
            m, f, got, want = conflicts[0]
            return 422, {}, _error(
                "unprocessable entity",
                f'failure writing points to database: partial write: field type conflict: input field "{f}" on measurement '
                f'"{m}" is type {got}, already exists as type {want} dropped={len(conflicts)}',
            )
        return 204, {}, ""

    def _store(self, lines: list[str], query: dict[str, list[str]]) -> None:
        self.stored.extend(lines)
        if self.upstream:
            precision = query.get("precision", ["ns"])[0]
            request = urllib.request.Request(
                f"{self.upstream}/api/v2/write?org=o&bucket=b&precision={precision}", data="\n".join(lines).encode(), method="POST"
            )
            urllib.request.urlopen(request, timeout=10).read()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                url = urlparse(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                lines = [line for line in body.decode().split("\n") if line]
                with standin._lock:
                    if url.path != "/api/v2/write":
                        status, headers, text = 404, {}, _error("not found", f"path {url.path} not found")
                    else:
                        status, headers, text = standin._answer(lines, parse_qs(url.query), len(body))
                    standin.seen.append(Seen(time.monotonic(), lines, status))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                data = text.encode()
                if data:
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


def _error(code: str, message: str) -> str:
    return json.dumps({"code": code, "message": message})
