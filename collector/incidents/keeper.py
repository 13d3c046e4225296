"""Turn the check engine's findings into incidents: open, deduplicate, resolve, re-open, count flaps.

One incident per (agent, device, check, instance) at a time. It stays open
while the condition holds (a fire on an open incident only refreshes it),
is resolved when the engine says the check recovered, and is closed once it
has stayed resolved for `reopen_window`. A fire within that window re-opens
the same incident and counts a flap; from `flap_limit` flaps on, the
incident is marked flapping and `notify` is told so once, then stays quiet
until the incident settles. Alertmanager declined to do this
(alertmanager#204); a storm of open/close mails for one bad port is what it
prevents.

Every step is written to `incident_timeline` in the same transaction as the
incident row, with the time the data says it happened; the SLA clocks are
computed from that timeline.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, insert, select, update

from collector.checks.engine import DeviceInfo, Finding, InstanceKey
from collector.store import schema

log = logging.getLogger("vigil.collector.incidents")

ACTIVE = ("open", "acknowledged", "planned")
REOPEN_WINDOW_MS = 30 * 60_000
FLAP_LIMIT = 3


@dataclass(frozen=True, slots=True)
class Notice:
    """Something a person should hear about: an incident opened, re-opened, went flapping, resolved."""

    kind: str            # "opened" | "reopened" | "flapping" | "resolved"
    incident_id: int
    finding: Finding


class IncidentKeeper:
    def __init__(self, engine: Engine, directory: Callable[[str, str], DeviceInfo | None],
                 notify: Callable[[Notice], None] | None = None,
                 reopen_window_ms: int = REOPEN_WINDOW_MS, flap_limit: int = FLAP_LIMIT) -> None:
        self.engine = engine
        self._directory = directory
        self._notify = notify or (lambda notice: None)
        self._reopen_window_ms = reopen_window_ms
        self._flap_limit = flap_limit

    def firing_keys(self) -> set[InstanceKey]:
        """Instances with an active incident: the check engine starts them as firing after a restart."""
        i = schema.incidents
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(i.c.agent_id, i.c.device_id, i.c.check_id, i.c.instance).where(i.c.status.in_(ACTIVE))
            )
            return {(r.agent_id, r.device_id, r.check_id, r.instance) for r in rows}

    def handle(self, finding: Finding) -> None:
        with self.engine.begin() as connection:
            notice = (self._fire if finding.kind == "fire" else self._resolve)(connection, finding)
        if notice is not None:
            self._notify(notice)

    def _latest(self, connection, finding: Finding):  # type: ignore[no-untyped-def]
        i = schema.incidents
        return connection.execute(
            select(i).where(
                i.c.agent_id == finding.agent_id, i.c.device_id == finding.device_id,
                i.c.check_id == finding.check.id, i.c.instance == finding.instance, i.c.status != "closed",
            ).order_by(i.c.incident_id.desc()).limit(1)
        ).first()

    def _fire(self, connection, finding: Finding) -> Notice | None:  # type: ignore[no-untyped-def]
        i = schema.incidents
        current = self._latest(connection, finding)
        if current is not None and current.status in ACTIVE:
            # A replayed (older) fire moves the start back; a newer one is the latest fire.
            connection.execute(update(i).where(i.c.incident_id == current.incident_id).values(
                happened_ms=min(current.happened_ms, finding.at_ms), last_fired_ms=max(current.last_fired_ms, finding.at_ms),
            ))
            return None
        if current is not None and finding.at_ms - current.resolved_ms <= self._reopen_window_ms:
            flaps = current.flaps + 1
            flapping = flaps >= self._flap_limit
            connection.execute(update(i).where(i.c.incident_id == current.incident_id).values(
                status="open", resolved_ms=0, last_fired_ms=finding.at_ms, flaps=flaps, flapping=flapping,
            ))
            self._timeline(connection, current.incident_id, finding.at_ms, "reopened", f"fired again (flap {flaps})")
            if flapping and not current.flapping:
                self._timeline(connection, current.incident_id, finding.at_ms, "flapping",
                               f"{flaps} re-fires within {self._reopen_window_ms // 60_000} min: notifications paused until it settles")
                return Notice("flapping", current.incident_id, finding)
            return None if current.flapping else Notice("reopened", current.incident_id, finding)
        return Notice("opened", self._open(connection, finding), finding)

    def _open(self, connection, finding: Finding) -> int:  # type: ignore[no-untyped-def]
        check = finding.check
        device = self._directory(finding.agent_id, finding.device_id) or DeviceInfo("", "", "")
        values = {
            **finding.thresholds, "device": finding.device_id, "instance": finding.instance.partition("=")[2] or finding.device_id,
            "value": finding.value, "threshold": finding.threshold,
            "for_min": finding.thresholds.get("for", 0.0) / 60,
        }
        analysis, advice = check.analysis.render(**values), check.advice.render(**values)
        incident_id = connection.execute(insert(schema.incidents).values(
            agent_id=finding.agent_id, device_id=finding.device_id, check_id=check.id, instance=finding.instance,
            customer=device.customer, site=device.site, severity=check.severity, status="open",
            happened_ms=finding.at_ms, seen_ms=finding.seen_ms, last_fired_ms=finding.at_ms,
            value=None if math.isnan(finding.value) else finding.value,
            threshold=None if math.isnan(finding.threshold) else finding.threshold,
            title_en=check.title.en, title_zh=check.title.zh, analysis_en=analysis.en, analysis_zh=analysis.zh,
            advice_en=advice.en, advice_zh=advice.zh,
        )).inserted_primary_key[0]
        late = finding.seen_ms - finding.at_ms
        note = f"seen {late // 60_000} min after it happened (replayed data)" if late > 60_000 else ""
        self._timeline(connection, incident_id, finding.at_ms, "opened", note or analysis.en)
        log.info("incident %d opened: %s on %s %s", incident_id, check.id, finding.device_id, finding.instance)
        return int(incident_id)

    def _resolve(self, connection, finding: Finding) -> Notice | None:  # type: ignore[no-untyped-def]
        current = self._latest(connection, finding)
        if current is None or current.status not in ACTIVE:
            return None
        if finding.at_ms < current.last_fired_ms:
            return None  # a replayed recovery older than the latest fire: the condition holds now
        i = schema.incidents
        connection.execute(update(i).where(i.c.incident_id == current.incident_id).values(status="resolved", resolved_ms=finding.at_ms))
        self._timeline(connection, current.incident_id, finding.at_ms, "resolved", "the check recovered")
        return None if current.flapping else Notice("resolved", current.incident_id, finding)

    def sweep(self, now_ms: int) -> int:
        """Close incidents resolved for longer than the re-open window; returns how many."""
        i = schema.incidents
        with self.engine.begin() as connection:
            done = connection.execute(select(i.c.incident_id, i.c.flapping).where(
                i.c.status == "resolved", i.c.resolved_ms < now_ms - self._reopen_window_ms)).all()
            for row in done:
                connection.execute(update(i).where(i.c.incident_id == row.incident_id).values(status="closed", closed_ms=now_ms))
                if row.flapping:
                    self._timeline(connection, row.incident_id, now_ms, "settled", "no re-fire within the window")
                self._timeline(connection, row.incident_id, now_ms, "closed", "resolved and quiet")
        return len(done)

    @staticmethod
    def _timeline(connection, incident_id: int, at_ms: int, kind: str, text: str, who: str = "vigil") -> None:  # type: ignore[no-untyped-def]
        connection.execute(insert(schema.incident_timeline).values(incident_id=incident_id, at_ms=at_ms, kind=kind, who=who, text=text))
