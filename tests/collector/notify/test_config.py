"""The collector config's smtp, notify and customers sections: defaults, file:line errors, secrets never echoed."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.configfile import ConfigError
from collector import config
from collector.sla.calendar import Always, BusinessHours

GOOD = """\
smtp:
  host: smtp.example.com
  username: vigil
  password: Sm7p-pa55word
  sender: "Vigil 值班 <noc@example.com>"
  ca: certs/smtp-ca.pem
notify: {incident_url: "https://noc.example.com/incidents/{id}"}
customers:
  客户A:
    language: zh
    on_call: [noc@provider.cn]
    webhook: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=wecom-t0ken-123
    webhook_format: wecom
    escalation:
      - lead@provider.cn
      - [manager@provider.cn, director@provider.cn]
    sla:
      response: 1h
      escalate_at: [50%, 100%, 150%]
      calendar: {timezone: Asia/Shanghai, hours: [mon-fri 09:00-18:00], holidays: [2026-10-01], workdays: [2026-10-10]}
  "*":
    on_call: [noc@provider.cn]
"""


def test_a_full_section_and_its_defaults(tmp_path: Path) -> None:
    path = tmp_path / "collector.yaml"
    path.write_text(GOOD)
    loaded = config.load(path)
    assert loaded.smtp is not None and loaded.smtp.ca == tmp_path / "certs/smtp-ca.pem"
    assert (loaded.smtp.port, loaded.smtp.security, loaded.smtp.timeout) == (587, "starttls", 30.0)
    a = loaded.customer("客户A")
    assert a.escalation == (("lead@provider.cn",), ("manager@provider.cn", "director@provider.cn"))
    assert (a.sla.response, a.sla.plan, a.sla.severities, a.sla.escalate_at) == (3600.0, 172800.0, ("major", "critical"), (0.5, 1.0, 1.5))
    assert isinstance(a.sla.build_calendar(), BusinessHours)
    other = loaded.customer("someone else")
    assert other.on_call == ("noc@provider.cn",) and isinstance(other.sla.build_calendar(), Always)
    assert config.CollectorConfig().customer("x").sla.response == 7200.0     # no section: the contract's 2 h / 48 h
    assert "wecom-t0ken" not in repr(loaded) and "Sm7p-pa55word" not in repr(loaded)


def test_errors_name_the_line_and_never_the_secret(tmp_path: Path) -> None:
    path = tmp_path / "collector.yaml"
    path.write_text("""\
smtp:
  host: smtp.example.com
  security: none
  username: vigil
  password: Sm7p-pa55word
  sender: noc
customers:
  A:
    on_call: [not-an-address]
    webhook: ftp://hook.example/secret-t0ken
    sla: {response: 2 hours, escalate_at: [100%, 75%], calendar: {hours: [mon-fri 9-18]}}
""")
    with pytest.raises(ConfigError) as caught:
        config.load(path)
    text = str(caught.value)
    assert f"{path}:6: smtp.sender: 'noc' is not an e-mail address" in text
    assert f"{path}:9: customers.A.on_call[0]: 'not-an-address' is not an e-mail address" in text
    assert f"{path}:10: customers.A.webhook: not an http:// or https:// URL" in text
    assert "'2 hours' is not a duration" in text and "smallest first" in text and "'mon-fri 9-18' is not like" in text
    assert "secret-t0ken" not in text and "Sm7p-pa55word" not in text


def test_no_password_in_clear_text(tmp_path: Path) -> None:
    path = tmp_path / "collector.yaml"
    path.write_text("smtp: {host: smtp.example.com, security: none, username: u, password: p4ssw0rd, sender: a@b.cn}\n")
    with pytest.raises(ConfigError, match="smtp: security: none would send the SMTP password in clear text"):
        config.load(path)
