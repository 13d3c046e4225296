"""fakenos network devices on 127.0.0.1 for the tests: Cisco IOS, Huawei VRP, H3C Comware over SSH.

`FakeNos` runs fakenos (PyPI) in a subprocess of its own — its server
threads are not daemons and a hanging command blocks one, so only killing
the process ends it cleanly — with an inventory written here: one host per
entry in `hosts`, each on a free high port, password login.

fakenos' platform models lack what diagnosis needs; `EXTRA_COMMANDS` adds
realistic outputs (CPU, memory, hardware, alarms, a config with secrets for
the redaction tests), and callers may add more. Two test-only commands
exist on every platform: `vigil test stream` prints `STREAM_LINES` lines
`STREAM_DELAY_S` apart (to see lines arrive before the prompt does) and
`vigil test hang` sleeps `HANG_S` before answering (a device that stops
answering mid-command). fakenos' own quirks, measured here: it echoes
input one byte per 10 ms, so a command costs about 0.25 s; cisco_ios
answers `show version` and `show running-config` only after `enable`.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from agent.config import Device, SshAccess

LOCALHOST = "127.0.0.1"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 5.0
USERNAME, PASSWORD = "vigil", "fakenos-pass-7"
STREAM_LINES, STREAM_DELAY_S = 5, 0.3
HANG_S = 60.0
PLATFORMS = ("cisco_ios", "huawei_vrp", "hp_comware")
_KINDS = {"cisco_ios": "router", "huawei_vrp": "switch", "hp_comware": "switch"}

# A command's `output` is text; `{"sleep_s": N, "text": T}` answers T after N s; `{"lines": [[delay_s, line], …]}`
# prints each line after its delay.
Command = dict[str, Any]

_TEST_COMMANDS: dict[str, Command] = {
    "vigil test stream": {"output": {"lines": [[STREAM_DELAY_S, f"stream line {i}"] for i in range(1, STREAM_LINES + 1)]}},
    "vigil test hang": {"output": {"sleep_s": HANG_S, "text": "woke up"}},
}

EXTRA_COMMANDS: dict[str, dict[str, Command]] = {
    "cisco_ios": {
        "show processes cpu sorted": {"output": """\
CPU utilization for five seconds: 7%/1%; one minute: 6%; five minutes: 5%
 PID Runtime(ms)     Invoked      uSecs   5Sec   1Min   5Min TTY Process
 193     1238812     8765432        141  1.35%  1.02%  0.98%   0 IP Input
  84      512004     2210456        231  0.71%  0.55%  0.52%   0 ARP Input
 312      298776     1876543        159  0.47%  0.41%  0.40%   0 SNMP ENGINE
 145      201332     1022311        196  0.31%  0.29%  0.30%   0 Spanning Tree
  12      100120      523312        191  0.15%  0.12%  0.11%   0 Net Background
   1           8         109         73  0.00%  0.00%  0.00%   0 Chunk Manager
   2        9876      131072         75  0.00%  0.00%  0.00%   0 Load Meter
"""},
        "show environment all": {"output": """\
Switch 1 FAN 1 is OK
Switch 1 FAN 2 is OK
Switch 1 FAN 3 is FAULTY
FAN PS-1 is OK
FAN PS-2 is NOT PRESENT
Switch 1: SYSTEM TEMPERATURE is OK
Inlet Temperature Value: 34 Degree Celsius
Temperature State: GREEN
Yellow Threshold : 46 Degree Celsius
Red Threshold    : 56 Degree Celsius

Hotspot Temperature Value: 49 Degree Celsius
Temperature State: GREEN
Yellow Threshold : 105 Degree Celsius
Red Threshold    : 125 Degree Celsius
SW  PID                 Serial#     Status           Sys Pwr  PoE Pwr  Watts
--  ------------------  ----------  ---------------  -------  -------  -----
1A  PWR-C1-350WAC       DCB1844G1ZY  OK              Good     n/a      350
1B  Not Present
"""},
    },
    "huawei_vrp": {
        "display cpu-usage": {"output": """\
 CPU Usage Stat. Cycle: 60 (Second)
 CPU Usage            : 12% Max: 36%
 CPU Usage Stat. Time : 2024-05-14  10:21:37
 CPU utilization for five seconds: 12%: one minute: 11%: five minutes: 11%
 Max CPU Usage Stat. Time : 2024-05-13 23:41:05.

 TaskName        CPU  Runtime(CPU Tick High/Tick Low)  Task Explanation
 VIDL           88%      0/ 2c5a2c40       DOPRA IDLE
 OS              6%      0/  1e4cd3a0      Operation System
 SOCK            2%      0/   3a2b1c00     SOCKet
 VPR             1%      0/   1d4c8a20     VP Receive
 FTS             1%      0/   1a3b2c10     FTS
 BOX             0%      0/    2b3c4d0     Output
"""},
        "display memory-usage": {"output": """\
 Memory utilization statistics at 2024-05-14 10:22:05+08:00
 System Total Memory Is: 487469056 bytes
 Total Memory Used Is: 213157376 bytes
 Memory Using Percentage Is: 43%
"""},
        "display device": {"output": """\
S5720-28X-SI-AC's Device status:
Slot Sub  Type                   Online    Power    Register     Alarm     Primary
-------------------------------------------------------------------------------
0    -    S5720-28X-SI-AC        Present   PowerOn  Registered   Normal    Master
     PWR1 POWER                  Present   PowerOn  Registered   Normal    NA
     PWR2 POWER                  Absent    -        -            -         NA
     FAN1 FAN                    Present   PowerOn  Registered   Normal    NA
"""},
        "display alarm active": {"output": """\
A/B/C/D/E/F/G/H/I/J
A=Sequence, B=RootKindFlag(Independent|RootCause|nonRootCause)
C=Generating time, D=Clearing time
E=ID, F=Name, G=Level, H=State
I=Description information for locating(Para Info, Reason Info)
J=RootCause alarm sequence(Only for nonRootCause alarm)

  1/Independent/2024-05-14 09:58:12/-/0x8520003/hwPowerRemove/Major/Start/
OID 1.3.6.1.4.1.2011.5.25.129.2.5.5 Power is absent.(Index=16777216, EntityPhysicalIndex=16777216, PhysicalName="PWR2", EntityTrapFaultID=136448, Reason=The power module was removed.)
------------------------------------------------------------------------------
"""},
        "display fan": {"output": """\
-------------------------------------------------------------------------
 Slot  FanID   Online    Status    Speed     Mode     Airflow
-------------------------------------------------------------------------
 0     1       Present   Normal    45%       Auto     Side-to-Back
"""},
        "display power": {"output": """\
------------------------------------------------------------
Slot    PowerID   Online   Mode   State      Power(W)
------------------------------------------------------------
0       PWR1      Present  AC     Supply     150.00
0       PWR2      Absent   -      -          -
"""},
        "display current-configuration": {"output": """\
!Software Version V200R011C10SPC600
#
sysname vrp-core-1
#
aaa
 local-user admin password irreversible-cipher $1a$Zx1ObqR3Y.$5W0pD)Q9c~l7N2e-_vigil_secret_$
 local-user admin privilege level 15
 local-user admin service-type terminal ssh
#
snmp-agent
snmp-agent community read cipher %^%#K[&`Jc~_4H-~.>0:m%dK:*7s,{(3i02`R$>&n}+56Pb%^%# mib-view iso-view
snmp-agent sys-info version v2c v3
#
user-interface vty 0 4
 authentication-mode aaa
 protocol inbound ssh
#
return
"""},
    },
    "hp_comware": {
        "display version": {"output": """\
H3C Comware Software, Version 7.1.070, Release 3208P10
Copyright (c) 2004-2020 New H3C Technologies Co., Ltd. All rights reserved.
H3C S5130-28S-EI uptime is 0 weeks, 2 days, 4 hours, 31 minutes
Last reboot reason : Cold reboot

Boot image: flash:/s5130ei-cmw710-boot-r3208p10.bin
Boot image version: 7.1.070, Release 3208P10
  Compiled Apr 30 2020 11:00:00
System image: flash:/s5130ei-cmw710-system-r3208p10.bin
System image version: 7.1.070, Release 3208P10
  Compiled Apr 30 2020 11:00:00

Slot 1:
Uptime is 0 weeks,2 days,4 hours,31 minutes
S5130-28S-EI with 1 Processor
BOARD TYPE:         S5130-28S-EI
DRAM:               1024M bytes
FLASH:              512M bytes
PCB 1 Version:      VER.B
Bootrom Version:    147
CPLD 1 Version:     002
Release Version:    H3C S5130-28S-EI-3208P10
Patch Version  :    None
Reboot Cause  :     ColdReboot
[SubSlot 0] 24GE+4SFP Plus
"""},
        "display cpu-usage": {"output": """\
Slot 1 CPU 0 CPU usage:
       6% in last 5 seconds
       5% in last 1 minute
       5% in last 5 minutes
"""},
        "display memory": {"output": """\
Memory statistics are measured in KB:
Slot 1:
             Total      Used      Free    Shared   Buffers    Cached   FreeRatio
Mem:       1003476    542128    461348         0      2844    187428       46.0%
-/+ Buffers/Cache:    351856    651620
Swap:            0         0         0
"""},
        "display device": {"output": """\
Slot Type                   State    Subslot  Soft Ver             Patch Ver
1    S5130-28S-EI           Master   0        S5130EI-7.1.070-R3208P10  None
"""},
        "display fan": {"output": """\
 Slot 1:
 Fan 1:
 State    : Normal
 Airflow Direction: Port-to-power
 Prefer Airflow Direction: Port-to-power
 Fan 2:
 State    : Absent
"""},
        "display power": {"output": """\
 Slot 1:
 PowerID State    Mode   Current(A)  Voltage(V)  Power(W)  FanDirection
 1       Normal   AC     --          --          --        Back-to-front
 2       Absent   --     --          --          --        --
"""},
        "display alarm": {"output": """\
Slot  CPU Level   Info
1     0   ERROR   Fan 2 is absent.
1     0   ERROR   Power 2 is absent.
"""},
        "display current-configuration": {"output": """\
#
 version 7.1.070, Release 3208P10
#
 sysname h3c-access-1
#
 snmp-agent community read simple vigil-h3c-community acl 2000
 snmp-agent sys-info version v2c
#
local-user admin class manage
 password hash $h$6$Hk2vTqCq3sPm0Gjx$vigil+h3c+hash==
 service-type ssh terminal
 authorization-attribute user-role network-admin
#
return
"""},
    },
}

# fakenos runs in its own process; this is its launcher. Text outputs pass through the inventory as they
# are; the two special forms become callables, and the shell learns to print a generator line by line.
_LAUNCHER = r"""
import json, os, signal, sys, time, types
signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
from fakenos import FakeNOS
from fakenos.plugins.shell import cmd_shell

_writeline = cmd_shell.CMDShell.writeline
def writeline(self, value):
    if isinstance(value, types.GeneratorType):
        for line in value:
            _writeline(self, line)
    else:
        _writeline(self, value)
cmd_shell.CMDShell.writeline = writeline

def sleeper(seconds, text):
    def answer(*args, **kwargs):
        time.sleep(seconds)
        return text
    return answer

def streamer(lines):
    def answer(*args, **kwargs):
        def produce():
            for delay, line in lines:
                time.sleep(delay)
                yield line
        return produce()
    return answer

inventory = json.load(open(sys.argv[1]))
for host in inventory["hosts"].values():
    for spec in host["nos"]["configuration"]["commands"].values():
        output = spec.get("output")
        if isinstance(output, dict) and "sleep_s" in output:
            spec["output"] = sleeper(output["sleep_s"], output.get("text", ""))
        elif isinstance(output, dict) and "lines" in output:
            spec["output"] = streamer(output["lines"])
net = FakeNOS(inventory=inventory)
net.start()
print("fakenos ready", flush=True)
while True:
    time.sleep(3600)
"""


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOCALHOST, 0))
        return s.getsockname()[1]


class FakeNos:
    """fakenos hosts named by `hosts` (name → platform), each on its own free port."""

    def __init__(self, root: Path, hosts: Mapping[str, str] | None = None,
                 extra_commands: Mapping[str, Mapping[str, Command]] | None = None) -> None:
        self.root = root
        self.host = LOCALHOST
        self.hosts = dict(hosts or {f"{platform}-1": platform for platform in PLATFORMS})
        self.username, self.password = USERNAME, PASSWORD
        self.commands: dict[str, dict[str, Command]] = {}
        for platform in set(self.hosts.values()):
            self.commands[platform] = {**_TEST_COMMANDS, **EXTRA_COMMANDS.get(platform, {}),
                                       **(extra_commands or {}).get(platform, {})}
        self.ports: dict[str, int] = {}
        self._process: subprocess.Popen[bytes] | None = None

    def access(self, name: str, **settings: Any) -> SshAccess:
        values: dict[str, Any] = {"port": self.ports[name], "username": self.username, "password": self.password,
                                  "timeout": 5.0, "keepalive": 10.0}
        values.update(settings)
        return SshAccess(**values)

    def device(self, name: str, device_id: str | None = None, **settings: Any) -> Device:
        platform = self.hosts[name]
        return Device(id=device_id or name, kind=_KINDS.get(platform, "other"), address=self.host,  # type: ignore[arg-type]
                      platform=platform, ssh=self.access(name, **settings))

    def _inventory(self) -> dict[str, Any]:
        with_prompts = {
            platform: {command: {"prompt": ["{base_prompt}>", "{base_prompt}#"], **spec}
                       for command, spec in commands.items()}
            for platform, commands in self.commands.items()
        }
        return {
            "default": {
                "username": self.username, "password": self.password,
                "server": {"plugin": "ParamikoSshServer", "configuration": {"address": self.host, "timeout": 1}},
            },
            "hosts": {
                name: {"port": self.ports[name], "platform": platform,
                       "nos": {"plugin": platform, "configuration": {"commands": with_prompts[platform]}}}
                for name, platform in self.hosts.items()
            },
        }

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tries = 3
        while True:
            self.ports = {name: free_tcp_port() for name in self.hosts}
            inventory = self.root / "inventory.json"
            inventory.write_text(json.dumps(self._inventory(), indent=1))
            with open(self.root / "fakenos.log", "ab") as log:
                self._process = subprocess.Popen([sys.executable, "-c", _LAUNCHER, str(inventory)],
                                                 stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            if self._wait_ready():
                return
            self.stop()
            tries -= 1
            if not tries:
                raise RuntimeError(f"fakenos did not start: {(self.root / 'fakenos.log').read_text(errors='replace')[-3000:]}")

    def _wait_ready(self) -> bool:
        assert self._process is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        waiting = dict(self.ports)
        while waiting and time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            for name, port in list(waiting.items()):
                try:
                    with socket.create_connection((self.host, port), timeout=1.0) as probe:
                        probe.settimeout(3.0)
                        if probe.recv(64).startswith(b"SSH-2.0-"):
                            del waiting[name]
                except OSError:
                    pass
            time.sleep(0.05)
        return not waiting

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_TIMEOUT_S)

    def __enter__(self) -> FakeNos:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.stop()
