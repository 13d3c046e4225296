"""A UPS running on its battery: mains power has failed or is out of tolerance.

`ups_on_battery` is 1 while the output source is the battery (UPS-MIB
upsOutputSource, APC upsBasicOutputStatus). Defaults: on battery for 1
minute, back on mains for 5. A transfer of a few seconds during a brown-out
is what the UPS is for and not an incident; a minute means the mains is
really gone and the battery's runtime is being spent. Five minutes on
mains before resolving, because a failing feed often comes back and drops
again.
"""

from checks.rules import State
from checks.spec import Applies, Check, Text

CHECK = Check(
    id="ups_on_battery",
    title=Text("UPS on battery", "UPS 电池供电中"),
    severity="critical",
    applies=Applies("ups_on_battery"),
    rule=State(bad=1.0),
    thresholds={"for": 60.0, "recover_for": 300.0},
    analysis=Text(
        "{device} has been running on battery for over {for_min:.0f} minutes: mains power has failed or is unstable. "
        "The equipment it feeds will go down when the battery is empty.",
        "{device} 已使用电池供电超过 {for_min:.0f} 分钟，市电中断或不稳定；电池耗尽后，其所带设备将会断电。",
    ),
    advice=Text(
        "Check the mains feed and the building's power; watch the battery charge and remaining runtime; "
        "if the outage will outlast the battery, shut down the protected equipment in order.",
        "检查市电输入及楼宇供电；关注电池电量与剩余时间；若停电时间可能超过电池续航，请按顺序关闭受保护的设备。",
    ),
    tags=("power", "availability"),
)
