"""The agent cannot poll a device over SNMP: it is down, cut off, or refusing the agent.

Not an absence check: the agent turns a poll that times out or fails into
data (`vigil_poll_up = 0`, with `vigil_poll_error_info{kind}` saying
timeout, auth …), so an unreachable device is a state the agent reports.
Silence would mean the agent itself is gone, which `agent_unreachable`
covers. Defaults: failing for 3 minutes (three polls at the usual 60 s, so
one lost UDP reply is not an outage), recovered after 2 minutes of
successful polls.
"""

from checks.rules import State
from checks.spec import Applies, Check, Text

CHECK = Check(
    id="device_unreachable",
    title=Text("Device unreachable", "设备不可达"),
    severity="critical",
    applies=Applies("vigil_poll_up", labels=(("poller", "snmp"),)),
    rule=State(bad=0.0),
    thresholds={"for": 180.0, "recover_for": 120.0},
    analysis=Text(
        "The Vigil agent has not been able to poll {device} over SNMP for over {for_min:.0f} minutes. "
        "The device may be down, cut off from the network, or no longer accept the agent's SNMP credentials.",
        "Vigil 代理已超过 {for_min:.0f} 分钟无法通过 SNMP 采集 {device}。设备可能已宕机、网络中断，或不再接受代理的 SNMP 凭据。",
    ),
    advice=Text(
        "Ping the device from the agent's host and check its power and uplink; if it answers ping, check the "
        "SNMP service, ACLs and credentials (vigil_poll_error_info says whether polls time out or are refused).",
        "从代理所在主机 ping 该设备，检查设备电源和上联链路；若能 ping 通，请检查 SNMP 服务、ACL 及凭据"
        "（vigil_poll_error_info 会说明是超时还是被拒绝）。",
    ),
    playbook="reachability",
    tags=("availability",),
)
