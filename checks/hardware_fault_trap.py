"""A device says, by SNMP trap, that a board, fan or power module is faulty.

Huawei hwEntityInvalid / hwEntityResume and H3C hh3cEntityExtOperDisabled /
OperEnabled and FaultAlarmOn / Off: the vendors' own fault detection, which
covers parts no polled metric does (boards, optics, fan trays on models
without a fan table). One incident per device, because the vendors name the
part in different fields; the trap messages in the timeline say which.
Resolves on the clearing trap, or a day after the last fault trap, because
traps travel over UDP and a lost clearing trap must not leave it open for ever.
"""

from checks.rules import OnEvent
from checks.spec import Applies, Check, Text

CHECK = Check(
    id="hardware_fault_trap",
    title=Text("Hardware fault reported by the device", "设备硬件故障告警"),
    severity="major",
    applies=Applies("snmp_trap"),
    rule=OnEvent(fires=("entity_faulty", "entity_fault"), clears=("entity_recovered", "entity_fault_cleared")),
    thresholds={"resolve_after": 86400.0},
    analysis=Text(
        "{device} reported by SNMP trap that one of its modules (a board, fan or power supply) is faulty. "
        "The device may be running without redundancy or with reduced capacity.",
        "{device} 通过 SNMP Trap 报告其某个部件（单板、风扇或电源）故障，设备可能已失去冗余或性能下降。",
    ),
    advice=Text(
        "Find the module in the device's alarms (display alarm active, display device); reseat or replace it, "
        "and open a case with the vendor if the fault persists.",
        "在设备告警中找到对应部件（display alarm active、display device）；重新插拔或更换该部件，若故障持续请联系厂商。",
    ),
    playbook="environment_status",
    tags=("hardware",),
)
