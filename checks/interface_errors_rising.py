"""Receive errors on an interface, minute after minute: a bad cable, optic, port or duplex mismatch.

`Above` on the rate the agent already computes (`net_errors_in_per_second`,
from psutil and IF-MIB ifInErrors alike): "the counter keeps rising" is
"its rate stays above zero", and the agent has handled wraps and resets.
Defaults: more than 0.1 errors/s (6 a minute) in every poll for 10
minutes, recovered below 0.01/s (under one a minute) for 15. A long link
collects a stray error now and then, which is noise; six a minute, poll
after poll, is a physical fault. Receive side only: that is where CRC and
alignment errors of a bad link show; transmit errors mostly mean a
collision-domain or driver problem, rarer and out of scope here.
"""

from checks.rules import Above
from checks.spec import Applies, Check, Text

CHECK = Check(
    id="interface_errors_rising",
    title=Text("Interface errors rising", "接口错误包持续增长"),
    severity="minor",
    applies=Applies("net_errors_in_per_second", instance=("interface",)),
    rule=Above(),
    thresholds={"threshold": 0.1, "recover": 0.01, "for": 600.0, "recover_for": 900.0},
    analysis=Text(
        "Interface {instance} on {device} has received errored frames for over {for_min:.0f} minutes, "
        "now {value:.2f} per second (limit {threshold:.2f}/s). Traffic through it is being lost and retransmitted.",
        "{device} 的接口 {instance} 已持续 {for_min:.0f} 分钟以上收到错误帧，当前每秒 {value:.2f} 个"
        "（阈值每秒 {threshold:.2f} 个），经过该接口的流量正在丢失并重传。",
    ),
    advice=Text(
        "Look at the interface's error types (CRC, alignment, runts); check speed and duplex on both ends; "
        "reseat or replace the cable and the optics, or move the link to another port to rule out the port itself.",
        "查看该接口的错误类型（CRC、对齐错误、超短帧）；核对两端的速率与双工设置；"
        "重新插拔或更换线缆和光模块，或将链路换到其他端口以排除端口本身故障。",
    ),
    playbook="interface_errors",
    tags=("network",),
)
