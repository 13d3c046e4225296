"""A power supply reports failure: the device has lost its power redundancy, or is about to lose power.

`sensors_power_supply_ok` is 1 while the device calls the supply normal and
0 for any fault, a lost feed included (Cisco ENVMON, Huawei and H3C power
tables). Defaults: failed for 1 minute, recovered after 5 minutes of normal
readings: a supply is either working or not, but a feed being switched
over by an electrician should not open an incident on its own.
"""

from checks.rules import State
from checks.spec import Applies, Check, Text

CHECK = Check(
    id="psu_failed",
    title=Text("Power supply failed", "电源故障"),
    severity="major",
    applies=Applies("sensors_power_supply_ok", instance=("psu",)),
    rule=State(bad=0.0),
    thresholds={"for": 60.0, "recover_for": 300.0},
    analysis=Text(
        "Power supply {instance} on {device} reports a fault or has no input power. "
        "If the device has a second supply it keeps running, but without redundancy.",
        "{device} 的电源 {instance} 报告故障或无输入电源。若设备有冗余电源则可继续运行，但已失去冗余保护。",
    ),
    advice=Text(
        "Check the power cord, the PDU and the circuit feeding this supply; if the feed is fine, replace the supply.",
        "检查该电源的电源线、PDU 及供电回路；若供电正常，请更换该电源模块。",
    ),
    playbook="environment_status",
    tags=("hardware", "power"),
)
