"""Root-cause grouping: a site's agent unreachable folds its devices' unreachable incidents under it, without a storm."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from collector.notify.service import NotificationService
from collector.store import database
from tests.collector.notify.helpers import MIN, T0, config, finding, incidents, keeper, notices, store_path, timeline


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    store = database.open_store(store_path(tmp_path))
    yield store
    store.dispose()


def _site_down(at_ms: int, agent_id: str = "a1") -> object:
    return finding("fire", at_ms, check_id="agent_unreachable", agent_id=agent_id, device_id="vigil-agent", instance="", value=float("nan"))


def _device_down(at_ms: int, device_id: str, agent_id: str = "a1") -> object:
    return finding("fire", at_ms, check_id="device_unreachable", agent_id=agent_id, device_id=device_id, instance="", value=0.0)


def test_devices_unreachable_while_their_site_is_are_folded_and_not_notified(engine: Engine) -> None:
    told: list[object] = []
    k = keeper(engine, told.append)
    k.handle(_site_down(T0))
    # The agent comes back and replays its buffer: every device was unreachable during the outage.
    for device in ("core-sw1", "ups-1", "nas-1"):
        k.handle(_device_down(T0 + 2 * MIN, device))
    k.handle(_device_down(T0 + 2 * MIN, "sw-bj", agent_id="a2"))            # another site: its own incident
    rows = incidents(engine)
    assert [(r.device_id, r.parent_incident_id) for r in rows] == [
        ("vigil-agent", 0), ("core-sw1", 1), ("ups-1", 1), ("nas-1", 1), ("sw-bj", 0)]
    assert [n.incident_id for n in told] == [1, 5]
    assert ("grouped", "folded under incident 1: the site's agent is unreachable") in timeline(engine, 2)
    states = {key: state for key, state, _ in notices(engine)}
    assert states["incident:2:opened:1"] == "suppressed" and states["incident:1:opened:1"] == "pending"
    assert NotificationService(engine, config()).run_once() == 2            # the site and the other site's device
    # A folded incident's recovery is not told either.
    k.handle(finding("resolve", T0 + 30 * MIN, check_id="device_unreachable", device_id="ups-1", instance="", value=1.0))
    assert {key: state for key, state, _ in notices(engine)}["incident:3:resolved:1"] == "suppressed"


def test_device_incidents_opened_just_before_the_site_went_dark_are_adopted(engine: Engine) -> None:
    k = keeper(engine)
    k.handle(_device_down(T0 - 30 * MIN, "old-fault"))       # unrelated, long before
    k.handle(_device_down(T0 - 3 * MIN, "core-sw1"))         # the core switch died, then the agent lost its uplink
    k.handle(_site_down(T0))
    rows = {r.device_id: r.parent_incident_id for r in incidents(engine)}
    assert rows == {"old-fault": 0, "core-sw1": 3, "vigil-agent": 0}
    assert timeline(engine, 3)[-1] == ("grouped", "1 device incident(s) of this site folded under this one")


def test_a_device_unreachable_after_the_site_recovered_is_its_own_incident(engine: Engine) -> None:
    k = keeper(engine)
    k.handle(_site_down(T0))
    k.handle(finding("resolve", T0 + 10 * MIN, check_id="agent_unreachable", device_id="vigil-agent", instance="", value=1.0))
    k.handle(_device_down(T0 + 60 * MIN, "core-sw1"))
    assert [r.parent_incident_id for r in incidents(engine)] == [0, 0]
