"""Every template, ours and ntc-templates', against the device output recorded beside it."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from playbooks.fixtures import Case, cases
from playbooks.library import Library

CASES = list(cases())


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_parses_to_the_expected_rows(case: Case) -> None:
    assert case.expected_file.is_file(), f"{case.expected_file} is missing (python -m playbooks.fixtures --write)"
    assert case.parse() == case.expected()


def _uses(library: Library) -> dict[Path, list[tuple[str, str, str]]]:
    """template file → the (playbook, step, platform) that parse with it."""
    uses: dict[Path, list[tuple[str, str, str]]] = defaultdict(list)
    for playbook in library:
        for step in playbook.steps:
            for platform, parser in step.parse.items():
                uses[Path(parser.path)].append((playbook.id, step.name, platform))
    return uses


def _findings(library: Library, case: Case, use: tuple[str, str, str]) -> list[str]:
    playbook_id, step, platform = use
    playbook = library.get(playbook_id)
    assert playbook is not None
    rows = playbook.parse(step, platform, case.raw.read_text(encoding="utf-8"))
    return [f.title.en for f in playbook.findings(platform, {step: rows})]


def test_every_template_in_use_has_fixtures(library: Library) -> None:
    by_template = defaultdict(list)
    for case in CASES:
        by_template[case.template()].append(case)
    for template, used_by in _uses(library).items():
        names = [c.raw.stem for c in by_template[template]]
        assert len(names) >= 2, f"{template.name} (used by {used_by[0]}) needs recorded outputs"
        with_findings = [
            u for u in used_by if library.get(u[0]).step(u[1]).findings  # type: ignore[union-attr]
        ]
        if with_findings:
            assert any(n.startswith("healthy") for n in names), f"{template.name} needs a healthy_* case"
            assert any(n.startswith("problem") for n in names), f"{template.name} needs a problem_* case"


def test_our_templates_are_all_used(library: Library) -> None:
    used = set(_uses(library))
    ours = {c.template() for c in CASES if c.template().parent.parent.name == "templates"}
    assert ours <= used, f"unused templates: {sorted(p.name for p in ours - used)}"


@pytest.mark.parametrize("case", [c for c in CASES if c.raw.stem.startswith("healthy")], ids=lambda c: c.name)
def test_healthy_output_raises_no_finding(library: Library, case: Case) -> None:
    for use in _uses(library)[case.template()]:
        assert _findings(library, case, use) == [], use


@pytest.mark.parametrize("case", [c for c in CASES if c.raw.stem.startswith("problem")], ids=lambda c: c.name)
def test_problem_output_raises_a_finding(library: Library, case: Case) -> None:
    found = {use: _findings(library, case, use) for use in _uses(library)[case.template()]}
    assert any(found.values()), found


def test_every_finding_rule_is_triggered_by_some_recorded_output(library: Library) -> None:
    """Each rule, on each platform it applies to, fires on at least one fixture of the template it reads."""
    by_template = defaultdict(list)
    for case in CASES:
        by_template[Path(case.template())].append(case)
    never = []
    for playbook in library:
        for step in playbook.steps:
            for index, rule in enumerate(step.findings):
                for platform, parser in step.parse.items():
                    if not rule.applies_to(platform, tuple(step.parse)):
                        continue
                    outputs = [c.raw.read_text(encoding="utf-8") for c in by_template[Path(parser.path)]]
                    if not any(rule.evaluate(step.name, playbook.parse(step.name, platform, o)) for o in outputs):
                        never.append(f"{playbook.id} {step.name} findings[{index}] on {platform}")
    assert not never, "rules no recorded output triggers:\n" + "\n".join(never)
