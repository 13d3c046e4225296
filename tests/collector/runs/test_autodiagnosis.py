"""An incident whose check names a playbook queues that playbook on the device, aimed where the check fired."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import checks
from collector.checks.engine import Finding
from collector.incidents.keeper import Notice
from collector.runs import records
from collector.runs.autodiagnosis import REQUESTED_BY, AutoDiagnosis, fan_out, instance_params
from collector.store import database, registry
from playbooks.library import load
from protos.vigil.v1 import agent_pb2 as pb


@pytest.fixture
def engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = database.connect(f"sqlite:///{tmp_path / 'vigil.db'}")
    database.upgrade(engine)
    hello = pb.Hello(agent_id="agent-a", customer="客户A", site="上海机房", protocol="vigil.v1")
    hello.devices.add(id="db-1", kind="server", platform="linux", pollers=["ssh"])
    hello.devices.add(id="core-1", kind="switch", platform="cisco_ios", pollers=["snmp"])
    registry.register(engine, hello, "ipv4:127.0.0.1:5000", 1_000)
    yield engine
    engine.dispose()


def _notice(check_id: str, device: str, instance: str, kind: str = "opened", incident_id: int = 7) -> Notice:
    finding = Finding("fire", checks.library()[check_id], "agent-a", device, instance, 1_000, 1_100, 97.0, 90.0, {})
    return Notice(kind, incident_id, finding)


def test_instance_labels_become_parameters() -> None:
    assert instance_params("interface=Gi1/0/3,direction=in") == {"interface": "Gi1/0/3", "direction": "in"}
    assert instance_params("") == {}


def test_a_full_filesystem_queues_disk_usage_on_that_mount(engine) -> None:  # type: ignore[no-untyped-def]
    diagnosis = AutoDiagnosis(engine, load())
    diagnosis.on_notice(_notice("filesystem_usage", "db-1", "path=/var"))
    (run,) = records.queued(engine)
    assert (run.playbook_id, run.device_id, run.incident_id, run.requested_by) == ("disk_usage", "db-1", 7, REQUESTED_BY)
    assert json.loads(run.params) == {"mount": "/var"}
    assert run.playbook_hash == load().get("disk_usage").content_hash  # type: ignore[union-attr]


def test_only_openings_start_a_diagnosis_and_unsupported_platforms_are_skipped(engine) -> None:  # type: ignore[no-untyped-def]
    diagnosis = AutoDiagnosis(engine, load())
    diagnosis.on_notice(_notice("filesystem_usage", "db-1", "path=/", kind="resolved"))
    diagnosis.on_notice(_notice("filesystem_usage", "core-1", "path=/"))   # disk_usage has no cisco_ios commands
    assert records.queued(engine) == [] and diagnosis.started == 0
    diagnosis.on_notice(_notice("interface_errors_rising", "core-1", "interface=Gi1/0/3"))
    (run,) = records.queued(engine)
    assert run.playbook_id == "interface_errors" and json.loads(run.params) == {"interface": "Gi1/0/3"}


def test_an_offline_agent_gets_no_run_and_the_notice_goes_on(engine) -> None:  # type: ignore[no-untyped-def]
    registry.disconnected(engine, "agent-a", 2_000)
    seen: list[Notice] = []
    notify = fan_out(AutoDiagnosis(engine, load()).on_notice, seen.append)
    notice = _notice("filesystem_usage", "db-1", "path=/var")
    notify(notice)
    assert records.queued(engine) == [] and seen == [notice]
