"""checks/rules.py: points in, fire/resolve out — hysteresis, `for` durations, late points, absence, drops."""

from __future__ import annotations

import math

import pytest

import checks
from checks.rules import Above, Absent, Below, Drop, OnEvent, Restart, Rise, State, Transition

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


def test_feed_good_counts_as_good_whatever_the_value() -> None:
    port = State(bad=0.0).evaluator({"for": 60.0, "recover_for": 60.0})
    assert port.feed(0, 0.0) is None and port.feed_good(MIN) is None   # pending, then good: back to ok
    assert port.feed(2 * MIN, 0.0) is None and port.feed(3 * MIN, 0.0) is not None   # a new minute of bad fires
    assert port.feed_good(4 * MIN) is None   # recovering
    resolved = port.feed_good(5 * MIN)
    assert resolved is not None and resolved.kind == "resolve" and math.isnan(resolved.value)
    assert port.feed_good(5 * MIN) is None and port.late_points == 1


def test_a_restart_is_an_uptime_shorter_than_the_time_since_the_previous_point() -> None:
    uptime = Restart().evaluator({"hold": 600.0})
    assert _run(uptime, [(0, 86_400.0), (MIN, 86_460.0)]) == []
    assert uptime.feed(2 * MIN, 86_458.0) is None        # NTP stepped the clock back 62 s: not a reboot
    assert uptime.feed(3 * MIN, 40.0) == Transition("fire", 3 * MIN, 40.0, 86_458.0)
    assert uptime.tick(13 * MIN) is not None              # resolves itself, like Drop
    assert _run(uptime, [(4 * MIN, 100.0)]) == []          # seen 40 s after its boot, 100 s a minute later
    # Unreachable for an hour, then back with 20 minutes of uptime: it restarted while we could not see it.
    assert [t.kind for t in _run(uptime, [(64 * MIN, 1200.0)])] == ["fire"]


def test_the_sysuptime_wrap_after_497_days_is_not_a_restart() -> None:
    wrap = 2**32 / 100
    uptime = Restart().evaluator({"hold": 600.0})
    assert _run(uptime, [(0, wrap - 20), (MIN, 40.0), (2 * MIN, 100.0)]) == []   # wrap − 20 s + 60 s = 40 s
    assert [t.kind for t in _run(uptime, [(3 * MIN, 7.0)])] == ["fire"]
    host = Restart().evaluator({"hold": 600.0})                                  # psutil's uptime never wraps
    assert [t.kind for t in _run(host, [(0, 600 * 86400.0), (MIN, 30.0)])] == ["fire"]


def test_rise_fires_on_a_growing_total_and_resolves_hold_after_the_last_rise() -> None:
    dropped = Rise().evaluator({"threshold": 0.0, "hold": 600.0})
    assert _run(dropped, [(0, 0.0), (MIN, 0.0)]) == []
    assert dropped.feed(2 * MIN, 500.0) == Transition("fire", 2 * MIN, 500.0, 0.0)
    assert dropped.feed(5 * MIN, 800.0) is None                   # still rising: the same incident, held longer
    assert dropped.tick(14 * MIN) is None
    resolved = dropped.tick(15 * MIN)
    assert resolved is not None and resolved.kind == "resolve" and not dropped.firing


def test_rise_takes_a_total_that_went_down_for_a_restart_from_zero() -> None:
    dropped = Rise().evaluator({"threshold": 0.0, "hold": 600.0})
    assert _run(dropped, [(0, 900.0), (MIN, 0.0), (2 * MIN, 0.0)]) == []   # the agent restarted: nothing new lost
    agent_restarted_and_dropped = Rise().evaluator({"threshold": 0.0, "hold": 600.0})
    assert _run(agent_restarted_and_dropped, [(0, 900.0), (MIN, 120.0)]) == [Transition("fire", MIN, 120.0, 0.0)]


def test_on_event_fires_once_clears_on_its_clearing_event_or_after_a_while() -> None:
    rule = OnEvent(fires=("temperature_high",), clears=("temperature_normal",))
    assert rule.threshold_names() == ("resolve_after",)
    alarm = rule.evaluator({"resolve_after": 600.0})
    assert alarm.feed_event("link_down", 0) is None
    fired = alarm.feed_event("temperature_high", MIN)
    assert fired is not None and (fired.kind, fired.at_ms) == ("fire", MIN)
    assert alarm.feed_event("temperature_high", 2 * MIN) is None          # repeated: same incident
    resolved = alarm.feed_event("temperature_normal", 3 * MIN)
    assert resolved is not None and (resolved.kind, resolved.at_ms) == ("resolve", 3 * MIN)
    assert alarm.feed_event("temperature_high", MIN) is None and alarm.late_points == 1

    alarm = rule.evaluator({"resolve_after": 600.0})
    alarm.feed_event("temperature_high", 0)
    alarm.feed_event("temperature_high", 5 * MIN)                          # the repeat pushes the deadline
    assert alarm.tick(14 * MIN) is None
    timed_out = alarm.tick(16 * MIN)
    assert timed_out is not None and (timed_out.kind, timed_out.at_ms) == ("resolve", 15 * MIN)


def test_an_event_rule_with_resolve_after_zero_waits_for_its_clearing_event() -> None:
    alarm = OnEvent(fires=("ups_alarm",), clears=("ups_alarm_cleared",)).evaluator({"resolve_after": 0.0})
    alarm.feed_event("ups_alarm", 0)
    assert alarm.tick(365 * 86_400_000) is None and alarm.firing


def test_every_rule_names_its_durations_among_its_thresholds() -> None:
    for check in checks.library().values():
        assert set(check.rule.duration_names()) <= set(check.rule.threshold_names()), check.id
