"""The notification service: route pending incident notices to the notifiers, on its own thread.

The keeper's `notify` callback only wakes this thread (it runs on the check
engine's thread and must never wait); the notices themselves are already
in the store (collector/incidents/notices.py), so the service also finds
what a crash or a restart left pending. For each: render it in the
customer's language, queue it with every notifier of its route under the
notice's key, then mark it queued and note on the incident's timeline who
was told. A second pass over the same notice (a crash in between, another
replica) queues nothing twice: the outboxes refuse a known key.

`Notifications` assembles what the collector runs: this service, the mail
deliverer (if `smtp:` is set), the webhook deliverer and the SLA sweep.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

from sqlalchemy import Engine, select, update

import checks
from agent import logsetup
from collector.config import CollectorConfig
from collector.incidents import notices
from collector.incidents.keeper import Notice
from collector.mail.deliver import Deliverer
from collector.mail.retry import RetryPolicy
from collector.notify import diagnosis, render, routes
from collector.notify.webhook import WebhookDeliverer
from collector.passes import Passes
from collector.sla.calendar import BusinessHours
from collector.sla.clocks import clocks
from collector.sla.escalation import EscalationSweeper
from collector.store import schema

log = logging.getLogger("vigil.collector.notify")

DIAGNOSIS_GRACE_MS = 5_000     # how long an opening notice waits for its auto-diagnosis run to be queued at all


class NotificationService:
    def __init__(self, engine: Engine, config: CollectorConfig) -> None:
        self.engine = engine
        self.config = config
        self._wake = threading.Event()
        self._passes = Passes("notify", self.run_once, config.notify.poll_interval, self._wake)
        self.routed = 0
        for customer in config.customers.values():
            if customer.webhook is not None:
                logsetup.register_secret(customer.webhook.get_secret_value())

    def wake(self, notice: Notice | None = None) -> None:
        """The keeper's `notify` callback: never blocks, never touches the store."""
        self._wake.set()

    def run_once(self, now_ms: int | None = None) -> int:
        """Route every pending notice; returns how many were queued for someone."""
        now = int(time.time() * 1000) if now_ms is None else now_ms
        queued = 0
        for notice in notices.pending(self.engine):
            try:
                queued += self._route(notice, now)
            except Exception:  # noqa: BLE001 - one bad notice must not hold up the others
                log.exception("routing notice %s failed; it stays pending", notice.key)
        self.routed += queued
        return queued

    def _route(self, notice, now: int) -> int:  # type: ignore[no-untyped-def]
        i = schema.incidents
        with self.engine.connect() as connection:
            incident = connection.execute(select(i).where(i.c.incident_id == notice.incident_id)).first()
        if incident is None:
            self._finish(notice, notices.SKIPPED, "the incident no longer exists")
            return 0
        customer = self.config.customer(incident.customer)
        targets, why_not = routes.notifiers(self.engine, customer, incident, notice.kind, notice.level)
        if not targets:
            self._finish(notice, notices.SKIPPED, why_not)
            return 0
        policy = customer.sla
        calendar = policy.build_calendar()
        tz = calendar.tz if isinstance(calendar, BusinessHours) else dt.UTC
        clock = None
        if notice.level:
            with self.engine.connect() as connection:
                t = schema.incident_timeline
                timeline = connection.execute(select(t).where(t.c.incident_id == incident.incident_id)).all()
            found = clocks(incident, timeline, policy, now, calendar)
            if found is not None:
                clock = found[0] if notice.kind.startswith("response") else found[1]
        check = checks.library().get(incident.check_id)
        if notice.kind == "opened" and check is not None and check.playbook and self._diagnosis_pending(notice, now):
            return 0   # stays pending: the next pass looks again
        link = self.config.notify.incident_url.replace("{id}", str(incident.incident_id)) if self.config.notify.incident_url else ""
        message = render.render(
            incident, notice.kind, customer.language, findings=diagnosis.attachments_for(incident.incident_id, self.engine),
            playbook=(check.playbook or "") if check is not None else "", clock=clock, tz=tz, link=link, level=notice.level,
        )
        told = []
        for notifier in targets:
            notifier.enqueue(notice.key, message)
            told.append(f"{notifier.channel} {notifier.target}")
        what = ("escalated to level %d: " % notice.level if notice.level else f"{notice.kind} notified: ") + "; ".join(told)
        self._finish(notice, notices.QUEUED, what, timeline_kind="escalated" if notice.level else "notified")
        return 1

    def _diagnosis_pending(self, notice, now: int) -> bool:  # type: ignore[no-untyped-def]
        """Hold the opening notice while its auto-diagnosis runs (at most `diagnosis_wait`), so the mail has the findings.

        A run not even queued yet is waited for only `DIAGNOSIS_GRACE_MS`.
        """
        if self.config.notify.diagnosis_wait <= 0:
            return False
        age = now - notice.created_ms
        state = diagnosis.running(notice.incident_id, self.engine)
        if state is None:
            return age < min(DIAGNOSIS_GRACE_MS, self.config.notify.diagnosis_wait * 1000)
        return state and age < self.config.notify.diagnosis_wait * 1000

    def _finish(self, notice, state: str, reason: str, timeline_kind: str = "") -> None:  # type: ignore[no-untyped-def]
        n = schema.incident_notices
        with self.engine.begin() as connection:
            changed = connection.execute(update(n).where(n.c.notice_id == notice.notice_id, n.c.state == notices.PENDING)
                                         .values(state=state, reason=reason[:2000])).rowcount
            if changed and timeline_kind:
                connection.execute(schema.incident_timeline.insert().values(
                    incident_id=notice.incident_id, at_ms=int(time.time() * 1000), kind=timeline_kind, who="vigil", text=reason[:2000]))
        if state == notices.SKIPPED:
            log.info("incident %d: %s not notified: %s", notice.incident_id, notice.kind, reason)

    # ------------------------------------------------------------ the collector's thread

    def start(self) -> None:
        self._passes.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._passes.stop(timeout_s)


class Notifications:
    """Everything the collector runs for notices: routing, mail, webhooks, the SLA sweep; each its own thread."""

    def __init__(self, engine: Engine, config: CollectorConfig) -> None:
        notify = config.notify
        self.service = NotificationService(engine, config)
        self.deliverer = Deliverer(engine, config.smtp) if config.smtp is not None else None
        self.webhooks = WebhookDeliverer(engine, notify.webhook_timeout,
                                         RetryPolicy(notify.webhook_retry_initial, notify.webhook_retry_max, notify.webhook_give_up_after),
                                         poll_interval_s=notify.poll_interval)
        self.sla = EscalationSweeper(engine, config, wake=self.service.wake)
        if self.deliverer is None and any(c.on_call or c.contacts or c.escalation for c in config.customers.values()):
            log.warning("customers have e-mail routes but there is no smtp: section; mail is queued until there is")

    def wake(self, notice: Notice | None = None) -> None:
        self.service.wake(notice)

    def start(self) -> None:
        self.service.start()
        self.webhooks.start()
        self.sla.start()
        if self.deliverer is not None:
            self.deliverer.start()

    def stop(self) -> None:
        for part in (self.sla, self.service, self.webhooks, self.deliverer):
            if part is not None:
                part.stop()
