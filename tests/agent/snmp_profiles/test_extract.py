"""agent/pollers/snmp/extract.py: walked tables → samples, with rates that survive wraps, reboots and resets.

Pure unit tests on hand-built `Table`s and varbinds: no network is involved
here; recordings of real devices are exercised by the integration tests.
"""

from __future__ import annotations

import random
import re
import textwrap
from pathlib import Path

import pytest

from agent.pollers.snmp.extract import MAX_LABEL, Extractor
from agent.pollers.snmp.profiles import SHIPPED_DIR, ProfileSet, load_profiles
from agent.pollers.snmp.types import OID, Table, Tag, Value, VarBind, parse_oid
from agent.samples import Labels, Sample

O = parse_oid  # noqa: E741 - reads like the OID it builds

# IF-MIB ifTable
IF_DESCR, IF_ADMIN, IF_OPER = O("1.3.6.1.2.1.2.2.1.2"), O("1.3.6.1.2.1.2.2.1.7"), O("1.3.6.1.2.1.2.2.1.8")
IF_IN_OCTETS, IF_IN_UCAST = O("1.3.6.1.2.1.2.2.1.10"), O("1.3.6.1.2.1.2.2.1.11")
IF_IN_NUCAST = O("1.3.6.1.2.1.2.2.1.12")
IF_IN_DISCARDS, IF_IN_ERRORS = O("1.3.6.1.2.1.2.2.1.13"), O("1.3.6.1.2.1.2.2.1.14")
IF_OUT_OCTETS = O("1.3.6.1.2.1.2.2.1.16")
# IF-MIB ifXTable
IF_NAME, IF_ALIAS = O("1.3.6.1.2.1.31.1.1.1.1"), O("1.3.6.1.2.1.31.1.1.1.18")
IF_HIGH_SPEED = O("1.3.6.1.2.1.31.1.1.1.15")
IF_HC_IN_OCTETS, IF_HC_OUT_OCTETS = O("1.3.6.1.2.1.31.1.1.1.6"), O("1.3.6.1.2.1.31.1.1.1.10")
IF_HC_IN_UCAST, IF_HC_IN_MCAST, IF_HC_IN_BCAST = (
    O("1.3.6.1.2.1.31.1.1.1.7"), O("1.3.6.1.2.1.31.1.1.1.8"), O("1.3.6.1.2.1.31.1.1.1.9"),
)
IF_DISCONTINUITY = O("1.3.6.1.2.1.31.1.1.1.19")
SYS_UPTIME = O("1.3.6.1.2.1.1.3.0")

GI1 = (("interface", "Gi0/1"),)
GI2 = (("interface", "Gi0/2"),)


@pytest.fixture(scope="module")
def profiles() -> ProfileSet:
    return load_profiles()


@pytest.fixture
def generic(profiles: ProfileSet) -> Extractor:
    return Extractor(profiles.profiles["generic"])


def table(rows: dict[int, dict[OID, tuple[int, Value]]]) -> Table:
    """Per-row cells → the per-column `Table` a walk yields."""
    result: Table = {}
    for index, cells in rows.items():
        for column, cell in cells.items():
            result.setdefault(column, {})[(index,)] = cell
    return result


def port(name: str, octets_in: int = 0, *, octets_out: int = 0, ucast: int = 0, mcast: int = 0, bcast: int = 0,
         errors: int = 0, discards: int = 0, reset: int = 0) -> dict[OID, tuple[int, Value]]:
    """An interface with ifXTable (64-bit counters); packets in are ucast + mcast + bcast."""
    return {
        IF_NAME: (Tag.OCTET_STRING, name.encode()),
        IF_ADMIN: (Tag.INTEGER, 1),
        IF_OPER: (Tag.INTEGER, 1),
        IF_HIGH_SPEED: (Tag.GAUGE32, 1000),
        IF_HC_IN_OCTETS: (Tag.COUNTER64, octets_in),
        IF_HC_OUT_OCTETS: (Tag.COUNTER64, octets_out),
        IF_HC_IN_UCAST: (Tag.COUNTER64, ucast),
        IF_HC_IN_MCAST: (Tag.COUNTER64, mcast),
        IF_HC_IN_BCAST: (Tag.COUNTER64, bcast),
        IF_IN_ERRORS: (Tag.COUNTER32, errors),
        IF_IN_DISCARDS: (Tag.COUNTER32, discards),
        IF_DISCONTINUITY: (Tag.TIMETICKS, reset),
    }


def by_key(samples: list[Sample]) -> dict[tuple[str, Labels], float]:
    result = {(metric, labels): value for metric, labels, value in samples}
    assert len(result) == len(samples), "two samples share a series"
    return result


def rate_of(samples: list[Sample], metric: str, labels: Labels = GI1) -> float | None:
    return by_key(samples).get((metric, labels))


# ---------------------------------------------------------------- interfaces


def test_a_first_poll_gives_states_and_speeds_but_no_rates(generic: Extractor) -> None:
    samples = generic.extract([], table({1: port("Gi0/1", 1000)}), at_s=1000.0, uptime_ticks=100_000)
    assert samples == [
        ("net_speed_bits_per_second", GI1, 1e9),
        ("net_admin_up", GI1, 1.0),
        ("net_oper_up", GI1, 1.0),
    ]


def test_two_polls_give_rates_per_second(generic: Extractor) -> None:
    generic.extract([], table({1: port("Gi0/1", 1_000_000, octets_out=0, ucast=100, mcast=10, bcast=1)}),
                    at_s=1000.0, uptime_ticks=100_000)
    second = table({1: port("Gi0/1", 1_750_000, octets_out=1_500_000, ucast=700, mcast=70, bcast=61,
                            errors=6, discards=3)})
    samples = by_key(generic.extract([], second, at_s=1060.0, uptime_ticks=106_000))
    assert samples == {
        ("net_recv_bits_per_second", GI1): pytest.approx(100_000.0),       # 750 000 octets × 8 / 60 s
        ("net_sent_bits_per_second", GI1): pytest.approx(200_000.0),
        ("net_recv_packets_per_second", GI1): pytest.approx(12.0),         # (600 + 60 + 60) / 60 s
        ("net_errors_in_per_second", GI1): pytest.approx(0.1),
        ("net_drops_in_per_second", GI1): pytest.approx(0.05),
        ("net_utilisation_percent", (("direction", "in"), *GI1)): pytest.approx(0.01),   # of 1 Gbit/s
        ("net_utilisation_percent", (("direction", "out"), *GI1)): pytest.approx(0.02),
        ("net_speed_bits_per_second", GI1): 1e9,
        ("net_admin_up", GI1): 1.0,
        ("net_oper_up", GI1): 1.0,
    }


def test_a_32_bit_counter_that_wrapped_gives_the_true_rate(generic: Extractor) -> None:
    def old_port(octets: int) -> Table:
        return table({1: {IF_DESCR: (Tag.OCTET_STRING, b"Gi0/1"), IF_IN_OCTETS: (Tag.COUNTER32, octets)}})

    generic.extract([], old_port(2**32 - 1000), at_s=0.0)
    samples = generic.extract([], old_port(1000), at_s=10.0)
    assert rate_of(samples, "net_recv_bits_per_second") == pytest.approx(2000 * 8 / 10)


def test_a_64_bit_counter_that_wrapped_gives_the_true_rate(generic: Extractor) -> None:
    generic.extract([], table({1: port("Gi0/1", 2**64 - 500)}), at_s=0.0)
    samples = generic.extract([], table({1: port("Gi0/1", 500)}), at_s=10.0)
    assert rate_of(samples, "net_recv_bits_per_second") == pytest.approx(1000 * 8 / 10)


@pytest.mark.parametrize(("tag", "before"), [(Tag.COUNTER64, 10**12), (Tag.COUNTER32, 1_000_000)])
def test_a_counter_that_dropped_too_far_to_have_wrapped_was_reset_and_gives_no_rate(
    generic: Extractor, tag: int, before: int
) -> None:
    def cells(octets: int) -> Table:
        return table({1: {IF_DESCR: (Tag.OCTET_STRING, b"Gi0/1"), IF_IN_OCTETS: (tag, octets)}})

    generic.extract([], cells(before), at_s=0.0)
    assert rate_of(generic.extract([], cells(10), at_s=60.0), "net_recv_bits_per_second") is None
    assert rate_of(generic.extract([], cells(610), at_s=120.0), "net_recv_bits_per_second") == pytest.approx(80.0)


def test_a_reboot_gives_no_rate_even_when_the_counters_climbed_past_their_old_values(generic: Extractor) -> None:
    generic.extract([], table({1: port("Gi0/1", 1_000)}), at_s=0.0, uptime_ticks=500_000)
    # Rebooted: uptime went back; the counter restarted and has already passed 1 000.
    samples = generic.extract([], table({1: port("Gi0/1", 900_000)}), at_s=60.0, uptime_ticks=3_000)
    assert generic.rebooted
    assert rate_of(samples, "net_recv_bits_per_second") is None
    samples = generic.extract([], table({1: port("Gi0/1", 960_000)}), at_s=120.0, uptime_ticks=9_000)
    assert not generic.rebooted
    assert rate_of(samples, "net_recv_bits_per_second") == pytest.approx(8_000.0)


def test_a_reboot_between_two_polls_is_seen_though_uptime_grew(generic: Extractor) -> None:
    """Up 1 000 s at t=0, up 3 600 s two hours later: it booted at t=3 600, not t=-1 000."""
    generic.extract([], table({1: port("Gi0/1", 1_000)}), at_s=0.0, uptime_ticks=100_000)
    samples = generic.extract([], table({1: port("Gi0/1", 5_000_000)}), at_s=7200.0, uptime_ticks=360_000)
    assert generic.rebooted
    assert rate_of(samples, "net_recv_bits_per_second") is None


def test_uptime_is_read_from_the_scalars_and_poll_jitter_is_no_reboot(generic: Extractor) -> None:
    def uptime(ticks: int) -> list[VarBind]:
        return [(SYS_UPTIME, Tag.TIMETICKS, ticks)]

    generic.extract(uptime(100_000), table({1: port("Gi0/1", 0)}), at_s=1000.0)
    samples = generic.extract(uptime(106_000), table({1: port("Gi0/1", 60_000)}), at_s=1063.0)  # answered 3 s late
    assert not generic.rebooted
    assert rate_of(samples, "net_recv_bits_per_second") == pytest.approx(60_000 * 8 / 63)
    assert by_key(samples)[("snmp_uptime_seconds", ())] == 1060.0
    generic.extract(uptime(500), table({1: port("Gi0/1", 90_000)}), at_s=1120.0)
    assert generic.rebooted


def test_an_interface_whose_counters_were_reset_gives_no_rate_that_interval(generic: Extractor) -> None:
    generic.extract([], table({1: port("Gi0/1", 1_000, reset=0), 2: port("Gi0/2", 1_000, reset=0)}), at_s=0.0)
    # `clear counters` on Gi0/1 at uptime 4 200; it has counted past its old value since.
    samples = generic.extract(
        [], table({1: port("Gi0/1", 50_000, reset=4_200), 2: port("Gi0/2", 7_000, reset=0)}), at_s=60.0
    )
    assert rate_of(samples, "net_recv_bits_per_second", GI1) is None
    assert rate_of(samples, "net_recv_bits_per_second", GI2) == pytest.approx(800.0)
    samples = generic.extract(
        [], table({1: port("Gi0/1", 56_000, reset=4_200), 2: port("Gi0/2", 7_000, reset=0)}), at_s=120.0
    )
    assert rate_of(samples, "net_recv_bits_per_second", GI1) == pytest.approx(800.0)


def test_rates_are_never_negative_whatever_the_counters_do(generic: Extractor) -> None:
    rng = random.Random(7)
    counter, ticks, at = 0, 100_000, 0.0
    for _ in range(500):
        at += 60.0
        ticks += 6000
        roll = rng.random()
        if roll < 0.05:
            counter = rng.randrange(2**32)                      # reset or garbage
        elif roll < 0.08:
            ticks = rng.randrange(10_000)                       # reboot
        else:
            counter = (counter + rng.randrange(10**9)) % 2**32  # traffic, wrapping
        cells = {1: {IF_DESCR: (Tag.OCTET_STRING, b"Gi0/1"), IF_IN_OCTETS: (Tag.COUNTER32, counter)}}
        for metric, _, value in generic.extract([], table(cells), at_s=at, uptime_ticks=ticks):
            if metric.endswith("_per_second"):
                assert 0 <= value < 2**32 * 8 / 60   # no more than a 32-bit counter can count


# ---------------------------------------------------------------- odd devices


def test_a_device_without_ifxtable_falls_back_to_32_bit_counters_and_ifdescr(generic: Extractor) -> None:
    def old_port(octets: int, ucast: int, nucast: int) -> Table:
        return table({3: {
            IF_DESCR: (Tag.OCTET_STRING, b"FastEthernet0/3"),
            IF_OPER: (Tag.INTEGER, 2),
            IF_IN_OCTETS: (Tag.COUNTER32, octets),
            IF_IN_UCAST: (Tag.COUNTER32, ucast),
            IF_IN_NUCAST: (Tag.COUNTER32, nucast),
        }})

    generic.extract([], old_port(0, 0, 0), at_s=0.0)
    samples = generic.extract([], old_port(6_000, 50, 10), at_s=60.0)
    fa3 = (("interface", "FastEthernet0/3"),)
    assert by_key(samples) == {
        ("net_recv_bits_per_second", fa3): pytest.approx(800.0),
        ("net_recv_packets_per_second", fa3): pytest.approx(1.0),
        ("net_oper_up", fa3): 0.0,
    }


def test_labels_that_are_not_utf8_or_carry_controls_are_cleaned_and_capped(generic: Extractor) -> None:
    rows = {
        1: {**port("Gi0/1"), IF_ALIAS: (Tag.OCTET_STRING, b"Uplink \xff\xfe to core\x00\x00")},
        2: {**port("Gi0/2"), IF_ALIAS: (Tag.OCTET_STRING, "上联\r\n核心\x1b[1D".encode())},
        3: {**port("Gi0/3"), IF_ALIAS: (Tag.OCTET_STRING, b"\x00\x00\x00")},             # empty: no label
        4: {**port("Gi0/4"), IF_ALIAS: (Tag.OCTET_STRING, b"x" * 500)},
        5: {**port(""), IF_DESCR: (Tag.OCTET_STRING, b"")},                              # nameless: the ifIndex
    }
    labels = {labels for metric, labels, _ in generic.extract([], table(rows), at_s=0.0) if metric == "net_oper_up"}
    assert labels == {
        (("alias", "Uplink \ufffd\ufffd to core"), ("interface", "Gi0/1")),
        (("alias", "上联  核心[1D"), ("interface", "Gi0/2")),
        (("interface", "Gi0/3"),),
        (("alias", "x" * MAX_LABEL), ("interface", "Gi0/4")),
        (("interface", "5"),),
    }


def test_rows_whose_labels_coincide_are_told_apart_by_their_index(profiles: ProfileSet) -> None:
    """An H3C IRF stack (testdata/h3c-comware7.snmprec): each chassis has a "Board 0"."""
    h3c = Extractor(profiles.profiles["h3c"])
    walked: Table = {
        O("1.3.6.1.2.1.47.1.1.1.1.7"): {
            (1432,): (Tag.OCTET_STRING, b"Board 0"),
            (1468,): (Tag.OCTET_STRING, b"Board 0"),
            (1436,): (Tag.OCTET_STRING, b"Master Board 4"),
        },
        O("1.3.6.1.4.1.25506.2.6.1.1.1.1.8"): {(1432,): (Tag.INTEGER, 55), (1468,): (Tag.INTEGER, 54),
                                               (1436,): (Tag.INTEGER, 15)},
    }
    assert h3c.extract([], walked, at_s=0.0) == [
        ("mem_used_percent", (("entity", "Board 0"), ("index", "1432")), 55.0),
        ("mem_used_percent", (("entity", "Master Board 4"),), 15.0),
        ("mem_used_percent", (("entity", "Board 0"), ("index", "1468")), 54.0),
    ]


def test_a_value_of_the_wrong_type_is_skipped_and_counted(generic: Extractor) -> None:
    rows = {
        1: port("Gi0/1", 1_000),
        2: {**port("Gi0/2", 1_000), IF_OPER: (Tag.OCTET_STRING, b"up"), IF_HIGH_SPEED: (Tag.OBJECT_IDENTIFIER, (1, 3))},
    }
    generic.extract([], table(rows), at_s=0.0)
    rows[1] = port("Gi0/1", 2_000)
    rows[2] = {**rows[2], IF_HC_IN_OCTETS: (Tag.OCTET_STRING, b"2000")}
    samples = by_key(generic.extract([], table(rows), at_s=10.0))
    assert samples[("net_recv_bits_per_second", GI1)] == pytest.approx(800.0)
    assert ("net_recv_bits_per_second", GI2) not in samples
    assert ("net_oper_up", GI2) not in samples and ("net_speed_bits_per_second", GI2) not in samples
    assert samples[("net_admin_up", GI2)] == 1.0
    assert generic.bad_values == {
        "tables.interfaces.in_octets": 1,
        "tables.interfaces.oper": 1,
        "tables.interfaces.speed_mbps": 1,
        "tables.interfaces.net_utilisation_percent": 1,   # the out direction: OID × number does not compute
    }


def test_exception_values_are_skipped_without_complaint(generic: Extractor) -> None:
    rows = {1: {**port("Gi0/1"), IF_OPER: (Tag.NO_SUCH_INSTANCE, None), IF_HIGH_SPEED: (Tag.NO_SUCH_OBJECT, None)}}
    samples = generic.extract([], table(rows), at_s=0.0)
    assert samples == [("net_admin_up", GI1, 1.0)]
    assert generic.bad_values == {}


# ---------------------------------------------------------------- vendor and server tables


def test_system_group_gives_uptime_and_an_info_series(generic: Extractor) -> None:
    scalars: list[VarBind] = [
        (SYS_UPTIME, Tag.TIMETICKS, 123_456),
        (O("1.3.6.1.2.1.1.5.0"), Tag.OCTET_STRING, b"core-sw-01"),
        (O("1.3.6.1.2.1.1.1.0"), Tag.OCTET_STRING, b"Cisco IOS Software,\r\nVersion 15.2"),
        (O("1.3.6.1.2.1.1.2.0"), Tag.OBJECT_IDENTIFIER, (1, 3, 6, 1, 4, 1, 9, 1, 1208)),
    ]
    assert generic.extract(scalars, {}, at_s=0.0) == [
        ("snmp_uptime_seconds", (), 1234.56),
        ("snmp_info", (("sys_descr", "Cisco IOS Software,  Version 15.2"), ("sys_name", "core-sw-01"),
                       ("sys_object_id", "1.3.6.1.4.1.9.1.1208")), 1.0),
    ]


def test_cisco_cpu_is_named_through_its_entity_and_memory_pools_add_up(profiles: ProfileSet) -> None:
    cisco = Extractor(profiles.profiles["cisco"])
    walked: Table = {
        O("1.3.6.1.4.1.9.9.109.1.1.1.1.8"): {(1,): (Tag.GAUGE32, 7), (2,): (Tag.GAUGE32, 31)},   # cpmCPUTotal5minRev
        O("1.3.6.1.4.1.9.9.109.1.1.1.1.2"): {(1,): (Tag.INTEGER, 1000), (2,): (Tag.INTEGER, 0)},  # …PhysicalIndex
        O("1.3.6.1.2.1.47.1.1.1.1.7"): {(1000,): (Tag.OCTET_STRING, b"CPU of Switch 1"),
                                        (1001,): (Tag.OCTET_STRING, b"Fan 1")},                   # entPhysicalName
        O("1.3.6.1.4.1.9.9.48.1.1.1.2"): {(1,): (Tag.OCTET_STRING, b"Processor")},                # ciscoMemoryPoolName
        O("1.3.6.1.4.1.9.9.48.1.1.1.4"): {(1,): (Tag.INTEGER, 1)},                                # …Valid
        O("1.3.6.1.4.1.9.9.48.1.1.1.5"): {(1,): (Tag.GAUGE32, 300)},                              # …Used
        O("1.3.6.1.4.1.9.9.48.1.1.1.6"): {(1,): (Tag.GAUGE32, 100)},                              # …Free
        O("1.3.6.1.4.1.9.9.13.1.4.1.2"): {(1,): (Tag.OCTET_STRING, b"Switch 1 - FAN 1"),
                                          (2,): (Tag.OCTET_STRING, b"Switch 1 - FAN 2")},         # …FanStatusDescr
        O("1.3.6.1.4.1.9.9.13.1.4.1.3"): {(1,): (Tag.INTEGER, 1), (2,): (Tag.INTEGER, 3)},        # …FanState
    }
    assert cisco.extract([], walked, at_s=0.0) == [
        ("cpu_usage_percent", (("cpu", "CPU of Switch 1"),), 7.0),
        ("cpu_usage_percent", (("cpu", "2"),), 31.0),          # no entity: the cpmCPUTotalIndex
        ("mem_used_bytes", (("pool", "Processor"),), 300.0),
        ("mem_total_bytes", (("pool", "Processor"),), 400.0),
        ("mem_used_percent", (("pool", "Processor"),), 75.0),
        ("sensors_fan_ok", (("fan", "Switch 1 - FAN 1"),), 1.0),
        ("sensors_fan_ok", (("fan", "Switch 1 - FAN 2"),), 0.0),
    ]


def test_huawei_boards_keep_entities_with_a_cpu_and_rename_labels_per_metric(profiles: ProfileSet) -> None:
    huawei = Extractor(profiles.profiles["huawei"])
    base = "1.3.6.1.4.1.2011.5.25.31.1.1.1.1"
    walked: Table = {
        O("1.3.6.1.2.1.47.1.1.1.1.7"): {(16842753,): (Tag.OCTET_STRING, b"MPU Board 1"),
                                        (16842754,): (Tag.OCTET_STRING, b"GE0/0/1")},
        O(f"{base}.5"): {(16842753,): (Tag.INTEGER, 14), (16842754,): (Tag.INTEGER, 0)},   # hwEntityCpuUsage
        O(f"{base}.7"): {(16842753,): (Tag.INTEGER, 43), (16842754,): (Tag.INTEGER, 0)},   # hwEntityMemUsage
        O(f"{base}.11"): {(16842753,): (Tag.INTEGER, 33), (16842754,): (Tag.INTEGER, 0)},  # hwEntityTemperature
    }
    assert huawei.extract([], walked, at_s=0.0) == [
        ("cpu_usage_percent", (("cpu", "MPU Board 1"),), 14.0),
        ("mem_used_percent", (("entity", "MPU Board 1"),), 43.0),
        ("sensors_temperature_celsius", (("chip", "huawei-entity"), ("sensor", "MPU Board 1")), 33.0),
    ]


def test_entity_sensors_are_scaled_and_kept_by_type(profiles: ProfileSet) -> None:
    extractor = Extractor(profiles.profiles["entity-sensor"])
    base = "1.3.6.1.2.1.99.1.1.1"
    walked: Table = {
        O("1.3.6.1.2.1.47.1.1.1.1.7"): {(10,): (Tag.OCTET_STRING, b"Inlet"), (11,): (Tag.OCTET_STRING, b"PSU 1 12V"),
                                        (12,): (Tag.OCTET_STRING, b"Fan 2")},
        O(f"{base}.1"): {(10,): (Tag.INTEGER, 8), (11,): (Tag.INTEGER, 4), (12,): (Tag.INTEGER, 10)},   # type
        O(f"{base}.2"): {(10,): (Tag.INTEGER, 9), (11,): (Tag.INTEGER, 8), (12,): (Tag.INTEGER, 9)},    # scale
        O(f"{base}.3"): {(10,): (Tag.INTEGER, 1), (11,): (Tag.INTEGER, 0), (12,): (Tag.INTEGER, 0)},    # precision
        O(f"{base}.4"): {(10,): (Tag.INTEGER, 455), (11,): (Tag.INTEGER, 12_050), (12,): (Tag.INTEGER, 6200)},
        O(f"{base}.5"): {(10,): (Tag.INTEGER, 1), (11,): (Tag.INTEGER, 1), (12,): (Tag.INTEGER, 2)},    # status
    }
    assert by_key(extractor.extract([], walked, at_s=0.0)) == {
        ("sensors_temperature_celsius", (("chip", "entity-sensor"), ("sensor", "Inlet"))): pytest.approx(45.5),
        ("sensors_voltage_volts", (("sensor", "PSU 1 12V"),)): pytest.approx(12.05),
        ("sensors_ok", (("sensor", "Inlet"),)): 1.0,
        ("sensors_ok", (("sensor", "PSU 1 12V"),)): 1.0,
        ("sensors_ok", (("sensor", "Fan 2"),)): 0.0,           # unavailable: no rpm reported
    }


def test_a_hostile_exponent_is_counted_not_computed(profiles: ProfileSet) -> None:
    extractor = Extractor(profiles.profiles["entity-sensor"])
    base = "1.3.6.1.2.1.99.1.1.1"
    walked: Table = {O(f"{base}.{column}"): {(1,): (Tag.INTEGER, value)}
                     for column, value in ((1, 8), (2, 2**31 - 1), (3, 0), (4, 1), (5, 1))}
    assert by_key(extractor.extract([], walked, at_s=0.0)) == {("sensors_ok", (("sensor", "1"),)): 1.0}
    assert extractor.bad_values == {"tables.entity_sensors.sensors_temperature_celsius": 1}


def test_net_snmp_cpu_and_memory_match_the_host_pollers_figures(profiles: ProfileSet) -> None:
    server = Extractor(profiles.profiles["net-snmp"])
    ucd = "1.3.6.1.4.1.2021"

    def scalars(user: int, system: int, idle: int, wait: int) -> list[VarBind]:
        cpu = {50: user, 51: 0, 52: system, 53: idle, 54: wait, 56: 0, 61: 0, 64: 0}
        memory = {5: 8_000_000, 6: 1_000_000, 14: 500_000, 15: 2_500_000, 3: 2_000_000, 4: 1_500_000}
        return (
            [(O(f"{ucd}.11.{n}.0"), Tag.COUNTER32, v) for n, v in cpu.items()]
            + [(O(f"{ucd}.4.{n}.0"), Tag.INTEGER, v) for n, v in memory.items()]
            + [(O(f"{ucd}.10.1.5.1"), Tag.INTEGER, 152)]
        )

    server.extract(scalars(1000, 500, 8000, 100), {}, at_s=0.0)
    samples = by_key(server.extract(scalars(1300, 600, 8550, 150), {}, at_s=10.0))   # 300 + 100 busy of 1 000
    total = (("cpu", "cpu-total"),)
    assert samples[("cpu_usage_percent", total)] == pytest.approx(40.0)
    assert samples[("cpu_iowait_percent", total)] == pytest.approx(5.0)
    assert samples[("system_load1", ())] == pytest.approx(1.52)
    assert samples[("mem_total_bytes", ())] == 8_000_000 * 1024
    assert samples[("mem_available_bytes", ())] == 4_000_000 * 1024
    assert samples[("mem_used_percent", ())] == pytest.approx(50.0)
    assert samples[("swap_used_percent", ())] == pytest.approx(25.0)


def test_a_ups_on_battery(profiles: ProfileSet) -> None:
    ups = Extractor(profiles.profiles["ups"])
    battery = "1.3.6.1.2.1.33.1.2"
    scalars: list[VarBind] = [
        (O(f"{battery}.1.0"), Tag.INTEGER, 3),          # batteryLow
        (O(f"{battery}.2.0"), Tag.INTEGER, 240),
        (O(f"{battery}.3.0"), Tag.INTEGER, 7),
        (O(f"{battery}.4.0"), Tag.INTEGER, 38),
        (O("1.3.6.1.2.1.33.1.4.1.0"), Tag.INTEGER, 5),  # upsOutputSource: battery
    ]
    walked: Table = {O("1.3.6.1.2.1.33.1.4.4.1.5"): {(1,): (Tag.INTEGER, 64)}}   # upsOutputPercentLoad, line 1
    assert by_key(ups.extract(scalars, walked, at_s=0.0)) == {
        ("ups_battery_low", ()): 1.0,
        ("ups_battery_charge_percent", ()): 38.0,
        ("ups_battery_remaining_seconds", ()): 420.0,
        ("ups_on_battery", ()): 1.0,
        ("ups_on_battery_seconds", ()): 240.0,
        ("ups_output_load_percent", (("line", "1"),)): 64.0,
    }


def test_the_worked_example_in_the_profiles_readme_does_what_it_says(tmp_path: Path) -> None:
    readme = (SHIPPED_DIR / "README.md").read_text(encoding="utf-8")
    example = re.search(r"```yaml\n(   name: synology\n.*?)   ```", readme, re.S)
    assert example, "the README's Synology example moved; update this test"
    (tmp_path / "synology.yaml").write_text(textwrap.dedent(example.group(1)), encoding="utf-8")
    nas = load_profiles(tmp_path).select(O("1.3.6.1.4.1.8072.3.2.10"), "Linux nas-01", forced="synology")
    scalars: list[VarBind] = [
        (O("1.3.6.1.4.1.6574.1.2.0"), Tag.INTEGER, 41),
        (O("1.3.6.1.4.1.6574.1.4.1.0"), Tag.INTEGER, 1),
    ]
    walked: Table = {
        O("1.3.6.1.4.1.6574.2.1.1.2"): {(0,): (Tag.OCTET_STRING, b"Disk 1"), (1,): (Tag.OCTET_STRING, b"Disk 2")},
        O("1.3.6.1.4.1.6574.2.1.1.6"): {(0,): (Tag.INTEGER, 36), (1,): (Tag.INTEGER, 38)},
    }
    promised = re.search(r"everything `net-snmp` gives:\n\n```\n(.*?)```", readme, re.S)
    assert promised
    expected = []
    for line in promised.group(1).splitlines():
        series, value = line.rsplit(maxsplit=1)
        metric, _, labels = series.rstrip("}").partition("{")
        expected.append((metric, tuple(tuple(pair.split("=")) for pair in labels.split(",")), float(value)))
    assert Extractor(nas).extract(scalars, walked, at_s=0.0) == expected
