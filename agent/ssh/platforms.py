"""Which executor serves a device's `platform`, and netmiko's name for each network CLI.

Kept free of imports so the config schema can name the SSH platforms without
loading paramiko or netmiko.
"""

from __future__ import annotations

from typing import Literal

LOCAL = "agent"      # commands run on the agent's own machine (ping, traceroute from the site)
LINUX = "linux"
# Vigil's platform name → netmiko's device_type.
NETMIKO_DEVICE_TYPES: dict[str, str] = {
    "cisco_ios": "cisco_ios",
    "huawei_vrp": "huawei",
    "hp_comware": "hp_comware",       # H3C Comware
}
SSH_PLATFORMS: tuple[str, ...] = (LINUX, *NETMIKO_DEVICE_TYPES)

Executor = Literal["local", "linux", "network"]


def executor_for(platform: str) -> Executor | None:
    if platform == LOCAL:
        return "local"
    if platform == LINUX:
        return "linux"
    if platform in NETMIKO_DEVICE_TYPES:
        return "network"
    return None
