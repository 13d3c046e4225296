"""A device says, by SNMP trap, that a temperature passed its own alarm limit.

The device knows each sensor's rated limit, which one library default
(`temperature_high`) cannot, so its alarm is an incident of its own. Traps
known to the profiles: Cisco ciscoEnvMonTemperatureNotification, Huawei
hwTempRisingAlarm (cleared by hwTempRisingResume), H3C temperature and
critical-temperature threshold notifications. One incident per device: the
vendors name the sensor in different fields (sensor, entity, entity_index),
and the trap messages in the incident's timeline say which. Cisco and H3C
send no clearing trap, so the incident resolves an hour after the last alarm
unless a clearing trap comes first; `temperature_high` keeps watching the
readings meanwhile.
"""

from checks.rules import OnEvent
from checks.spec import Applies, Check, Text

CHECK = Check(
    id="temperature_trap",
    title=Text("Temperature alarm from the device", "设备温度告警"),
    severity="major",
    applies=Applies("snmp_trap"),
    rule=OnEvent(fires=("temperature_alarm", "temperature_high", "temperature_critical"), clears=("temperature_normal",)),
    thresholds={"resolve_after": 3600.0},
    analysis=Text(
        "{device} reported by SNMP trap that a temperature is above its alarm limit. "
        "Left alone, the device may throttle, lose components or shut itself down.",
        "{device} 通过 SNMP Trap 报告温度超过告警阈值。若不处理，设备可能降频、损坏部件或自动关机。",
    ),
    advice=Text(
        "Read the device's environment status (show environment / display environment) to see which sensor; "
        "check its fans, air flow and the room's cooling.",
        "查看设备的环境状态（show environment / display environment）以确认是哪个传感器；检查风扇、风道和机房制冷。",
    ),
    playbook="environment_status",
    tags=("hardware", "environment"),
)
