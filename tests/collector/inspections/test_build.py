"""The inspection of the planted site (site.py): every figure against the hand count, every anomaly a finding."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from sqlalchemy import Engine

from collector.inspections import period
from collector.inspections.build import Scope, build, compare
from collector.inspections.model import DeviceResult, Figure, Finding, Inspection
from collector.store import database
from tests.collector.inspections import site
from tests.collector.inspections.site import HOUR, MIN, at

PLANTED = {
    ("web-1", "cpu_high", "cpu=cpu-total"): "major",
    ("web-1", "swap_in_use", ""): "warning",
    ("web-1", "filesystem_usage", "path=/data"): "major",
    ("web-1", "filesystem_full_forecast", "path=/data"): "warning",
    ("web-1", "host_rebooted", ""): "warning",
    ("core-sw", "device_unreachable", ""): "critical",
    ("core-sw", "interface_down", "interface=Gi0/2"): "major",
    ("core-sw", "interface_utilisation_high", "interface=Gi0/1,direction=in"): "info",
    ("core-sw", "interface_utilisation_high", "interface=Gi0/1,direction=out"): "warning",
    ("core-sw", "hardware_fault_trap", ""): "major",
    ("ups-1", "ups_on_battery", ""): "critical",
    ("ups-1", "ups_battery_low", ""): "critical",
}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = database.open_store(f"sqlite:///{tmp_path_factory.mktemp('inspection') / 'vigil.db'}")
    site.populate(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def inspection(store: Engine) -> Inspection:
    november = period.parse("2026-11", site.TZ, site.NOW)
    return build(store, Scope(site.CUSTOMER, provider="某某运维"), november, "VGL-202611-00001", now_ms=site.NOW)


def _device(inspection: Inspection, name: str) -> DeviceResult:
    return next(d for d in inspection.devices if d.device_id == name)


def _result(inspection: Inspection, device: str, check: str, instance: str = ""):  # type: ignore[no-untyped-def]
    return next(r for r in _device(inspection, device).checks if r.check_id == check and r.instance == instance)


def _figure(result, name: str) -> Figure:  # type: ignore[no-untyped-def]
    found = result.figure(name)
    assert found is not None, f"{result.check_id} {result.instance}: no {name} in {result.figures}"
    return found


def test_the_period_is_november_in_shanghai(inspection: Inspection) -> None:
    assert (inspection.start_ms, inspection.end_ms) == (site.P0, site.END)
    assert inspection.start_ms == 1_793_462_400_000     # 2026-10-31 16:00 UTC
    assert [d.key for d in inspection.devices] == ["a1/core-sw", "a1/web-1", "a2/db-1", "a2/ups-1"]  # by site, agent, device


def test_every_planted_anomaly_is_a_finding_with_its_severity_and_nothing_else_is(inspection: Inspection) -> None:
    found = {(d.device_id, f.check_id, f.instance): f.severity for d in inspection.devices for f in d.findings}
    assert found == PLANTED


def test_no_finding_without_evidence(inspection: Inspection) -> None:
    for device in inspection.devices:
        for finding in device.findings:
            assert finding.evidence, finding
            assert all(f.value or f.at_ms for f in finding.evidence), finding
            assert finding.analysis_zh and finding.analysis_en and "?" not in finding.analysis_en, finding
    with pytest.raises(ValueError, match="no evidence"):
        Finding("cpu_high", "", "major", "fail", "sustained", "t", "t", "a", "a", "b", "b", [])


def test_cpu_peak_p95_mean_and_hours_above_match_the_hand_count(inspection: Inspection) -> None:
    cpu = _result(inspection, "web-1", "cpu_high", "cpu=cpu-total")
    assert (cpu.status, cpu.severity, cpu.reason, cpu.threshold) == ("fail", "major", "sustained", 90.0)
    assert (_figure(cpu, "peak").value, _figure(cpu, "peak").at_ms) == (99.0, at(101))
    assert (_figure(cpu, "hours_above").value, _figure(cpu, "hours_above").at_ms) == (3.0, at(100))
    assert _figure(cpu, "p95").value == 30.0                         # 717 hours at 30 %, 3 at 95 %
    assert _figure(cpu, "mean").value == pytest.approx((717 * 30 + 3 * 95) / 720)
    assert _figure(cpu, "samples").value == 720 * 60
    assert cpu.incidents == [1]
    assert not any(r.instance == "cpu=cpu0" for r in _device(inspection, "web-1").checks)   # per-core series are not judged


def test_a_filling_filesystem_is_over_its_limit_for_the_hours_it_was_and_forecast_full(inspection: Inspection) -> None:
    data = _result(inspection, "web-1", "filesystem_usage", "path=/data")
    above = [h for h in range(site.HOURS) if site.data_fill(h) > 90]
    assert (_figure(data, "hours_above").value, _figure(data, "hours_above").at_ms) == (len(above), at(above[0]))
    assert len(above) == 103
    assert (_figure(data, "peak").value, _figure(data, "peak").at_ms) == (95.0, at(719))
    assert _figure(data, "p95").value == pytest.approx(np.percentile([site.data_fill(h) for h in range(720)], 95))
    forecast = _result(inspection, "web-1", "filesystem_full_forecast", "path=/data")
    assert (forecast.severity, forecast.reason) == ("warning", "forecast")
    # A straight line rising 35/719 points an hour, at 95 % at the last hour: 5 points left.
    assert _figure(forecast, "days_left").value == pytest.approx(5 / (35 / 719) / 24, rel=1e-6)
    assert _result(inspection, "web-1", "filesystem_usage", "path=/").status == "pass"
    (outlook,) = inspection.outlook
    assert (outlook.device_id, outlook.instance, outlook.limit, outlook.days_left) == ("web-1", "path=/data", 90.0, 0.0)
    assert outlook.current == pytest.approx(95.0) and outlook.slope_per_day == pytest.approx(35 / 719 * 24, rel=1e-3)


def test_the_reboot_is_found_at_its_boot_time(inspection: Inspection) -> None:
    reboot = _result(inspection, "web-1", "host_rebooted")
    assert (reboot.severity, _figure(reboot, "restarts").value, _figure(reboot, "restarts").at_ms) == ("warning", 1.0, site.BOOT_1)
    assert _result(inspection, "core-sw", "device_rebooted").status == "pass"


def test_swap_near_its_limit_is_a_warning_with_the_open_warning_incident(inspection: Inspection) -> None:
    swap = _result(inspection, "web-1", "swap_in_use")
    assert (swap.severity, swap.reason, _figure(swap, "p95").value, swap.incidents) == ("warning", "near", 35.0, [5])


def test_unreachable_time_availability_and_gated_interfaces(inspection: Inspection) -> None:
    switch = _device(inspection, "core-sw")
    unreachable = _result(inspection, "core-sw", "device_unreachable")
    assert (unreachable.severity, _figure(unreachable, "bad_time").value) == ("critical", 2.5 * 3600)
    assert (_figure(unreachable, "bad_time").at_ms, _figure(unreachable, "episodes").value) == (at(300), 1.0)
    assert switch.availability == pytest.approx(100 * (720 * 60 - 150) / (720 * 60))   # 99.6528 %
    assert switch.coverage == 100.0
    down = _result(inspection, "core-sw", "interface_down", "interface=Gi0/2")
    assert (down.severity, _figure(down, "bad_time").value, down.incidents) == ("major", 10 * 3600, [3])
    gated = _result(inspection, "core-sw", "interface_down", "interface=Gi0/3")
    assert (gated.status, _figure(gated, "bad_time").value) == ("pass", 0)     # down all month, but admin-down
    brief = _result(inspection, "core-sw", "interface_utilisation_high", "interface=Gi0/1,direction=in")
    assert (brief.status, brief.severity, brief.reason) == ("pass", "info", "brief")
    assert (_figure(brief, "peak").value, _figure(brief, "peak").at_ms, _figure(brief, "hours_touching").value) == (96.0, at(500), 1.0)
    near = _result(inspection, "core-sw", "interface_utilisation_high", "interface=Gi0/1,direction=out")
    assert (near.status, near.severity, _figure(near, "p95").value) == ("warn", "warning", 85.0)
    trap = _result(inspection, "core-sw", "hardware_fault_trap")
    assert (trap.severity, _figure(trap, "events").value, _figure(trap, "events").at_ms) == ("major", 1.0, at(600.25))


def test_identity_from_sysdescr_and_labels(inspection: Inspection) -> None:
    switch, ups = _device(inspection, "core-sw"), _device(inspection, "ups-1")
    assert (switch.model, switch.software) == ("C3560", "12.2(55)SE5")
    assert switch.uptime_s == (at(719) + 59 * MIN - site.BOOT_0) / 1000
    assert (ups.model, ups.software) == ("Smart-UPS 3000", "UPS 09.3")


def test_the_ups_on_battery_and_low(inspection: Inspection) -> None:
    battery = _result(inspection, "ups-1", "ups_on_battery")
    assert (battery.severity, _figure(battery, "bad_time").value, battery.incidents) == ("critical", 1200, [4])
    low = _result(inspection, "ups-1", "ups_battery_low")
    assert (low.severity, low.reason, _figure(low, "low").value, _figure(low, "hours_below").value) == ("critical", "sustained", 30.0, 1.0)


def test_scores_per_device_and_overall(inspection: Inspection) -> None:
    scores = {d.device_id: d.score for d in inspection.devices}
    # 100 less the worst finding of each check: critical 30, major 15, minor 8, warning 3, info 0.
    assert scores == {"web-1": 100 - 15 - 15 - 3 - 3 - 3, "core-sw": 100 - 30 - 15 - 15 - 3, "ups-1": 100 - 30 - 30, "db-1": 100}
    assert inspection.score == (61 + 37 + 40 + 100) / 4 == 59.5


def test_sla_figures_match_the_timelines(inspection: Inspection) -> None:
    service = inspection.service
    assert (service.response.met, service.response.missed, service.response.running) == (2, 2, 0)
    assert (service.plan.met, service.plan.missed, service.plan.running) == (2, 2, 0)
    assert (service.response.percent, service.plan.percent, service.compliance) == (50.0, 50.0, 50.0)
    assert service.response.mean_ms == (30 + 180 + 60) / 3 * MIN           # stopped clocks: incidents 1, 2, 3
    assert service.plan.mean_ms == (600 + 3000 + 540) / 3 * MIN             # 3: stopped by its resolution
    assert service.not_covered == 1 and service.severities == ["major", "critical"]
    by_id = {x.incident_id: x for x in inspection.incidents}
    assert (by_id[1].response_ms, by_id[1].response_state, by_id[1].plan_state) == (30 * MIN, "met", "met")
    assert (by_id[2].response_ms, by_id[2].response_state, by_id[2].plan_elapsed_ms) == (180 * MIN, "breached", 3000 * MIN)
    assert (by_id[4].response_state, by_id[4].response_ms) == ("breached", site.NOW - at(650 + 1 / 60))
    assert not by_id[5].covered


def test_sites(inspection: Inspection) -> None:
    sites = {s.site: s for s in inspection.sites}
    shanghai, beijing = sites["上海机房"], sites["北京机房"]
    assert (shanghai.devices, shanghai.incidents, beijing.devices, beijing.incidents) == (2, 4, 2, 1)
    assert shanghai.availability == pytest.approx((100 + 100 * 43050 / 43200) / 2)
    assert beijing.availability == 100.0


def test_trends_are_few_points_and_the_right_series(inspection: Inspection) -> None:
    web = {t.kind: t for t in _device(inspection, "web-1").trends}
    assert set(web) == {"cpu", "memory", "filesystem", "interface"}
    assert [line.label for line in web["filesystem"].lines] == ["/data", "/"]     # fullest first
    assert web["interface"].unit == "Mbit/s" and web["cpu"].threshold == 90.0
    cpu = web["cpu"].lines[0]
    assert cpu.step_ms == 8 * HOUR and len(cpu.values) == 90
    assert max(cpu.highs) == 99.0                                              # the peak survives the resampling
    assert cpu.values[12] == pytest.approx((3 * 95 + 5 * 30) / 8, abs=1e-3)    # hours 96–103 hold 100–102


def test_the_result_round_trips_through_json(inspection: Inspection) -> None:
    assert Inspection.from_json(inspection.to_json()) == inspection


def test_what_changed_since_the_previous_inspection(store: Engine, inspection: Inspection) -> None:
    october = build(store, Scope(site.CUSTOMER), period.parse("2026-10", site.TZ, site.NOW), "VGL-202610-00001",
                    now_ms=site.P0 + HOUR)
    changes = compare(october, inspection)
    assert changes.previous_number == "VGL-202610-00001"
    assert "a1/web-1|swap_in_use|" in changes.persisting_findings       # 35 % swap all along
    assert "a1/web-1|cpu_high|cpu=cpu-total" in changes.new_findings
    assert "a2/ups-1|ups_on_battery|" in changes.new_findings
    assert not changes.resolved_findings and not changes.devices_added


def test_the_same_inspection_from_either_store(store_url: str, inspection: Inspection) -> None:
    """SQLite and PostgreSQL give the same figures (rollups are read through the DB-API cursor, in each one's dialect)."""
    engine = database.open_store(store_url)
    try:
        site.populate(engine)
        again = build(engine, Scope(site.CUSTOMER, provider="某某运维"), period.parse("2026-11", site.TZ, site.NOW),
                      "VGL-202611-00001", now_ms=site.NOW)
    finally:
        engine.dispose()
    assert again == inspection


def test_a_constant_series_read_as_one_summary_row_counts_all_its_hours() -> None:
    """data.constant_series: a month in one state is one row standing for its hours; a port down all month is 720 h down."""
    import checks
    from collector.inspections.data import DeviceRow, Hourly, SeriesRow
    from collector.inspections.evaluate import DeviceInputs, Evaluator

    def summary(value: float) -> Hourly:
        return Hourly(np.array([site.P0]), np.array([720 * 60.0]), np.array([720 * 60 * value]), np.array([value]),
                      np.array([value]), None, None, np.array([720.0]))

    device = DeviceRow("a1", "sw", site.CUSTOMER, "上海机房", "sw", "switch", "", "", ("snmp",), {}, site.P0, site.END)
    series = [SeriesRow(1, "net_oper_up", {"interface": "Gi0/9"}), SeriesRow(2, "net_admin_up", {"interface": "Gi0/9"}),
              SeriesRow(3, "net_errors_in_per_second", {"interface": "Gi0/9"})]
    evaluator = Evaluator({k: v for k, v in checks.library().items() if k in ("interface_down", "interface_errors_rising")},
                          site.P0, site.END, site.TZ)
    results, findings = evaluator.device(DeviceInputs(device, series, {1: summary(0.0), 2: summary(1.0), 3: summary(0.5)}, [], []))
    down = next(r for r in results if r.check_id == "interface_down")
    assert (down.severity, down.figure("bad_time").value, down.figure("episodes").value) == ("major", 720 * 3600, 1.0)
    errors = next(r for r in results if r.check_id == "interface_errors_rising")
    assert (errors.severity, errors.figure("hours_above").value, errors.figure("p95").value) == ("minor", 720.0, 0.5)
    assert {f.check_id for f in findings} == {"interface_down", "interface_errors_rising"}
