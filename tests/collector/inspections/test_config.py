"""Inspection schedules in the collector config: bad values are named with their file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.configfile import ConfigError
from collector import config


def _load(tmp_path: Path, text: str) -> config.CollectorConfig:
    path = tmp_path / "collector.yaml"
    path.write_text(text, encoding="utf-8")
    return config.load(path)


def test_schedules_per_customer(tmp_path: Path) -> None:
    loaded = _load(tmp_path, (
        "inspections:\n"
        "  provider: 某某运维服务有限公司\n"
        "  output_dir: reports\n"
        "  customers:\n"
        "    - customer: 客户A\n"
        "      languages: [zh, en]\n"
        "      schedules:\n"
        "        - {name: monthly, cron: '0 8 1 * *', timezone: Asia/Shanghai, period: month}\n"
        "        - {name: weekly, cron: '0 7 * * 1', period: week, send: false}\n"
    ))
    customer = loaded.inspections.customer("客户A")
    assert customer is not None and [s.name for s in customer.schedules] == ["monthly", "weekly"]
    assert customer.timezone == "Asia/Shanghai" and customer.languages == ("zh", "en")
    assert loaded.inspections.output_dir == tmp_path / "reports"


@pytest.mark.parametrize(("text", "problem"), [
    ("cron: '0 8 32 * *'", "collector.yaml:4: inspections.customers[0].schedules[0].cron: '0 8 32 * *' is not a cron expression"),
    ("timezone: Mars/Olympus", "collector.yaml:4: inspections.customers[0].schedules[0].timezone: 'Mars/Olympus' is not a time zone"),
    ("period: quarter", "collector.yaml:4: inspections.customers[0].schedules[0].period"),
])
def test_a_bad_schedule_is_named_by_file_and_line(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, f"inspections:\n  customers:\n    - customer: 客户A\n      schedules: [{{{text}}}]\n")
    assert problem in str(caught.value)


def test_two_schedules_of_one_name_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="schedule name 'monthly' is used twice"):
        _load(tmp_path, "inspections:\n  customers:\n    - customer: 客户A\n      schedules: [{name: monthly}, {name: monthly}]\n")
