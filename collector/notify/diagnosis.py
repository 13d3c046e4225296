"""An incident's automatic diagnosis (its playbook runs) as it reaches the notifications.

`attachments_for` reads the findings of the finished playbook runs that
an incident started (`playbook_runs.incident_id`, findings as the agent
reported them: step, severity, title/explanation/advice in zh and en,
evidence). `running` says whether one of its runs is still on its way: the
notification service holds the opening notice for it a short while
(`notify.diagnosis_wait`), so the engineer's first mail already has the
device's answers.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from sqlalchemy import Engine, select

from collector.store import schema

log = logging.getLogger("vigil.collector.notify")

UNFINISHED = ("queued", "sent", "running")


@dataclass(frozen=True, slots=True)
class DiagnosisFinding:
    """One finding of a diagnostic playbook run on the incident's device."""

    title: str                 # English, e.g. "Interface Gi1/0/3 err-disabled (bpduguard)"
    detail: str = ""           # the explanation and the evidence
    severity: str = "info"     # info | warning | minor | major | critical
    playbook: str = ""         # the playbook that found it
    step: str = ""             # the step (command) that found it
    title_zh: str = ""
    detail_zh: str = ""


def attachments_for(incident_id: int, engine: Engine | None = None) -> list[DiagnosisFinding]:
    """The findings of the finished playbook runs this incident started, oldest run first."""
    if engine is None:
        return []
    r = schema.playbook_runs
    with engine.connect() as connection:
        runs = connection.execute(select(r.c.run_id, r.c.playbook_id, r.c.findings).where(
            r.c.incident_id == incident_id, r.c.status.notin_(UNFINISHED)).order_by(r.c.run_id)).all()
    found: list[DiagnosisFinding] = []
    for run in runs:
        try:
            items = json.loads(run.findings or "[]")
        except ValueError:
            log.warning("playbook run %d: findings are not JSON; left out of the notice", run.run_id)
            continue
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict):
                found.append(_finding(item, run.playbook_id))
    return found


def running(incident_id: int, engine: Engine) -> bool | None:
    """True while a run of this incident is unfinished, False when all are done, None when it has none."""
    r = schema.playbook_runs
    with engine.connect() as connection:
        statuses = connection.execute(select(r.c.status).where(r.c.incident_id == incident_id)).scalars().all()
    if not statuses:
        return None
    return any(status in UNFINISHED for status in statuses)


def _finding(item: dict, playbook: str) -> DiagnosisFinding:  # type: ignore[type-arg]
    def text(key: str, lang: str) -> str:
        value = item.get(key)
        return str(value.get(lang, "")) if isinstance(value, dict) else str(value or "")

    evidence = item.get("evidence") or {}
    shown = ", ".join(f"{k}={v}" for k, v in evidence.items()) if isinstance(evidence, dict) else str(evidence)
    return DiagnosisFinding(
        title=text("title", "en"), title_zh=text("title", "zh"),
        detail="; ".join(p for p in (text("explanation", "en"), text("advice", "en"), shown) if p),
        detail_zh="；".join(p for p in (text("explanation", "zh"), text("advice", "zh"), shown) if p),
        severity=str(item.get("severity", "info")), playbook=playbook, step=str(item.get("step", "")),
    )
