"""Route every stored point to the checks that read it, and turn their transitions into findings.

The engine sees each batch once, right after it is stored, and evaluates it
in memory: a series key is matched against the check library the first
time it is seen and the result cached (most series are read by no check and
cost one dict lookup afterwards). Each (device, check, instance) has its own
evaluator, so one interface's state never leaks into another's.

Findings (a check fired or resolved on an instance) go to a sink — the
incident keeper — with the time the data says it happened and the time the
engine saw it; for a replayed backlog the two differ by the outage.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from checks.rules import FIRING, Forecast, Hysteresis, OnEvent, Transition
from checks.spec import Check
from collector.decode import DecodedBatch
from protos import serieskey

Thresholds = dict[str, float]


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    customer: str
    site: str
    kind: str


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str            # "fire" | "resolve"
    check: Check
    agent_id: str
    device_id: str
    instance: str        # "interface=Gi1/0/3", "" for a device-wide check
    at_ms: int           # when the data says it happened
    seen_ms: int         # when the engine saw it
    value: float
    threshold: float
    thresholds: Mapping[str, float]


InstanceKey = tuple[str, str, str, str]     # agent, device, check id, instance
Settings = Callable[[Check, DeviceInfo, str, Mapping[str, str]], "tuple[bool, Thresholds]"]
Directory = Callable[[str, str], "DeviceInfo | None"]


def library_defaults(check: Check, device: DeviceInfo, device_id: str, labels: Mapping[str, str]) -> tuple[bool, Thresholds]:
    return True, dict(check.thresholds)


@dataclass(slots=True)
class _Route:
    """One check reading one series: the evaluator of its instance, and what the check needs besides."""

    check: Check
    key: InstanceKey
    evaluator: object            # an Evaluator (checks.rules)
    thresholds: Thresholds
    gate: tuple[InstanceKey, float] | None   # (companion's key, the value it must have)
    backfill: object | None = None           # a second evaluator for points older than the live one's newest


class CheckEngine:
    def __init__(self, checks: Mapping[str, Check], directory: Directory, sink: Callable[[Finding], None],
                 settings: Settings = library_defaults, firing: set[InstanceKey] | None = None) -> None:
        # Forecasts are fed hourly rollups and event checks events, not raw points.
        self._point_checks = [c for c in checks.values() if not isinstance(c.rule, (Forecast, OnEvent))]
        self._forecast_checks = [c for c in checks.values() if isinstance(c.rule, Forecast)]
        self._event_checks: dict[tuple[str, str], list[Check]] = {}   # (source, event name) → checks naming it
        for check in checks.values():
            if isinstance(check.rule, OnEvent):
                for name in (*check.rule.fires, *check.rule.clears):
                    self._event_checks.setdefault((check.applies.metric, name), []).append(check)
        self._companions = {c.applies.only_if[0] for c in self._point_checks if c.applies.only_if}
        # metric → the point checks that read it or track it as a companion, in library order:
        # routing a new series looks at those only (most metrics are read by none).
        self._checks_by_metric: dict[str, list[Check]] = {}
        for check in self._point_checks:
            metrics = [check.applies.metric]
            if check.applies.only_if and check.applies.only_if[0] != check.applies.metric:
                metrics.append(check.applies.only_if[0])
            for metric in metrics:
                self._checks_by_metric.setdefault(metric, []).append(check)
        self._directory = directory
        self._sink = sink
        self._settings = settings
        # Instances with an open incident (from the store at start): their evaluators start firing,
        # so a collector restart does not fire, and notify, a second time.
        self._firing_at_start = firing or set()
        self._routes: dict[tuple[str, str], list[_Route]] = {}
        self._evaluators: dict[InstanceKey, _Route] = {}
        self._last: dict[InstanceKey, float] = {}          # companions' latest values
        self.points_evaluated = 0

    # ------------------------------------------------------------ routing

    def _route(self, agent_id: str, key: str) -> list[_Route]:
        device_id, metric, labels_tuple = serieskey.split(key)
        routes: list[_Route] = []
        candidates = self._checks_by_metric.get(metric)
        if not candidates:
            return routes
        device = self._directory(agent_id, device_id)
        if device is None:
            return routes
        labels = dict(labels_tuple)
        for check in candidates:
            if metric in self._companions and check.applies.only_if and check.applies.only_if[0] == metric:
                instance = check.applies.instance_of(labels)
                routes.append(_Route(check, (agent_id, device_id, f"{check.id}:{metric}", instance), None, {}, None))
            if not check.applies.matches(metric, device.kind, labels):
                continue
            instance = check.applies.instance_of(labels)
            gate = None
            if check.applies.only_if:
                gate = ((agent_id, device_id, f"{check.id}:{check.applies.only_if[0]}", instance), check.applies.only_if[1])
            route = self._instance(check, (agent_id, device_id, check.id, instance), device, labels, gate)
            if route is not None:
                routes.append(route)
        return routes

    def _instance(self, check: Check, key: InstanceKey, device: DeviceInfo, labels: Mapping[str, str],
                  gate: tuple[InstanceKey, float] | None = None) -> _Route | None:
        """The route of one (device, check, instance), made on first use; None when overrides disable it.

        An instance with an incident already open (known at start) begins
        firing, so a restart opens and notifies nothing twice. Self-resolving
        point rules (drops, rises, absences) are left to fire again: the
        keeper takes a fire on an open incident as a refresh, without notice.
        """
        route = self._evaluators.get(key)
        if route is None:
            enabled, thresholds = self._settings(check, device, key[1], labels)
            if not enabled:
                return None
            evaluator = check.rule.evaluator(thresholds)
            if key in self._firing_at_start:
                if isinstance(evaluator, Hysteresis):
                    evaluator.state = FIRING
                elif isinstance(check.rule, (Forecast, OnEvent)):
                    evaluator.firing = True  # type: ignore[attr-defined]
            route = self._evaluators[key] = _Route(check, key, evaluator, thresholds, gate)
        return route

    # ------------------------------------------------------------ evaluation

    def evaluate(self, batch: DecodedBatch) -> None:
        """Feed every point of a stored batch to the checks that read its series."""
        agent_id, routes_cache = batch.agent_id, self._routes
        timestamps, values = batch.timestamps, batch.values
        seen_ms = int(time.time() * 1000)
        start = 0
        for key, count in zip(batch.keys, batch.counts):
            end = start + count
            routes = routes_cache.get((agent_id, key))
            if routes is None:
                routes = routes_cache[(agent_id, key)] = self._route(agent_id, key)
            for route in routes:
                if route.evaluator is None:  # a companion series: remember its newest value
                    self._last[route.key] = values[end - 1]
                    continue
                self._feed(route, timestamps, values, start, end, seen_ms)
            self.points_evaluated += count
            start = end

    def _feed(self, route: _Route, timestamps, values, start: int, end: int, seen_ms: int) -> None:  # type: ignore[no-untyped-def]
        """Feed points in order; points older than the instance's newest go to its backfill evaluator.

        An agent replays a backlog beside live data, so a series' 12:41 point
        may be judged before its 12:05 one. Time cannot run backwards in the
        live evaluator, so late points get an evaluator of their own that
        walks the backlog in its own order: an anomaly inside it still opens
        (and resolves) an incident at the time it happened.
        """
        evaluator = route.evaluator
        gate = route.gate
        for i in range(start, end):
            ts = timestamps[i]
            target = evaluator
            if ts <= evaluator.last_ms:  # type: ignore[attr-defined]
                if route.backfill is None:
                    route.backfill = route.check.rule.evaluator(route.thresholds)
                target = route.backfill
            if gate is not None and self._last.get(gate[0]) != gate[1]:
                transition = target.feed_good(ts)  # type: ignore[attr-defined]
            else:
                transition = target.feed(ts, values[i])  # type: ignore[attr-defined]
            if transition is not None:
                self._emit(route, transition, seen_ms)

    def evaluate_events(self, batch: DecodedBatch) -> None:
        """Feed the batch's events (SNMP traps) to the checks whose rule names them.

        The instance comes from the event's attributes (the trap's named
        fields, e.g. `alarm`), so one UPS alarm cleared does not resolve
        another. Events from senders that are not configured devices are
        stored and listed (`vigil events`) but judge nothing: there is no
        device to open an incident on.
        """
        seen_ms = int(time.time() * 1000)
        for event in batch.events:
            checks = self._event_checks.get((event.source, event.name))
            device = self._directory(batch.agent_id, event.device) if checks and event.device else None
            if device is None:
                continue
            for check in checks:  # type: ignore[union-attr]
                if check.applies.device_kinds and device.kind not in check.applies.device_kinds:
                    continue
                key = (batch.agent_id, event.device, check.id, check.applies.instance_of(event.attributes))
                route = self._instance(check, key, device, event.attributes)
                if route is None:
                    continue
                transition = route.evaluator.feed_event(event.name, event.at_ms)  # type: ignore[attr-defined]
                if transition is not None:
                    self._emit(route, transition, seen_ms)

    @property
    def forecast_metrics(self) -> set[str]:
        return {check.applies.metric for check in self._forecast_checks}

    def evaluate_hourly(self, agent_id: str, key: str, hours: list[tuple[int, float]]) -> None:
        """Feed one series' complete hours (start ms, mean), oldest first, to the forecast checks reading it.

        Called periodically with the last days of rollups; hours already
        seen are ignored by the evaluator, so a window may overlap the last.
        """
        device_id, metric, labels_tuple = serieskey.split(key)
        device = self._directory(agent_id, device_id)
        if device is None:
            return
        labels = dict(labels_tuple)
        seen_ms = int(time.time() * 1000)
        for check in self._forecast_checks:
            if not check.applies.matches(metric, device.kind, labels):
                continue
            route = self._instance(check, (agent_id, device_id, check.id, check.applies.instance_of(labels)), device, labels)
            if route is None:
                continue
            for hour_ms, mean in hours:
                transition = route.evaluator.feed(hour_ms, mean)  # type: ignore[attr-defined]
                if transition is not None:
                    self._emit(route, transition, seen_ms)

    def tick(self, now_ms: int | None = None) -> None:
        """Let time-driven rules (absence, self-resolving drops) act; call it every second or so."""
        now_ms = int(time.time() * 1000) if now_ms is None else now_ms
        for route in list(self._evaluators.values()):
            transition = route.evaluator.tick(now_ms)  # type: ignore[attr-defined]
            if transition is not None:
                self._emit(route, transition, now_ms)

    def _emit(self, route: _Route, transition: Transition, seen_ms: int) -> None:
        agent_id, device_id, _, instance = route.key
        self._sink(Finding(
            transition.kind, route.check, agent_id, device_id, instance, transition.at_ms, seen_ms,
            transition.value, transition.threshold, route.thresholds,
        ))

    def forget_routes(self) -> None:
        """Route series again (after a device's kind changed, or overrides were reloaded)."""
        self._routes.clear()
