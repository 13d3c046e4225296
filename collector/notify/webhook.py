"""Webhook notifications for chat tools: a JSON POST per notice, queued once by key, retried with backoff.

Formats: `vigil` posts the whole notice as JSON (for an integration of your
own); `slack`, `wecom` (企业微信), `dingtalk` (钉钉) and `feishu` (飞书)
post the text message each of those bots accepts. Chat webhook URLs carry
their token, so the URL is registered as a secret and only its host ever
appears in a log line or an error.

Outcomes: 2xx → sent; 408, 429, 5xx or no connection → retrying with
backoff; any other 4xx → failed (the request itself is wrong and will not
improve); not delivered `give_up_after` the enqueue → failed.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from sqlalchemy import Engine, Row, select, update
from sqlalchemy.exc import IntegrityError

from agent import logsetup
from collector.mail.retry import RetryPolicy
from collector.notify import Message
from collector.passes import Passes
from collector.store import schema

log = logging.getLogger("vigil.collector.notify")

PENDING = ("queued", "retrying")
enqueued = threading.Event()


def host_of(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc.rpartition("@")[2]


def body(message: Message, format: str) -> str:  # noqa: A002 - the config's word
    text = message.subject + "\n\n" + message.text
    if format == "vigil":
        payload: object = message.data | {"text": message.text}
    elif format == "slack":
        payload = {"text": text}
    elif format in ("wecom", "dingtalk"):
        payload = {"msgtype": "text", "text": {"content": text[:4000]}}
    elif format == "feishu":
        payload = {"msg_type": "text", "content": {"text": text}}
    else:
        raise ValueError(f"unknown webhook format {format!r}")
    return json.dumps(payload, ensure_ascii=False)


class WebhookNotifier:
    channel = "webhook"

    def __init__(self, engine: Engine, url: str, format: str = "vigil") -> None:  # noqa: A002
        self.engine = engine
        self.url = url
        self.format = format
        self.target = host_of(url)
        logsetup.register_secret(url)

    def enqueue(self, key: str, message: Message) -> bool:
        return enqueue(self.engine, key, self.url, body(message, self.format))


def enqueue(engine: Engine, key: str, url: str, payload: str) -> bool:
    """Queue a POST of `payload` (JSON text) to `url`; False if `key` was queued before."""
    w = schema.webhook_outbox
    try:
        with engine.begin() as connection:
            if connection.execute(select(w.c.hook_id).where(w.c.key == key)).first() is not None:
                return False
            connection.execute(w.insert().values(key=key, url=url, body=payload, created_ms=int(time.time() * 1000),
                                                 status="queued", attempts=0, next_attempt_ms=0))
    except IntegrityError:
        return False
    enqueued.set()
    return True


def deliveries(engine: Engine, key: str) -> list[Row]:
    """(status, attempts, last_error, sent_ms) of the webhook post queued under `key` ([] if none)."""
    w = schema.webhook_outbox
    with engine.connect() as connection:
        return connection.execute(select(w.c.status, w.c.attempts, w.c.last_error, w.c.sent_ms).where(w.c.key == key)).all()


class WebhookDeliverer:
    def __init__(self, engine: Engine, timeout_s: float = 10.0, retry: RetryPolicy = RetryPolicy(),
                 poll_interval_s: float = 5.0) -> None:
        self.engine = engine
        self.timeout_s = timeout_s
        self.retry = retry
        self.poll_interval_s = poll_interval_s
        self._lease_ms = int(max(60.0, 3 * timeout_s) * 1000)
        self._passes = Passes("webhooks", self.run_once, poll_interval_s, enqueued)
        self.sent = 0

    def run_once(self, now_ms: int | None = None) -> int:
        """POST every due hook once; returns how many were accepted (2xx)."""
        now = int(time.time() * 1000) if now_ms is None else now_ms
        w = schema.webhook_outbox
        with self.engine.connect() as connection:
            due = connection.execute(select(w.c.hook_id).where(w.c.status.in_(PENDING), w.c.next_attempt_ms <= now)
                                     .order_by(w.c.hook_id).limit(100)).scalars().all()
        sent = 0
        for hook_id in due:
            with self.engine.begin() as connection:
                if connection.execute(update(w).where(w.c.hook_id == hook_id, w.c.lease_until_ms <= now, w.c.status.in_(PENDING))
                                      .values(lease_until_ms=now + self._lease_ms)).rowcount != 1:
                    continue
                hook = connection.execute(select(w).where(w.c.hook_id == hook_id)).one()
            if self.retry.gave_up(now, hook.created_ms):
                status, error = "failed", f"{hook.last_error} (gave up after {self.retry.give_up_after_s / 3600:g} h)"
            else:
                status, error = self._post(hook.url, hook.body)
            values: dict[str, object] = {"status": status, "attempts": hook.attempts + 1, "last_error": error, "lease_until_ms": 0}
            if status == "sent":
                values["sent_ms"] = now
                sent += 1
            elif status == "retrying":
                values["next_attempt_ms"] = self.retry.next_attempt_ms(now, hook.attempts + 1)
            else:
                log.warning("webhook %s (%s) failed: %s", hook.key, host_of(hook.url), error)
            with self.engine.begin() as connection:
                connection.execute(update(w).where(w.c.hook_id == hook_id).values(**values))
        self.sent += sent
        return sent

    def _post(self, url: str, payload: str) -> tuple[str, str]:
        request = urllib.request.Request(url, data=payload.encode(), method="POST",
                                         headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "vigil-collector"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310 - http(s) checked in config
                response.read(65536)
                return "sent", ""
        except urllib.error.HTTPError as exc:
            reply = exc.read(300).decode("utf-8", "replace").strip()
            error = logsetup.redact(f"HTTP {exc.code} {exc.reason}" + (f": {reply}" if reply else ""))
            if exc.code in (408, 429) or exc.code >= 500:
                return "retrying", error
            return "failed", error
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            return "retrying", logsetup.redact(f"{host_of(url)}: {reason.__class__.__name__}: {reason}")[:500]

    # ------------------------------------------------------------ the collector's thread

    def start(self) -> None:
        self._passes.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._passes.stop(timeout_s)
