"""The InfluxDB sink: gzip'd line protocol through influxdb-client's v2 write API.

Requests go through the client's `WriteService.post_write` — the v2 write
endpoint as the client binds it (token header, org, bucket, precision,
timeouts, TLS, its `ApiException`s) — synchronously: it returns once the
server answered, so the outbox knows a batch arrived before it moves its
cursor. Two parts of the client are left aside on purpose:

* the batching `WriteApi` (WriteOptions, an Rx pipeline with retries of its
  own) acknowledges points it still holds in memory; the outbox already is
  the batch buffer, and a durable one;
* the client's own gzip (`enable_gzip`) compresses inside the sending call at
  level 9: about 3 µs of CPU per point, on the sender thread. Here `pack()`
  gzips at `gzip_level` (default 1: 5× cheaper, bodies ~30 % larger) on the
  runner's reader thread, while the previous request is in flight, and the
  body goes out with `Content-Encoding: gzip`.

Answers are turned into what the runner does next (see `SinkError`), after
InfluxDB OSS 2.x's write API:

* 204: stored.
* 429, 503: overloaded — wait `Retry-After`, then send again.
* 413: too large — nothing stored; the runner splits the request.
* 400: malformed — nothing stored; InfluxDB names the first bad line
  (`unable to parse '<line>': <why>`), which goes to the dead letters, the rest
  is sent again. Without a named line the runner splits to find it.
* 422: partial write — the good points were stored; the message names the
  conflicting measurement and field (`field type conflict: input field "f" on
  measurement "m" is type integer, already exists as type float dropped=3`):
  those lines are dead letters. When the names do not account for every
  dropped point, the runner splits and sends again (InfluxDB overwrites a
  point it already has, so a good point sent twice is stored once).
* 401, 403, 404: token, org or bucket wrong — retried (a fixed config takes
  effect on restart) and logged as errors.
* anything else, and no answer at all: retried with backoff.

The token goes only into the client's Authorization header; it is never in
a message this module produces.
"""

from __future__ import annotations

import email.utils
import gzip
import re
import time
from collections.abc import Sequence

import urllib3
from influxdb_client import InfluxDBClient, WritePrecision
from influxdb_client.client.exceptions import InfluxDBError
from influxdb_client.service.write_service import WriteService

from collector.config import InfluxDBSink as InfluxDBSinkConfig
from collector.sinks import Encoded, Rejected, RetryLater, TooLarge
from collector.sinks.lineprotocol import LineEncoder
from collector.sinks.outbox import OutboxBatch

_PRECISION = {"s": WritePrecision.S, "ms": WritePrecision.MS, "us": WritePrecision.US, "ns": WritePrecision.NS}
_UNPARSABLE = re.compile(r"unable to parse '(.*?)': ", re.S)
_CONFLICT = re.compile(r'input field "((?:[^"\\]|\\.)*)" on measurement "((?:[^"\\]|\\.)*)"')
_DROPPED = re.compile(r"dropped=(\d+)")
MAX_RETRY_AFTER_S = 600.0


class InfluxDBSink:
    kind = "influxdb"

    def __init__(self, config: InfluxDBSinkConfig) -> None:
        self.name = config.name
        self.url = config.url
        self.org = config.org
        self.bucket = config.bucket
        self.precision = config.precision
        self.gzip_level = config.gzip_level
        self.encoder = LineEncoder(config.precision)
        self.client = InfluxDBClient(
            url=config.url,
            token=config.token.get_secret_value(),
            org=config.org,
            timeout=int(config.timeout * 1000),
            enable_gzip=False,  # pack() compresses
            verify_ssl=config.verify_tls,
            ssl_ca_cert=str(config.ca) if config.ca else None,
        )
        self._service = WriteService(self.client.api_client)
        self._write_precision = _PRECISION[config.precision]

    def __repr__(self) -> str:
        return f"InfluxDBSink({self.name!r}, {self.url}, org={self.org!r}, bucket={self.bucket!r})"

    def encode(self, batch: OutboxBatch) -> Encoded:
        return self.encoder.encode(batch)

    def pack(self, text: bytes) -> bytes:
        return gzip.compress(text, compresslevel=self.gzip_level, mtime=0)

    def send(self, records: Sequence[bytes], body: bytes) -> None:
        try:
            self._service.post_write(
                self.org, self.bucket, body, precision=self._write_precision, content_encoding="gzip",
                content_type="text/plain; charset=utf-8", accept="application/json",
            )
        except InfluxDBError as exc:
            raise classify(exc, records) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            detail = str(exc).splitlines()[0] if str(exc) else ""
            raise RetryLater(f"no answer from {self.url}: {exc.__class__.__name__}: {detail}"[:500]) from None

    def close(self) -> None:
        self.client.close()


def classify(exc: InfluxDBError, records: Sequence[bytes]) -> RetryLater | TooLarge | Rejected:
    """What the runner should do with an InfluxDB error answer to `records`."""
    status = int(getattr(exc, "status", 0) or 0)
    if exc.response is not None:
        message = str(exc.message or "").strip()
    else:  # no HTTP answer (e.g. a TLS failure): the client puts the cause in `reason`
        message = str(getattr(exc, "reason", "") or exc.message or "no answer")
    reason = f"HTTP {status}: {message}" if status else message
    if status in (429, 503):
        return RetryLater(reason, status, after_s=retry_after_seconds(exc.retry_after))
    if status == 413:
        return TooLarge(reason, status)
    if status == 400:
        named = _UNPARSABLE.search(message)
        text = named.group(1).encode() if named else None
        culprits = [i for i, line in enumerate(records) if line == text] or None
        return Rejected(reason, status, culprits=culprits[:1] if culprits else None, rest_stored=False)
    if status == 422:
        conflict = _CONFLICT.search(message)
        dropped = _DROPPED.search(message)
        if conflict:
            field, measurement = (_unquote(text) for text in conflict.groups())
            culprits = [i for i, line in enumerate(records) if measurement_and_field(line.decode()) == (measurement, field)]
            if culprits:
                complete = dropped is not None and int(dropped.group(1)) == len(culprits)
                return Rejected(reason, status, culprits=culprits, rest_stored=complete)
        return Rejected(reason, status, culprits=None, rest_stored=False)
    if status in (401, 403, 404):
        return RetryLater(reason + " (check the sink's token, org and bucket)", status, config_problem=True)
    return RetryLater(reason, status)


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: a number of seconds or an HTTP date (RFC 9110); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def measurement_and_field(line: str) -> tuple[str, str]:
    """The (unescaped) measurement and first field key of a line protocol line."""
    parts: list[str] = []
    current: list[str] = []
    index, n = 0, len(line)
    # measurement: up to an unescaped "," or " "; then tags up to an unescaped " "; then the field key up to "=".
    stage = "measurement"
    while index < n:
        ch = line[index]
        if ch == "\\" and index + 1 < n:
            current.append(line[index + 1])
            index += 2
            continue
        if stage == "measurement" and ch in ", ":
            parts.append("".join(current))
            current = []
            stage = "tags" if ch == "," else "field"
        elif stage == "tags" and ch == " ":
            current = []
            stage = "field"
        elif stage == "field" and ch == "=":
            parts.append("".join(current))
            break
        else:
            current.append(ch)
        index += 1
    return (parts + ["", ""])[0], (parts + ["", ""])[1]
