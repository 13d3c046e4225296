"""The three ways a playbook says no: a bad file, a bad parameter, output it cannot read.

`PlaybookError` is a `ConfigError`, so whatever already reports a bad config
file (`agent.configfile.load_or_exit`) reports a bad playbook the same way.
"""

from __future__ import annotations

from agent.configfile import ConfigError


class PlaybookError(ConfigError):
    """A playbook file is invalid (`str()` lists every problem as `file:line: field: problem`),
    or a playbook was asked for something it does not have (a platform, a step)."""


class ParamError(ValueError):
    """A parameter value was refused before anything ran; `param` names it."""

    def __init__(self, param: str, problem: str) -> None:
        super().__init__(f"parameter {param!r}: {problem}")
        self.param = param
        self.problem = problem


class ParseError(Exception):
    """A step's output did not fit its TextFSM template."""

    def __init__(self, playbook: str, step: str, platform: str, problem: str) -> None:
        super().__init__(f"playbook {playbook}, step {step} on {platform}: cannot parse the output: {problem}")
        self.playbook = playbook
        self.step = step
        self.platform = platform
        self.problem = problem
