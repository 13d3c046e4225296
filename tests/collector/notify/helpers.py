"""What the notification tests share: a keeper on a real store, findings, a collector config, a webhook receiver."""

from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

import checks
from collector.checks.engine import DeviceInfo, Finding
from collector.config import CollectorConfig
from collector.incidents.keeper import IncidentKeeper, Notice
from collector.store import schema

MIN = 60_000
T0 = 1_790_000_000_000            # 2026-09-21 14:13:20 UTC, a Monday
LIBRARY = checks.library()

SITES = {"a1": DeviceInfo("客户A", "上海机房", "server"), "a2": DeviceInfo("客户A", "北京机房", "server"),
         "b1": DeviceInfo("Beta Ltd", "London", "server")}


def directory(agent_id: str, device_id: str) -> DeviceInfo | None:
    return SITES.get(agent_id)


def keeper(engine: Engine, notify: Callable[[Notice], None] | None = None) -> IncidentKeeper:
    return IncidentKeeper(engine, directory, notify)


def finding(kind: str, at_ms: int, check_id: str = "cpu_high", agent_id: str = "a1", device_id: str = "db-1",
            instance: str = "cpu=cpu-total", value: float = 97.0) -> Finding:
    check = LIBRARY[check_id]
    return Finding(kind, check, agent_id, device_id, instance, at_ms, at_ms + 500, value, 90.0, dict(check.thresholds))


def config(smtp: Any = None, diagnosis_wait: float = 0.0, **customers: dict[str, Any]) -> CollectorConfig:
    """Notices are not held for an auto-diagnosis unless `diagnosis_wait` says so."""
    values: dict[str, Any] = {"notify": {"diagnosis_wait": diagnosis_wait}, "customers": customers or {
        "客户A": {"language": "zh", "on_call": ["noc@provider.cn"], "contacts": ["it@customer-a.cn"],
                 "escalation": [["lead@provider.cn"], ["manager@provider.cn"]]},
        "Beta Ltd": {"language": "en", "on_call": ["noc@provider.cn"]},
    }}
    if smtp is not None:
        values["smtp"] = smtp.model_dump() | {"password": smtp.password.get_secret_value()}
    return CollectorConfig.model_validate(values)


def incidents(engine: Engine) -> list[Any]:
    with engine.connect() as c:
        return c.execute(select(schema.incidents).order_by(schema.incidents.c.incident_id)).all()


def notices(engine: Engine) -> list[tuple[str, str, str]]:
    n = schema.incident_notices
    with engine.connect() as c:
        return [(r.key, r.state, r.reason) for r in c.execute(select(n).order_by(n.c.notice_id))]


def timeline(engine: Engine, incident_id: int) -> list[tuple[str, str]]:
    t = schema.incident_timeline
    with engine.connect() as c:
        return [(r.kind, r.text) for r in c.execute(select(t).where(t.c.incident_id == incident_id).order_by(t.c.entry_id))]


class WebhookReceiver:
    """A tiny HTTP server on 127.0.0.1 that keeps every POST; `answers` are the statuses to give first (then 200)."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, Any]]] = []
        self.answers: list[int] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                data = json.loads(self.rfile.read(int(self.headers["Content-Length"])).decode("utf-8"))
                status = receiver.answers.pop(0) if receiver.answers else 200
                if status == 200:
                    receiver.posts.append((self.path, data))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"errcode": 0}' if status == 200 else b'{"error": "busy"}')

            def log_message(self, *args: object) -> None:
                pass

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def store_path(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'vigil.db'}"
