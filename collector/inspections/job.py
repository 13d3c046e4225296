"""One inspection run from claim to mail: inspect, store, render each language, write files, queue the mail.

Scheduled and on-demand runs go through `run`. Each step is recorded before
the next starts, so a run taken over after a crash (store.py) continues:
the stored result is reused, languages already rendered are not rendered
again, and the mail's key is the inspection's, so the outbox refuses a
second copy.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

import checks
from checks.spec import Check
from collector.inspections import mailing, store
from collector.inspections.build import Scope, Timings, build
from collector.inspections.data import DeviceRow
from collector.inspections.evaluate import Settings, library_settings
from collector.inspections.model import Inspection
from collector.inspections.period import Period

if TYPE_CHECKING:
    from collector.config import CollectorConfig, CustomerInspections

log = logging.getLogger("vigil.collector.inspections")


@dataclass
class Environment:
    """What a run needs from the collector's config, with defaults for a store opened without one."""

    provider: str = "Vigil"
    report_prefix: str = "VGL"
    output_dir: Path | None = None
    customers: Mapping[str, CustomerInspections] = field(default_factory=dict)
    contacts: Callable[[str], tuple[str, ...]] = lambda customer: ()
    sla: Callable[[str], object | None] = lambda customer: None
    settings: Settings = library_settings
    library: Mapping[str, Check] = field(default_factory=checks.library)
    default_timezone: str = "Asia/Shanghai"

    @classmethod
    def from_config(cls, config: CollectorConfig) -> Environment:
        from checks.overrides import Overrides

        overrides = Overrides.load(config.checks.overrides) if config.checks.overrides else Overrides()

        def settings(check: Check, device: DeviceRow, labels: Mapping[str, str]) -> tuple[bool, dict[str, float]]:
            return overrides.effective(check, device.customer, device.site, device.device_id, labels)

        inspections = config.inspections
        return cls(
            provider=inspections.provider, report_prefix=inspections.report_prefix, output_dir=inspections.output_dir,
            customers={c.customer: c for c in inspections.customers},
            contacts=lambda customer: tuple(config.customer(customer).contacts),
            sla=lambda customer: config.customer(customer).sla, settings=settings,
        )

    def timezone(self, customer: str) -> str:
        found = self.customers.get(customer)
        return found.timezone if found is not None else self.default_timezone

    def recipients(self, customer: str) -> tuple[str, ...]:
        found = self.customers.get(customer)
        if found is not None and found.recipients:
            return tuple(found.recipients)
        return self.contacts(customer)

    def scope(self, customer: str) -> Scope:
        found = self.customers.get(customer)
        return Scope(customer, display_name=found.display_name if found else "", provider=self.provider,
                     sites=tuple(found.sites) if found else (), sla=self.sla(customer), settings=self.settings,
                     library=self.library)


@dataclass
class Request:
    customer: str
    period: Period
    languages: tuple[str, ...] = ("zh",)
    send: bool = False
    trigger: str = "manual"
    due_ms: int = 0
    run_key: str = ""            # empty: a manual run of its own

    def key(self, now_ms: int) -> str:
        return self.run_key or f"manual:{self.customer}:{self.period.label}:{now_ms}"


@dataclass
class Outcome:
    inspection_id: int | None
    number: str = ""
    status: str = "skipped"                  # done | skipped (claimed elsewhere, or done before) | failed
    reports: dict[str, int] = field(default_factory=dict)      # lang → report id
    files: list[Path] = field(default_factory=list)
    mail_key: str = ""
    mail_queued: bool = False                # False with a mail_key: it had been queued before
    resumed: bool = False
    error: str = ""
    inspection: Inspection | None = None
    timings: dict[str, float] = field(default_factory=dict)


def run(engine: Engine, request: Request, environment: Environment, owner: str, now_ms: int | None = None,
        interrupt: Callable[[str], None] | None = None) -> Outcome:
    """Claim and carry out one run. `interrupt(step)` is the tests' crash point (after "result", "render:<lang>", "mail")."""
    from collector.reports.render import render

    now = int(time.time() * 1000) if now_ms is None else now_ms
    claim = store.claim(engine, request.key(now), request.customer, request.period, request.languages, request.send, owner,
                        environment.report_prefix, request.trigger, request.due_ms, now)
    if claim is None:
        return Outcome(None)
    outcome = Outcome(claim.inspection_id, claim.number, "running", resumed=claim.resumed)
    step = interrupt or (lambda name: None)
    try:
        inspection = Inspection.from_json(claim.result) if claim.result else None
        if inspection is None:
            timings = Timings()
            clock = time.perf_counter()
            previous = store.previous(engine, request.customer, request.period.start_ms, claim.inspection_id)
            inspection = build(engine, environment.scope(request.customer), request.period, claim.number, now, previous, timings)
            outcome.timings.update(read=timings.read_s, judge=timings.judge_s, inspect=time.perf_counter() - clock)
            store.save_result(engine, claim.inspection_id, inspection)
        step("result")
        pdfs: dict[str, bytes] = {}
        for lang in request.languages:
            report_id = store.report_id_for(engine, claim.inspection_id, lang)
            if report_id is None:
                rendered = render(inspection, lang)
                for name, seconds in rendered.timings.items():
                    outcome.timings[f"{name}:{lang}"] = seconds
                report_id = store.save_report(engine, claim.inspection_id, request.customer, claim.number, lang,
                                              rendered.html, rendered.pdf, rendered.pages, now)
                pdfs[lang] = rendered.pdf
                outcome.files += _write_files(environment.output_dir, inspection, lang, rendered.html, rendered.pdf)
            else:
                row = store.report(engine, report_id)
                pdfs[lang] = bytes(row.pdf)
            outcome.reports[lang] = report_id
            step(f"render:{lang}")
        if request.send:
            outcome.mail_key, outcome.mail_queued = mailing.enqueue(
                engine, claim.inspection_id, inspection, pdfs, environment.recipients(request.customer))
            step("mail")
        store.finish(engine, claim.inspection_id, now)
        outcome.status, outcome.inspection = "done", inspection
        log.info("inspection %s of %s (%s) done: %d devices, score %s%s", claim.number, request.customer, request.period.label,
                 len(inspection.devices), inspection.score,
                 f", mail {outcome.mail_key} {'queued' if outcome.mail_queued else 'was queued before'}" if request.send else "")
    except Exception as exc:
        if isinstance(exc, Interrupted):
            raise
        log.exception("inspection %s of %s failed", claim.number, request.customer)
        store.fail(engine, claim.inspection_id, f"{exc.__class__.__name__}: {exc}", now)
        outcome.status, outcome.error = "failed", f"{exc.__class__.__name__}: {exc}"
    return outcome


class Interrupted(Exception):
    """Raised by a test's `interrupt` to stop a run where a crash would."""


def file_stem(inspection: Inspection, lang: str) -> str:
    customer = re.sub(r'[\\/:*?"<>|\s]+', "-", inspection.display_name).strip("-") or "customer"
    return f"{inspection.number}-{customer}-{inspection.period_label}-{lang}"


def _write_files(directory: Path | None, inspection: Inspection, lang: str, html: str, pdf: bytes) -> list[Path]:
    if directory is None:
        return []
    directory.mkdir(parents=True, exist_ok=True)
    stem = file_stem(inspection, lang)
    written = []
    for suffix, data in ((".pdf", pdf), (".html", html.encode("utf-8"))):
        path = directory / f"{stem}{suffix}"
        tmp = path.with_suffix(suffix + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
        written.append(path)
    return written
