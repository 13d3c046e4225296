"""The poller interface and the registry that finds pollers by name.

A poller is anything with a name, a device, an interval and an async
`poll()`; the scheduler never imports a concrete poller. Each poller kind
registers a factory that turns the agent's config into zero or more pollers,
and its module is imported only when the config enables it, because an
import is memory the agent keeps for its whole life (pysnmp, paramiko and
netmiko together cost ~58 MiB of RSS).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from agent.config import AgentConfig
    from agent.samples import Poll


class Poller(Protocol):
    kind: str          # registry name: "host", "snmp", "ssh"
    device_id: str
    interval_s: float
    timeout_s: float

    async def poll(self) -> Poll:
        """One collection. May raise: the scheduler turns that into `vigil_poll_up = 0`."""
        ...


Factory = Callable[["AgentConfig"], list[Poller]]
T = TypeVar("T")

_FACTORIES: dict[str, Factory] = {}

# kind → module that registers it when imported.
_MODULES = {"host": "agent.pollers.host", "synthetic": "agent.pollers.synthetic", "snmp": "agent.pollers.snmp.poller",
            "ssh": "agent.pollers.ssh.poller"}

# What pollers need that takes pydantic to build (SNMP profiles), made in the
# forked config child (`agent.config.load_isolated`) and handed back here.
_PRELOADED: dict[str, object] = {}


# Live objects a poller shares with the rest of the agent, made once per process:
# the SSH session pool ("ssh_sessions"), so that a playbook run and a poll of one
# device queue for its one session.
_SHARED: dict[str, object] = {}


def shared(name: str, make: Callable[[], T]) -> T:
    """The process's `name`, made by `make()` the first time it is asked for."""
    if name not in _SHARED:
        _SHARED[name] = make()
    return _SHARED[name]  # type: ignore[return-value]


def made() -> set[str]:
    """The names of the shared objects made so far."""
    return set(_SHARED)


def register(kind: str) -> Callable[[Factory], Factory]:
    def decorate(factory: Factory) -> Factory:
        if kind in _FACTORIES:
            raise ValueError(f"poller kind {kind!r} is registered twice")
        _FACTORIES[kind] = factory
        return factory

    return decorate


def enabled_kinds(config: AgentConfig) -> list[str]:
    kinds = []
    if config.pollers.host.enabled:
        kinds.append("host")
    if config.pollers.synthetic.enabled:
        kinds.append("synthetic")
    if any(device.snmp is not None for device in config.devices):
        kinds.append("snmp")
    if any(device.ssh is not None and device.ssh.poll for device in config.devices):
        kinds.append("ssh")
    return kinds


def uses_snmp(config: AgentConfig) -> bool:
    return "snmp" in enabled_kinds(config) or config.pollers.snmp.traps.enabled


def preload(config: AgentConfig) -> dict[str, object]:
    """Validated data the configured pollers will need; raises ConfigError naming the file and line."""
    data: dict[str, object] = {"playbooks": _playbooks(config)}   # pickled: unpickled at the first run
    if uses_snmp(config):
        from agent.pollers.snmp.profiles import load_profiles

        data["snmp_profiles"] = load_profiles(config.pollers.snmp.profiles_dir)
    if "ssh" in enabled_kinds(config):
        from agent.pollers.ssh.model import load_for

        data["ssh_definitions"] = load_for(config)
    return data


def _playbooks(config: AgentConfig) -> bytes:
    """The installed playbooks, every one validated now: a bad one stops the agent at start, naming it.

    Kept pickled until the first run: most agents run a playbook rarely.
    """
    import pickle

    from agent.configfile import ConfigError
    from playbooks.library import PlaybookError, load

    try:
        return pickle.dumps(load(config.playbooks.dirs))
    except PlaybookError as exc:
        raise ConfigError(f"playbooks: {exc}") from None


def keep_preloaded(data: dict[str, object]) -> None:
    _PRELOADED.update(data)


def preloaded(config: AgentConfig, name: str) -> object:
    """What `preload` made in the config child; made here when the config was loaded in-process (tests)."""
    if name not in _PRELOADED:
        _PRELOADED.update(preload(config))
    return _PRELOADED[name]


def build(config: AgentConfig) -> list[Poller]:
    """Every poller the config asks for, importing only the kinds in use."""
    pollers: list[Poller] = []
    for kind in enabled_kinds(config):
        importlib.import_module(_MODULES[kind])
        pollers.extend(_FACTORIES[kind](config))
    return pollers
