"""A UPS battery with little charge left: on battery, shutdown is near; on mains, the battery is failing.

Defaults: charge below 40 % (at once: the charge is a slow, smooth gauge,
not a noisy one), recovered above 80 % for 5 minutes. A UPS sized for 10–20
minutes has about 5 left at 40 %, the time a graceful shutdown of servers
needs. Recovering only at 80 % keeps a recharging battery from closing and
re-opening the incident; a battery that stays low on mains cannot hold a
charge and must be replaced. The UPS's own low-battery flag (`ups_battery_low`)
comes later, when shutdown is already imminent.
"""

from checks.rules import Below
from checks.spec import Applies, Check, Text

CHECK = Check(
    id="ups_battery_low",
    title=Text("UPS battery low", "UPS 电池电量低"),
    severity="critical",
    applies=Applies("ups_battery_charge_percent"),
    rule=Below(),
    thresholds={"threshold": 40.0, "recover": 80.0, "for": 0.0, "recover_for": 300.0},
    analysis=Text(
        "The battery of {device} is at {value:.0f} % charge (limit {threshold:.0f} %). "
        "On battery power, the protected equipment will lose power within minutes.",
        "{device} 的电池电量为 {value:.0f}%（阈值 {threshold:.0f}%）。若正在使用电池供电，受保护的设备将在几分钟内断电。",
    ),
    advice=Text(
        "If the UPS is on battery, shut down the protected equipment in order now. If it is on mains and the charge "
        "does not rise within hours, the battery cannot hold a charge: run a battery test and replace it.",
        "若 UPS 正在使用电池供电，请立即按顺序关闭受保护的设备。若已恢复市电但电量数小时内不回升，"
        "说明电池已无法蓄电：请进行电池自检并更换电池。",
    ),
    tags=("power", "availability"),
)
