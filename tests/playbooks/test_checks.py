"""The checks library names playbooks to run when an incident opens: each must be shipped."""

from __future__ import annotations

import checks
from checks.spec import SEVERITIES as CHECK_SEVERITIES
from playbooks.findings import SEVERITIES
from playbooks.library import Library


def test_every_playbook_a_check_names_is_shipped(library: Library) -> None:
    named = {check.playbook for check in checks.library().values() if check.playbook}
    assert named, "no check names a playbook any more"
    missing = sorted(name for name in named if name not in library)
    assert not missing, f"checks name playbooks that are not shipped: {missing}"


def test_findings_and_checks_share_one_severity_scale() -> None:
    assert SEVERITIES == CHECK_SEVERITIES
