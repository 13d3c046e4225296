"""An interface an administrator enabled is down: a cut cable, a dead SFP, a neighbour switched off."""

from checks.rules import State
from checks.spec import Applies, Check, Text

CHECK = Check(
    id="interface_down",
    title=Text("Interface down", "接口中断"),
    severity="major",
    applies=Applies("net_oper_up", instance=("interface",), only_if=("net_admin_up", 1.0)),
    rule=State(bad=0.0),
    thresholds={"for": 60.0, "recover_for": 60.0},
    analysis=Text(
        "Interface {instance} on {device} is down although it is enabled.",
        "{device} 的接口 {instance} 已启用但处于中断状态。",
    ),
    advice=Text(
        "Check the cable and the optics on both ends, the neighbour device's port, and the interface's error counters.",
        "检查两端的线缆和光模块、对端设备端口以及该接口的错误计数。",
    ),
    playbook="interface_errors",
    tags=("availability", "network"),
)
