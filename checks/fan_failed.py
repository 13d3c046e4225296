"""A fan reports failure: the device is losing cooling and, often, its redundancy.

`sensors_fan_ok` is 1 while the device calls the fan normal and 0 for any
fault (Cisco ENVMON, Huawei and H3C fan tables). Defaults: failed for 2
minutes (two SNMP polls, so one odd reading during a fan-tray swap is not
an incident), recovered after 5 minutes of normal readings.
"""

from checks.rules import State
from checks.spec import Applies, Check, Text

CHECK = Check(
    id="fan_failed",
    title=Text("Fan failed", "风扇故障"),
    severity="major",
    applies=Applies("sensors_fan_ok", instance=("fan",)),
    rule=State(bad=0.0),
    thresholds={"for": 120.0, "recover_for": 300.0},
    analysis=Text(
        "Fan {instance} on {device} reports a fault. The device is running with less cooling and may overheat, "
        "especially if a second fan fails.",
        "{device} 的风扇 {instance} 报告故障，设备散热能力下降；若再有风扇故障，设备可能过热。",
    ),
    advice=Text(
        "Check the fan's state on the device (show environment / display fan); reseat or replace the fan tray, "
        "and watch the device's temperatures until it is fixed.",
        "在设备上查看风扇状态（show environment / display fan）；重新插拔或更换风扇模块，修复前请密切关注设备温度。",
    ),
    playbook="environment_status",
    tags=("hardware",),
)
