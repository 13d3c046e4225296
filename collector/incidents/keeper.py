"""Turn the check engine's findings into incidents: open, deduplicate, resolve, re-open, count flaps.

One incident per (agent, device, check, instance) at a time. It stays open
while the condition holds (a fire on an open incident only refreshes it),
is resolved when the engine says the check recovered, and is closed once it
has stayed resolved for `reopen_window`. A fire within that window re-opens
the same incident and counts a flap; from `flap_limit` flaps on, the
incident is marked flapping and `notify` is told so once, then stays quiet
until the incident settles (a `settled` notice says when it did). Alertmanager declined to do this
(alertmanager#204); a storm of open/close mails for one bad port is what it
prevents.

Every step is written to `incident_timeline` in the same transaction as the
incident row, with the time the data says it happened; the SLA clocks are
computed from that timeline. So is the notice (`incident_notices`, see
notices.py): the notification service sends it later, on its own thread,
and a crash between the two loses nothing. Maintenance windows
(maintenance.py) hold back opening and notices; a device unreachable while
its site's agent is unreachable is folded under the site incident
(grouping.py) and not notified on its own.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, insert, select, update

from collector.checks.engine import DeviceInfo, Finding, InstanceKey
from collector.incidents import grouping, maintenance, notices
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
            if notice is not None and not self._record_notice(connection, notice.incident_id, notice.kind, notice.finding.at_ms):
                notice = None
        if notice is not None:
            self._notify(notice)

    def _record_notice(self, connection, incident_id: int, kind: str, at_ms: int) -> bool:  # type: ignore[no-untyped-def]
        """Write the notice with the change it tells of; False when it is held back (recorded as suppressed)."""
        i = schema.incidents
        row = connection.execute(select(i.c.customer, i.c.site, i.c.agent_id, i.c.device_id, i.c.parent_incident_id)
                                 .where(i.c.incident_id == incident_id)).one()
        state, reason = notices.PENDING, ""
        window = maintenance.covering(connection, row.customer, row.site, row.agent_id, row.device_id, at_ms)
        if row.parent_incident_id:
            state, reason = notices.SUPPRESSED, f"folded under site incident {row.parent_incident_id}"
        elif window is not None:
            state, reason = notices.SUPPRESSED, maintenance.describe(window)
        n = notices.count_in_timeline(connection, incident_id, kind)
        notices.record(connection, incident_id, kind, max(n, 1), at_ms, state=state, reason=reason)
        if state != notices.PENDING:
            self._timeline(connection, incident_id, at_ms, "suppressed", f"{kind} not notified: {reason}")
            return False
        return True

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
        device = self._directory(finding.agent_id, finding.device_id) or DeviceInfo("", "", "")
        window = maintenance.covering(connection, device.customer, device.site, finding.agent_id, finding.device_id, finding.at_ms)
        if window is not None:
            self._suppress(connection, window, finding)
            return None
        return Notice("opened", self._open(connection, finding, device), finding)

    def _suppress(self, connection, window, finding: Finding) -> None:  # type: ignore[no-untyped-def]
        """Record a fire (or a recovery) a maintenance window held back; a repeated fire is recorded once."""
        s = schema.maintenance_suppressed
        latest = connection.execute(select(s.c.kind).where(
            s.c.window_id == window.window_id, s.c.agent_id == finding.agent_id, s.c.device_id == finding.device_id,
            s.c.check_id == finding.check.id, s.c.instance == finding.instance,
        ).order_by(s.c.entry_id.desc()).limit(1)).scalar()
        if latest == finding.kind or (latest is None and finding.kind == "resolve"):
            return
        connection.execute(insert(s).values(
            window_id=window.window_id, agent_id=finding.agent_id, device_id=finding.device_id, check_id=finding.check.id,
            instance=finding.instance, kind=finding.kind, at_ms=finding.at_ms,
            value=None if math.isnan(finding.value) else finding.value,
            threshold=None if math.isnan(finding.threshold) else finding.threshold,
            thresholds=json.dumps(dict(finding.thresholds)),
        ))
        log.info("%s of %s on %s %s held back by %s", finding.kind, finding.check.id, finding.device_id,
                 finding.instance, maintenance.describe(window))

    def _open(self, connection, finding: Finding, device: DeviceInfo) -> int:  # type: ignore[no-untyped-def]
        check = finding.check
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
        self._group(connection, int(incident_id), finding)
        return int(incident_id)

    def _group(self, connection, incident_id: int, finding: Finding) -> None:  # type: ignore[no-untyped-def]
        """Fold a device incident under its site's, or a site incident's devices under it (grouping.py)."""
        if finding.check.id in grouping.DEVICE_CHECKS:
            site = grouping.site_incident(connection, finding.agent_id, finding.at_ms)
            if site is not None:
                grouping.fold(connection, incident_id, site.incident_id)
                self._timeline(connection, incident_id, finding.at_ms, "grouped",
                               f"folded under incident {site.incident_id}: the site's agent is unreachable")
        elif finding.check.id == grouping.SITE_CHECK:
            children = grouping.adoptable(connection, finding.agent_id, finding.at_ms)
            for child in children:
                grouping.fold(connection, child, incident_id)
                self._timeline(connection, child, finding.at_ms, "grouped",
                               f"folded under incident {incident_id}: the site's agent is unreachable")
            if children:
                self._timeline(connection, incident_id, finding.at_ms, "grouped",
                               f"{len(children)} device incident(s) of this site folded under this one")

    def _resolve(self, connection, finding: Finding) -> Notice | None:  # type: ignore[no-untyped-def]
        current = self._latest(connection, finding)
        if current is None:
            self._resolve_suppressed(connection, finding)
            return None
        if current.status not in ACTIVE:
            return None
        if finding.at_ms < current.last_fired_ms:
            return None  # a replayed recovery older than the latest fire: the condition holds now
        i = schema.incidents
        connection.execute(update(i).where(i.c.incident_id == current.incident_id).values(status="resolved", resolved_ms=finding.at_ms))
        self._timeline(connection, current.incident_id, finding.at_ms, "resolved", "the check recovered")
        return None if current.flapping else Notice("resolved", current.incident_id, finding)

    def _resolve_suppressed(self, connection, finding: Finding) -> None:  # type: ignore[no-untyped-def]
        """A recovery of something a maintenance window held back: recorded, so the window's end opens nothing."""
        s = schema.maintenance_suppressed
        latest = connection.execute(select(s.c.window_id, s.c.kind).where(
            s.c.agent_id == finding.agent_id, s.c.device_id == finding.device_id,
            s.c.check_id == finding.check.id, s.c.instance == finding.instance,
        ).order_by(s.c.entry_id.desc()).limit(1)).first()
        if latest is not None and latest.kind == "fire":
            window = connection.execute(select(schema.maintenance_windows).where(
                schema.maintenance_windows.c.window_id == latest.window_id)).one()
            self._suppress(connection, window, finding)

    def release_ended_windows(self, now_ms: int) -> int:
        """Open what still fires at the end of a maintenance window; returns how many incidents that opened."""
        import checks

        w, s = schema.maintenance_windows, schema.maintenance_suppressed
        with self.engine.connect() as connection:
            ended = connection.execute(select(w).where(w.c.ends_ms <= now_ms, w.c.released_ms == 0)).all()
        opened = 0
        library = checks.library()
        for window in ended:
            with self.engine.connect() as connection:
                entries = connection.execute(select(s).where(s.c.window_id == window.window_id).order_by(s.c.entry_id)).all()
            latest = {(e.agent_id, e.device_id, e.check_id, e.instance): e for e in entries}
            for (agent_id, device_id, check_id, instance), entry in latest.items():
                check = library.get(check_id)
                if entry.kind != "fire" or check is None:
                    continue
                finding = Finding(
                    "fire", check, agent_id, device_id, instance, window.ends_ms, now_ms,
                    math.nan if entry.value is None else entry.value,
                    math.nan if entry.threshold is None else entry.threshold,
                    json.loads(entry.thresholds),
                )
                self.handle(finding)
                with self.engine.begin() as connection:
                    current = self._latest(connection, finding)
                    if current is not None and current.happened_ms == window.ends_ms and current.status in ACTIVE:
                        opened += 1
                        since = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(entry.at_ms / 1000))
                        self._timeline(connection, current.incident_id, window.ends_ms, "note",
                                       f"still failing when {maintenance.describe(window)} ended; held back since {since} UTC")
            with self.engine.begin() as connection:
                connection.execute(update(w).where(w.c.window_id == window.window_id).values(released_ms=now_ms))
        return opened

    def sweep(self, now_ms: int) -> int:
        """Close incidents resolved for longer than the re-open window; returns how many.

        First opens what still fires at the end of a maintenance window.
        """
        self.release_ended_windows(now_ms)
        i = schema.incidents
        with self.engine.begin() as connection:
            done = connection.execute(select(i.c.incident_id, i.c.flapping).where(
                i.c.status == "resolved", i.c.resolved_ms < now_ms - self._reopen_window_ms)).all()
            for row in done:
                connection.execute(update(i).where(i.c.incident_id == row.incident_id).values(status="closed", closed_ms=now_ms))
                if row.flapping:
                    self._timeline(connection, row.incident_id, now_ms, "settled", "no re-fire within the window")
                    self._record_notice(connection, row.incident_id, "settled", now_ms)   # notifications resume: say so
                self._timeline(connection, row.incident_id, now_ms, "closed", "resolved and quiet")
        return len(done)

    @staticmethod
    def _timeline(connection, incident_id: int, at_ms: int, kind: str, text: str, who: str = "vigil") -> None:  # type: ignore[no-untyped-def]
        connection.execute(insert(schema.incident_timeline).values(incident_id=incident_id, at_ms=at_ms, kind=kind, who=who, text=text))
