"""Root-cause grouping: while a site's agent is unreachable, its devices' unreachable incidents fold under it.

When a site goes dark (power, uplink, the core switch), every device behind
it becomes unreachable too; one incident per device is a storm that hides
the cause. A `device_unreachable` incident opened while the same agent's
`agent_unreachable` incident covers its time (open, or resolved after it)
is folded under that site incident (`parent_incident_id`): it is recorded
with its own timeline, but neither notified nor timed by the SLA on its own.
When the site incident opens, device incidents the same agent opened just
before (`ADOPT_BEFORE_MS`: the devices often fail first) are folded under it.
"""

from __future__ import annotations

from sqlalchemy import Connection, Row, or_, select, update

from collector.store import schema

SITE_CHECK = "agent_unreachable"
DEVICE_CHECKS = frozenset({"device_unreachable"})
ADOPT_BEFORE_MS = 10 * 60_000
ACTIVE = ("open", "acknowledged", "planned")


def site_incident(connection: Connection, agent_id: str, at_ms: int) -> Row | None:
    """The agent's site incident whose span covers `at_ms` (the data's time), if any."""
    i = schema.incidents
    return connection.execute(select(i.c.incident_id, i.c.happened_ms).where(
        i.c.agent_id == agent_id, i.c.check_id == SITE_CHECK, i.c.parent_incident_id == 0,
        i.c.happened_ms <= at_ms + ADOPT_BEFORE_MS,
        or_(i.c.status.in_(ACTIVE), i.c.resolved_ms >= at_ms),
    ).order_by(i.c.incident_id.desc()).limit(1)).first()


def adoptable(connection: Connection, agent_id: str, at_ms: int) -> list[int]:
    """Open device incidents of this agent that began at most ADOPT_BEFORE_MS before the site incident."""
    i = schema.incidents
    return list(connection.execute(select(i.c.incident_id).where(
        i.c.agent_id == agent_id, i.c.check_id.in_(sorted(DEVICE_CHECKS)), i.c.parent_incident_id == 0,
        i.c.status.in_(ACTIVE), i.c.happened_ms >= at_ms - ADOPT_BEFORE_MS,
    ).order_by(i.c.incident_id)).scalars())


def fold(connection: Connection, child_id: int, parent_id: int) -> None:
    i = schema.incidents
    connection.execute(update(i).where(i.c.incident_id == child_id).values(parent_incident_id=parent_id))
