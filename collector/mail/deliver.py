"""Send what the outbox holds over SMTP: per recipient, with backoff, never twice.

One pass (`run_once`) takes the messages with a recipient due, claims each
(a lease on the outbox row, so collector replicas sharing the store never
send one message twice at once), sends it once to all its due recipients,
and writes each recipient's outcome:

* accepted → `sent`;
* refused with 5xx at RCPT (no such user) → `refused`; the others still get it;
* 4xx at RCPT, or no connection, TLS or login failure, a 4xx or 5xx to MAIL
  FROM (usually the server's policy or our config, which someone fixes) →
  `retrying`, next attempt after initial · 2^(n-1) up to the cap;
* 5xx after DATA (the message itself refused: too big, spam) → `failed`;
* still not delivered `give_up_after` the enqueue → `failed`.

The SMTP password is registered with the log's redaction filter and taken
out of every error text this module stores or logs.
"""

from __future__ import annotations

import logging
import smtplib
import socket
import ssl
import time
from typing import TYPE_CHECKING

from sqlalchemy import Engine, Row, and_, select, update

from agent import logsetup
from collector.mail import outbox
from collector.mail.message import Attachment, address_of, build, domain_of
from collector.mail.retry import RetryPolicy
from collector.passes import Passes
from collector.store import schema

if TYPE_CHECKING:
    from collector.config import SmtpConfig

log = logging.getLogger("vigil.collector.mail")

PENDING = ("queued", "retrying")
BATCH_MESSAGES = 100


class _ConnectionLost(Exception):
    """The server is unreachable or went away: every message of this pass waits for the next."""


class Deliverer:
    def __init__(self, engine: Engine, smtp: SmtpConfig) -> None:
        self.engine = engine
        self.smtp = smtp
        self.retry = RetryPolicy(smtp.retry_initial, smtp.retry_max, smtp.give_up_after)
        self._password = smtp.password.get_secret_value()
        logsetup.register_secret(self._password)
        self._lease_ms = int(max(120.0, 6 * smtp.timeout) * 1000)
        self._passes = Passes("mail", self.run_once, smtp.poll_interval, outbox.enqueued)
        self.sent = 0          # recipients accepted since start, for /metrics and tests

    # ------------------------------------------------------------ one pass

    def run_once(self, now_ms: int | None = None) -> int:
        """Send every due message once; returns how many recipients the server accepted."""
        now = int(time.time() * 1000) if now_ms is None else now_ms
        d = schema.mail_deliveries
        with self.engine.connect() as connection:
            due = connection.execute(
                select(d.c.message_id).where(d.c.status.in_(PENDING), d.c.next_attempt_ms <= now)
                .group_by(d.c.message_id).order_by(d.c.message_id).limit(BATCH_MESSAGES)
            ).scalars().all()
        accepted = 0
        session: smtplib.SMTP | None = None
        lost: str | None = None
        try:
            for message_id in due:
                if not self._claim(message_id, now):
                    continue
                try:
                    if lost is not None:
                        self._record_all(message_id, now, "retrying", lost)
                        continue
                    message, recipients, attachments = self._load(message_id, now)
                    if not recipients:
                        continue
                    if self.retry.gave_up(now, message.created_ms):
                        self._give_up(message_id, now)
                        continue
                    try:
                        if session is None:
                            session = self._connect()
                        outcome = self._send(session, message, recipients, attachments)
                    except _ConnectionLost as exc:
                        lost = str(exc)
                        log.warning("mail server %s:%d: %s; %d message(s) wait for the next attempt",
                                    self.smtp.host, self.smtp.port, lost, len(due))
                        session = _close(session)
                        self._record_all(message_id, now, "retrying", lost)
                        continue
                    accepted += self._record(message_id, now, outcome)
                finally:
                    self._release(message_id)
        finally:
            _close(session)
        self.sent += accepted
        return accepted

    def _claim(self, message_id: int, now: int) -> bool:
        o = schema.mail_outbox
        with self.engine.begin() as connection:
            claimed = connection.execute(update(o).where(o.c.message_id == message_id, o.c.lease_until_ms <= now)
                                         .values(lease_until_ms=now + self._lease_ms)).rowcount
        return claimed == 1

    def _release(self, message_id: int) -> None:
        o = schema.mail_outbox
        with self.engine.begin() as connection:
            connection.execute(update(o).where(o.c.message_id == message_id).values(lease_until_ms=0))

    def _load(self, message_id: int, now: int) -> tuple[Row, list[str], list[Attachment]]:
        o, d, a = schema.mail_outbox, schema.mail_deliveries, schema.mail_attachments
        with self.engine.connect() as connection:
            message = connection.execute(select(o).where(o.c.message_id == message_id)).one()
            recipients = connection.execute(
                select(d.c.recipient).where(d.c.message_id == message_id, d.c.status.in_(PENDING), d.c.next_attempt_ms <= now)
                .order_by(d.c.recipient)
            ).scalars().all()
            attachments = [Attachment(r.filename, r.content_type, r.data) for r in connection.execute(
                select(a).where(a.c.message_id == message_id).order_by(a.c.position))]
        return message, list(recipients), attachments

    # ------------------------------------------------------------ SMTP

    def _connect(self) -> smtplib.SMTP:
        smtp = self.smtp
        context = ssl.create_default_context(cafile=str(smtp.ca) if smtp.ca else None)
        if not smtp.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        helo = socket.gethostname() or "vigil"   # not getfqdn(): a reverse lookup can hang on a site without DNS
        session: smtplib.SMTP | None = None
        try:
            if smtp.security == "ssl":
                session = smtplib.SMTP_SSL(smtp.host, smtp.port, local_hostname=helo, timeout=smtp.timeout, context=context)
            else:
                session = smtplib.SMTP(smtp.host, smtp.port, local_hostname=helo, timeout=smtp.timeout)
                session.ehlo()
                if smtp.security == "starttls":
                    session.starttls(context=context)
                    session.ehlo()
            if smtp.username:
                session.login(smtp.username, self._password)
            return session
        except (OSError, smtplib.SMTPException) as exc:
            _close(session)
            raise _ConnectionLost(self._describe(exc, "login failed" if isinstance(exc, smtplib.SMTPAuthenticationError) else "")) from None

    def _send(self, session: smtplib.SMTP, message: Row, recipients: list[str],
              attachments: list[Attachment]) -> dict[str, tuple[str, str]]:
        """recipient → (status, error) for one attempt at one message."""
        sender = self.smtp.sender
        header_id = message.message_header_id.replace("@vigil.local>", f"@{domain_of(sender)}>")
        mime = build(sender, recipients, message.subject, message.text_body, message.html_body, attachments,
                     message_id=header_id, date_ms=message.created_ms)
        try:
            refused = session.send_message(mime, from_addr=address_of(sender), to_addrs=recipients)
        except smtplib.SMTPRecipientsRefused as exc:
            refused = exc.recipients
        except smtplib.SMTPSenderRefused as exc:
            error = self._describe(exc, "sender refused")
            return {r: ("retrying", error) for r in recipients}
        except smtplib.SMTPDataError as exc:
            status = "failed" if exc.smtp_code >= 500 else "retrying"
            error = self._describe(exc, "message refused")
            return {r: (status, error) for r in recipients}
        except (OSError, smtplib.SMTPException) as exc:
            raise _ConnectionLost(self._describe(exc)) from None
        outcome: dict[str, tuple[str, str]] = {}
        for recipient in recipients:
            if recipient in refused:
                code, text = refused[recipient]
                reply = f"{code} {_text(text)}"
                outcome[recipient] = ("refused", reply) if code >= 500 else ("retrying", reply)
            else:
                outcome[recipient] = ("sent", "")
        return outcome

    # ------------------------------------------------------------ the delivery log

    def _record(self, message_id: int, now: int, outcome: dict[str, tuple[str, str]]) -> int:
        d = schema.mail_deliveries
        accepted = 0
        with self.engine.begin() as connection:
            attempts = dict(connection.execute(select(d.c.recipient, d.c.attempts).where(d.c.message_id == message_id)).all())
            for recipient, (status, error) in outcome.items():
                n = attempts.get(recipient, 0) + 1
                values: dict[str, object] = {"status": status, "attempts": n, "last_error": error}
                if status == "sent":
                    values["sent_ms"] = now
                    accepted += 1
                elif status == "retrying":
                    values["next_attempt_ms"] = self.retry.next_attempt_ms(now, n)
                connection.execute(update(d).where(d.c.message_id == message_id, d.c.recipient == recipient).values(**values))
                if status in ("refused", "failed"):
                    log.warning("mail %d to %s %s: %s", message_id, recipient, status, error)
        return accepted

    def _record_all(self, message_id: int, now: int, status: str, error: str) -> None:
        d = schema.mail_deliveries
        with self.engine.connect() as connection:
            recipients = connection.execute(select(d.c.recipient).where(
                d.c.message_id == message_id, d.c.status.in_(PENDING), d.c.next_attempt_ms <= now)).scalars().all()
        self._record(message_id, now, {r: (status, error) for r in recipients})

    def _give_up(self, message_id: int, now: int) -> None:
        d = schema.mail_deliveries
        hours = self.retry.give_up_after_s / 3600
        with self.engine.begin() as connection:
            connection.execute(update(d).where(and_(d.c.message_id == message_id, d.c.status.in_(PENDING))).values(
                status="failed", last_error=d.c.last_error + f" (gave up after {hours:g} h)"))
        log.error("mail %d: not delivered within %g h, given up", message_id, hours)

    def _describe(self, exc: BaseException, what: str = "") -> str:
        if isinstance(exc, smtplib.SMTPResponseException):
            text = f"{exc.smtp_code} {_text(exc.smtp_error)}"
        else:
            text = f"{exc.__class__.__name__}: {exc}"
        if what:
            text = f"{what}: {text}"
        if self._password:
            text = text.replace(self._password, logsetup.MASK)
        return logsetup.redact(text)[:1000]

    # ------------------------------------------------------------ the collector's thread

    def start(self) -> None:
        if self._passes.start():
            log.info("mail: delivering over %s:%d (%s) as %s", self.smtp.host, self.smtp.port, self.smtp.security,
                     address_of(self.smtp.sender))

    def stop(self, timeout_s: float = 10.0) -> None:
        self._passes.stop(timeout_s)


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _close(session: smtplib.SMTP | None) -> None:
    if session is None:
        return None
    try:
        session.quit()
    except (OSError, smtplib.SMTPException):
        session.close()
    return None
