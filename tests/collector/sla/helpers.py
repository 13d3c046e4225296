"""SLA test fixtures: incidents opened at exact times on a real store, a business-hours policy, the customer's config."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

import checks
from collector.checks.engine import DeviceInfo, Finding
from collector.config import CollectorConfig
from collector.incidents.keeper import IncidentKeeper

SH = ZoneInfo("Asia/Shanghai")
CUSTOMER = "客户A"


def at(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=SH).timestamp() * 1000)


def config(smtp: Any = None, **sla: Any) -> CollectorConfig:
    values: dict[str, Any] = {"notify": {"diagnosis_wait": 0}, "customers": {CUSTOMER: {
        "language": "zh", "on_call": ["noc@provider.cn"],
        "escalation": ["lead@provider.cn", ["manager@provider.cn", "director@provider.cn"]],
        "sla": {"calendar": {"timezone": "Asia/Shanghai", "hours": ["mon-fri 09:00-18:00"], "holidays": ["2026-11-16"]}} | sla,
    }}}
    if smtp is not None:
        values["smtp"] = smtp.model_dump() | {"password": smtp.password.get_secret_value()}
    return CollectorConfig.model_validate(values)


def keeper(engine: Engine) -> IncidentKeeper:
    return IncidentKeeper(engine, lambda a, d: DeviceInfo(CUSTOMER, "上海机房", "server"))


def open_incident(k: IncidentKeeper, seen: str, device: str, check_id: str = "filesystem_usage") -> int:
    """Open an incident seen exactly at `seen` (Shanghai time); returns its id."""
    check = checks.library()[check_id]
    when = at(seen)
    k.handle(Finding("fire", check, "a1", device, "path=/data", when, when, 97.0, 90.0, dict(check.thresholds)))
    with k.engine.connect() as c:
        from sqlalchemy import func, select

        from collector.store import schema
        return int(c.execute(select(func.max(schema.incidents.c.incident_id))).scalar_one())


def recover(k: IncidentKeeper, when: str, device: str, check_id: str = "filesystem_usage") -> None:
    check = checks.library()[check_id]
    k.handle(Finding("resolve", check, "a1", device, "path=/data", at(when), at(when), 50.0, 90.0, dict(check.thresholds)))
