"""Start a check's diagnostic playbook on the device the moment its incident opens.

The engineer's first look at an incident should already hold the device's
answers (top processes for "CPU high", the largest directories for
"filesystem full"). A check names its playbook (`Check.playbook`); the
incident's instance labels fill the playbook's parameters of the same name,
or as the check maps them (`path=/var` → `mount`), so the diagnosis looks
where the check fired.

It runs on the check engine's thread, inside the keeper's notify callback:
one device lookup and one insert. A run that cannot be asked for (agent
offline, playbook missing on this platform) is logged and skipped; the
incident is never held back by its diagnosis.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from collector.incidents.keeper import Notice
from collector.runs import submit

log = logging.getLogger("vigil.collector.runs")

REQUESTED_BY = "vigil (auto-diagnosis)"


def instance_params(instance: str) -> dict[str, str]:
    """`interface=Gi1/0/3,queue=2` → {"interface": "Gi1/0/3", "queue": "2"}."""
    params: dict[str, str] = {}
    for part in instance.split(","):
        name, sep, value = part.partition("=")
        if sep and name.strip():
            params[name.strip()] = value.strip()
    return params


class AutoDiagnosis:
    def __init__(self, engine: Engine, library: Any) -> None:
        self.engine = engine
        self.library = library
        self.started = 0

    def on_notice(self, notice: Notice) -> None:
        if notice.kind not in ("opened", "reopened"):
            return
        finding = notice.finding
        playbook_id = finding.check.playbook
        if not playbook_id:
            return
        playbook = self.library.get(playbook_id)
        if playbook is None:
            log.warning("check %s names playbook %s, which is not installed", finding.check.id, playbook_id)
            return
        labels = instance_params(finding.instance)
        wanted = {name: name for name in playbook.params} | dict(finding.check.playbook_params)
        params = {name: labels[label] for name, label in wanted.items() if label in labels}
        try:
            device = submit.find_device(self.engine, f"{finding.agent_id}/{finding.device_id}")
            run_id = submit.submit(self.engine, self.library, playbook_id, device, params, REQUESTED_BY,
                                   incident_id=notice.incident_id)
        except submit.RunError as exc:
            log.info("incident %d: no automatic %s: %s", notice.incident_id, playbook_id, exc)
            return
        self.started += 1
        log.info("incident %d: diagnosis %s started as run %d", notice.incident_id, playbook_id, run_id)


def fan_out(*callbacks: Callable[[Notice], None] | None) -> Callable[[Notice], None]:
    """One notify callback calling each given one in order; one failing does not stop the others."""
    chosen = [c for c in callbacks if c is not None]

    def notify(notice: Notice) -> None:
        for callback in chosen:
            try:
                callback(notice)
            except Exception:  # noqa: BLE001 - a notice consumer's bug must not stop incidents
                log.exception("a notice consumer failed on incident %d", notice.incident_id)

    return notify
