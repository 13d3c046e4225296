"""checks/overrides.py: thresholds per customer, site, device and instance; mistakes reported by file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

import checks
from agent.configfile import ConfigError
from checks.overrides import Overrides

LIBRARY = checks.library()
CPU, UTILISATION, SWAP = LIBRARY["cpu_high"], LIBRARY["interface_utilisation_high"], LIBRARY["swap_in_use"]


def _load(tmp_path: Path, text: str) -> Overrides:
    path = tmp_path / "overrides.yaml"
    path.write_text(text, encoding="utf-8")
    return Overrides.load(path)


def _errors(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text)
    return str(caught.value).splitlines()


def test_the_example_from_the_docstring(tmp_path: Path) -> None:
    overrides = _load(tmp_path, """\
overrides:
  - match: {customer: acme}
    checks:
      cpu_high: {threshold: 95, for: 10m}
      swap_in_use: {enabled: false}
  - match: {customer: acme, device: core-sw-1, interface: Gi1/0/48}
    checks:
      interface_utilisation_high: {threshold: 95}
""")
    assert overrides.effective(CPU, "acme", "上海", "web-01", {"cpu": "cpu-total"}) == (
        True, {**CPU.thresholds, "threshold": 95.0, "for": 600.0})
    assert overrides.effective(CPU, "globex", "上海", "web-01", {"cpu": "cpu-total"}) == (True, dict(CPU.thresholds))
    assert overrides.effective(SWAP, "acme", "", "web-01", {})[0] is False
    uplink = {"interface": "Gi1/0/48", "direction": "in"}
    assert overrides.effective(UTILISATION, "acme", "上海", "core-sw-1", uplink)[1]["threshold"] == 95.0
    assert overrides.effective(UTILISATION, "acme", "上海", "core-sw-1", {**uplink, "interface": "Gi1/0/1"})[1]["threshold"] == 90.0
    assert overrides.effective(UTILISATION, "acme", "上海", "core-sw-2", uplink)[1]["threshold"] == 90.0


def test_the_more_specific_match_wins_whatever_the_file_order(tmp_path: Path) -> None:
    overrides = _load(tmp_path, """\
overrides:
  - match: {device: db-01, path: /data}
    checks: {filesystem_usage: {threshold: 98}}
  - match: {device: db-01}
    checks: {filesystem_usage: {threshold: 95, for: 15m}}
  - match: {site: 上海}
    checks: {filesystem_usage: {threshold: 93}}
  - match: {customer: acme}
    checks: {filesystem_usage: {threshold: 92, recover: 80}}
  - match: {}
    checks: {filesystem_usage: {threshold: 91}}
""")
    fs = LIBRARY["filesystem_usage"]

    def threshold(site: str, device: str, path: str) -> tuple[float, float, float]:
        settings = overrides.effective(fs, "acme", site, device, {"path": path})[1]
        return settings["threshold"], settings["recover"], settings["for"]

    assert threshold("上海", "db-01", "/data") == (98.0, 80.0, 900.0)   # instance; the rest from device and customer
    assert threshold("上海", "db-01", "/var") == (95.0, 80.0, 900.0)    # device
    assert threshold("上海", "web-01", "/var") == (93.0, 80.0, 300.0)   # site
    assert threshold("北京", "web-01", "/var") == (92.0, 80.0, 300.0)   # customer
    assert overrides.effective(fs, "globex", "北京", "x", {"path": "/"})[1]["threshold"] == 91.0   # everywhere


def test_between_equally_specific_entries_the_later_wins(tmp_path: Path) -> None:
    overrides = _load(tmp_path, """\
overrides:
  - match: {customer: acme}
    checks: {cpu_high: {enabled: false, threshold: 99}}
  - match: {customer: acme}
    checks: {cpu_high: {enabled: true}}
""")
    assert overrides.effective(CPU, "acme", "", "x", {}) == (True, {**CPU.thresholds, "threshold": 99.0})


def test_label_values_written_as_numbers_match_as_text(tmp_path: Path) -> None:
    overrides = _load(tmp_path, "overrides:\n  - match: {interface: 48}\n    checks: {interface_down: {for: 5m}}\n")
    down = LIBRARY["interface_down"]
    assert overrides.effective(down, "c", "s", "d", {"interface": "48"})[1]["for"] == 300.0


def test_no_overrides_means_the_library_defaults(tmp_path: Path) -> None:
    for overrides in (Overrides(), _load(tmp_path, "overrides: []\n"), _load(tmp_path, "{}\n")):
        enabled, settings = overrides.effective(CPU, "acme", "s", "d", {})
        assert enabled and settings == CPU.thresholds
        settings["threshold"] = 1.0      # the caller's copy
        assert CPU.thresholds["threshold"] == 90.0


def test_mistakes_are_reported_with_file_line_and_field(tmp_path: Path) -> None:
    errors = _errors(tmp_path, """\
overrides:
  - match: {customer: acme}
    checks:
      cpu_hgh: {threshold: 95}
      cpu_high:
        threshhold: 95
        for: 10 minutes
        recover: 10m
  - match: {Customer: acme}
    checks: {}
  - checks: {swap_in_use: {enabled: maybe}}
  - match: {fan: 0.10}
    checks: {}
""")
    path = tmp_path / "overrides.yaml"
    expected = [
        f"{path}:4: overrides[0].checks.cpu_hgh: unknown setting (misspelt?)",
        f"{path}:6: overrides[0].checks.cpu_high.threshhold: unknown setting (misspelt?)",
        f"{path}:7: overrides[0].checks.cpu_high.for: '10 minutes' is not a duration; write it like 30s, 5m, 1h or 7d",
        f"{path}:8: overrides[0].checks.cpu_high.recover: Input should be a valid number, unable to parse string as a number",
        f"{path}:9: overrides[1].match.Customer.[key]: 'Customer' is not customer, site, device or a label name (lower_snake_case)",
        f"{path}:11: overrides[2].match: Field required",
        f"{path}:11: overrides[2].checks.swap_in_use.enabled: Input should be a valid boolean, unable to interpret input",
        f"{path}:12: overrides[3].match.fan: write 0.1 in quotes, so it is read as the text it matches",
    ]
    assert sorted(errors) == sorted(expected)


def test_a_threshold_of_another_check_is_unknown_here(tmp_path: Path) -> None:
    errors = _errors(tmp_path, "overrides:\n  - match: {}\n    checks:\n      interface_down: {threshold: 1}\n")
    assert errors == [f"{tmp_path / 'overrides.yaml'}:4: overrides[0].checks.interface_down.threshold: unknown setting (misspelt?)"]


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        Overrides.load(tmp_path / "nope.yaml")
