"""checks/rules.py: points in, fire/resolve out — hysteresis, `for` durations, late points, absence, drops."""

from __future__ import annotations

import math

import pytest

import checks
from checks.rules import Above, Absent, Below, Drop, State, Transition

MIN = 60_000


def _run(evaluator, points):  # type: ignore[no-untyped-def]
    return [t for ts, v in points if (t := evaluator.feed(ts, v)) is not None]


CPU = {"threshold": 90.0, "recover": 80.0, "for": 300.0, "recover_for": 120.0}


def test_above_fires_after_for_and_recovers_only_below_the_recovery_threshold() -> None:
    cpu = Above().evaluator(CPU)
    points = [(0, 95.0), (4 * MIN, 96.0), (5 * MIN, 97.0),   # bad for 5 min: fires at the 5-minute point
              (6 * MIN, 85.0), (10 * MIN, 89.0),            # between 80 and 90: still firing (hysteresis)
              (11 * MIN, 70.0), (12 * MIN, 75.0), (13 * MIN, 60.0)]  # good for 2 min: resolves
    assert _run(cpu, points) == [Transition("fire", 5 * MIN, 97.0, 90.0), Transition("resolve", 13 * MIN, 60.0, 90.0)]
    assert not cpu.firing


def test_a_short_spike_never_fires_and_a_relapse_while_recovering_keeps_the_incident() -> None:
    cpu = Above().evaluator(CPU)
    assert _run(cpu, [(0, 99.0), (2 * MIN, 99.0), (3 * MIN, 50.0), (4 * MIN, 99.0)]) == []
    cpu = Above().evaluator(CPU)
    fired = _run(cpu, [(0, 99.0), (5 * MIN, 99.0)])
    relapse = _run(cpu, [(6 * MIN, 50.0), (7 * MIN, 95.0), (8 * MIN, 50.0), (9 * MIN, 50.0)])
    assert [t.kind for t in fired] == ["fire"] and relapse == []   # 1 min of good is not 2: no resolve, no new fire
    assert cpu.firing


def test_late_points_do_not_move_time_backwards() -> None:
    cpu = Above().evaluator(CPU)
    _run(cpu, [(10 * MIN, 50.0)])
    assert _run(cpu, [(1 * MIN, 99.0), (2 * MIN, 99.0), (10 * MIN, 99.0)]) == []
    assert cpu.late_points == 3


def test_below_and_state() -> None:
    battery = Below().evaluator({"threshold": 30.0, "recover": 50.0, "for": 0.0, "recover_for": 0.0})
    assert [t.kind for t in _run(battery, [(0, 80.0), (1, 25.0), (2, 40.0), (3, 55.0)])] == ["fire", "resolve"]
    fan = State(bad=1.0).evaluator({"for": 0.0, "recover_for": 60.0})
    kinds = [(t.kind, t.at_ms) for t in _run(fan, [(0, 0.0), (MIN, 1.0), (2 * MIN, 0.0), (3 * MIN, 0.0)])]
    assert kinds == [("fire", MIN), ("resolve", 3 * MIN)]


def test_absence_fires_on_a_tick_past_the_limit_and_any_point_resolves() -> None:
    silent = Absent().evaluator({"after": 180.0})
    assert silent.tick(1000) is None  # never seen: nothing to miss yet
    silent.feed(0, 1.0)
    assert silent.tick(3 * MIN) is None
    fired = silent.tick(3 * MIN + 1)
    assert fired is not None and (fired.kind, fired.at_ms) == ("fire", 3 * MIN) and math.isnan(fired.value)
    assert silent.tick(10 * MIN) is None  # once
    resolved = silent.feed(11 * MIN, 1.0)
    assert resolved is not None and (resolved.kind, resolved.at_ms) == ("resolve", 11 * MIN) and not silent.firing


def test_a_drop_fires_at_once_and_resolves_itself_after_hold() -> None:
    uptime = Drop().evaluator({"hold": 600.0})
    assert _run(uptime, [(0, 1000.0), (MIN, 1060.0)]) == []
    fired = uptime.feed(2 * MIN, 5.0)
    assert fired == Transition("fire", 2 * MIN, 5.0, 1060.0)
    assert uptime.tick(11 * MIN) is None
    resolved = uptime.tick(12 * MIN)
    assert resolved is not None and resolved.kind == "resolve"


def test_every_shipped_check_has_defaults_for_its_rule_and_both_languages() -> None:
    library = checks.library()
    assert {"cpu_high", "interface_down"} <= set(library)
    for check in library.values():
        check.rule.evaluator(check.thresholds)  # every threshold the rule names has a default
        for text in (check.title, check.analysis, check.advice):
            assert text.en.strip() and text.zh.strip(), check.id
        assert check.severity in ("info", "warning", "minor", "major", "critical")


def test_a_check_whose_rule_lacks_a_default_is_refused() -> None:
    from checks.spec import Applies, Check, Text

    with pytest.raises(ValueError, match="that have no default"):
        Check(id="x", title=Text("x", "x"), severity="info", applies=Applies("m"), rule=Above(),
              thresholds={"threshold": 1.0}, analysis=Text("a", "a"), advice=Text("b", "b"))
