"""Recorded device output beside every parser, and the rows it must parse to.

    templates/<platform>/<command>.textfsm          our template (absent: ntc-templates' own)
    templates/<platform>/<command>/<case>.raw       what the device printed
    templates/<platform>/<command>/<case>.yaml      `parsed_sample:` the exact rows expected

A folder without a `.textfsm` beside it holds fixtures for ntc-templates'
template for that platform and command (the folder name, `_` read as a
space). Case names say what the case must show: `healthy_*` produces no
finding in any playbook step that parses with it, `problem_*` at least one.

    python -m playbooks.fixtures [PATH ...]            print what each case parses to
    python -m playbooks.fixtures --write [PATH ...]    (re)write the expected .yaml files
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from playbooks import SHIPPED
from playbooks.parsing import ntc_template, run_template

TEMPLATES = SHIPPED / "templates"


@dataclass(frozen=True)
class Case:
    raw: Path

    @property
    def folder(self) -> Path:
        return self.raw.parent

    @property
    def platform(self) -> str:
        return self.folder.parent.name

    @property
    def name(self) -> str:
        return f"{self.platform}/{self.folder.name}/{self.raw.stem}"

    @property
    def expected_file(self) -> Path:
        return self.raw.with_suffix(".yaml")

    def template(self) -> Path:
        """The template this case is for: ours beside the folder, or ntc-templates' for the command."""
        ours = self.folder.with_suffix(".textfsm")
        if ours.is_file():
            return ours
        return ntc_template(self.platform, self.folder.name.replace("_", " "))

    def parse(self) -> list[dict[str, str]]:
        return run_template(str(self.template()), self.raw.read_text(encoding="utf-8"))

    def expected(self) -> list[dict[str, str]]:
        import yaml

        data = yaml.safe_load(self.expected_file.read_text(encoding="utf-8"))
        return data["parsed_sample"]


def cases(root: Path = TEMPLATES) -> Iterator[Case]:
    for raw in sorted(root.glob("*/*/*.raw")):
        yield Case(raw)


def render(rows: list[dict[str, str]]) -> str:
    import yaml

    return yaml.safe_dump({"parsed_sample": rows}, allow_unicode=True, sort_keys=False, width=1000)


def main(argv: list[str]) -> int:
    write = "--write" in argv
    paths = [Path(a).resolve() for a in argv if a != "--write"]
    for case in cases():
        if paths and not any(case.raw.resolve().is_relative_to(p) for p in paths):
            continue
        text = render(case.parse())
        if write:
            case.expected_file.write_text(text, encoding="utf-8")
            print(f"wrote {case.expected_file}")
        else:
            print(f"# {case.name} ({case.template().name})\n{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
