"""The agent's command sessions on devices: SSH to Linux hosts and network CLIs, and local commands.

    pool.py       SessionPool: one session per device, exclusive FIFO use, reopened when broken
    linux.py      paramiko exec (no PTY, exit status, streamed lines)
    network.py    netmiko CLI sessions (cisco_ios, huawei_vrp, hp_comware), streamed from the raw channel
    local.py      platform `agent`: commands on the agent's own machine, no shell
    hostkeys.py   pinned keys and trust on first use under state_dir
    lines.py      output → lines, capped at max_bytes
    types.py      CommandOutput, SshError, the Session protocol

Playbook runs and the SSH poller both use `SessionPool`. Names are imported
lazily so that importing `agent.ssh.platforms` (the config schema does) loads
nothing else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent.ssh.pool import Lease, SessionPool
    from agent.ssh.types import CommandOutput, Session, SshError

__all__ = ["CommandOutput", "Lease", "Session", "SessionPool", "SshError"]


def __getattr__(name: str) -> Any:
    if name in ("SessionPool", "Lease"):
        from agent.ssh import pool

        return getattr(pool, name)
    if name in ("CommandOutput", "Session", "SshError"):
        from agent.ssh import types

        return getattr(types, name)
    raise AttributeError(f"module 'agent.ssh' has no attribute {name!r}")
