"""The installed playbooks: load and validate every file at start, then find one by id and hash.

`load()` reads the shipped folder, then any folders given, in order; a
later folder's playbook replaces a shipped one with the same id (a site's
own version), two files in one folder with one id are an error. Every
problem in every file is reported at once as `file:line: field: problem`.

A run names a playbook by id *and* content hash (sha256 of the file's
bytes): the agent runs only the exact file it has installed, never command
text sent over the wire (`Library.by_hash`).

Loading imports pydantic, PyYAML and textfsm; the loaded `Library` needs
none of them until a step's output is parsed, and pickles.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from agent.configfile import ConfigError, format_location, load_model, read_yaml
from playbooks import SHIPPED, scope
from playbooks.errors import ParamError, ParseError, PlaybookError
from playbooks.findings import SEVERITIES, Finding
from playbooks.model import PlannedStep, Playbook, Step
from playbooks.text import Text

__all__ = [
    "SEVERITIES",
    "SHIPPED",
    "Finding",
    "Library",
    "ParamError",
    "ParseError",
    "PlannedStep",
    "Playbook",
    "PlaybookError",
    "Step",
    "Text",
    "load",
    "load_file",
]


class Library:
    """Playbooks by id. Iterating yields them sorted by id."""

    def __init__(self, playbooks: Iterable[Playbook]) -> None:
        self._by_id: dict[str, Playbook] = {}
        for playbook in playbooks:
            if playbook.id in self._by_id:
                other = self._by_id[playbook.id].source
                raise PlaybookError(f"{playbook.source}: id {playbook.id!r} is also the id of {other}")
            self._by_id[playbook.id] = playbook
        self._by_id = dict(sorted(self._by_id.items()))

    def get(self, playbook_id: str) -> Playbook | None:
        return self._by_id.get(playbook_id)

    def by_hash(self, playbook_id: str, content_hash: str) -> Playbook | None:
        """The playbook only if this library holds exactly that file."""
        playbook = self._by_id.get(playbook_id)
        return playbook if playbook is not None and playbook.content_hash == content_hash.lower() else None

    def all(self) -> tuple[Playbook, ...]:
        return tuple(self._by_id.values())

    def __iter__(self) -> Iterator[Playbook]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, playbook_id: object) -> bool:
        return playbook_id in self._by_id


def load_file(path: Path, template_roots: Sequence[Path] = (SHIPPED / "templates",)) -> Playbook:
    """One playbook file, validated; PlaybookError lists its problems."""
    path = Path(path)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise PlaybookError(f"{path}: cannot read: {exc.strerror or exc}") from None
    current = scope.Scope(
        source=str(path), content_hash=hashlib.sha256(content).hexdigest(), template_roots=tuple(template_roots)
    )
    with scope.reading(current):
        try:
            playbook = load_model(path, Playbook)
        except ConfigError as exc:
            raise PlaybookError(str(exc)) from None
    problems = playbook.problems()
    if problems:
        lines = read_yaml(path)[1]
        raise PlaybookError(
            "\n".join(f"{path}:{lines.get(where, 1)}: {format_location(where)}: {problem}" for where, problem in problems)
        )
    return playbook


def _roots(folder: Path) -> tuple[Path, ...]:
    own, shipped = folder / "templates", SHIPPED / "templates"
    return (own,) if own.resolve() == shipped.resolve() else (own, shipped)


def load(dirs: Sequence[Path] = (SHIPPED,)) -> Library:
    """The shipped playbooks, then those in `dirs` (replacing shipped ones of the same id)."""
    folders = [SHIPPED] + [Path(d) for d in dirs if Path(d).resolve() != SHIPPED.resolve()]
    problems: list[str] = []
    chosen: dict[str, Playbook] = {}
    for folder in folders:
        if not folder.is_dir():
            problems.append(f"{folder}: not a folder of playbooks")
            continue
        here: dict[str, Playbook] = {}
        for path in sorted(folder.glob("*.yaml")):
            try:
                playbook = load_file(path, _roots(folder))
            except PlaybookError as exc:
                problems.append(str(exc))
                continue
            if playbook.id in here:
                other = here[playbook.id].source
                problems.append(f"{path}:{_line_of_id(path)}: id: {playbook.id!r} is already the id of {other}")
                continue
            here[playbook.id] = playbook
        chosen.update(here)
    if problems:
        raise PlaybookError("\n".join(problems))
    return Library(chosen.values())


def _line_of_id(path: Path) -> int:
    try:
        return read_yaml(path)[1].get(("id",), 1)
    except ConfigError:
        return 1
