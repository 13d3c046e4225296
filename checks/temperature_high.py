"""A temperature sensor running hot: a failing fan, a blocked air flow, a hot room.

Defaults: above 80 °C for 5 minutes, recovered below 75 °C for 5, per
sensor (`sensor` and `chip`, from psutil, ENTITY-SENSOR-MIB, Cisco
ENVMON and the Huawei/H3C boards alike). One number has to serve very
different sensors: switch boards and server inlets run 30–60 °C and have
their own alarms (see `temperature_trap`), CPU packages reach 80 °C under
load only briefly and throttle near 95–100 °C. Above 80 °C for five
minutes is therefore abnormal for almost any of them without firing on a
busy CPU's peaks. Inlet sensors deserve a lower per-device override.
"""

from checks.rules import Above
from checks.spec import Applies, Check, Text

CHECK = Check(
    id="temperature_high",
    title=Text("Temperature high", "温度过高"),
    severity="major",
    applies=Applies("sensors_temperature_celsius", instance=("sensor", "chip")),
    rule=Above(),
    thresholds={"threshold": 80.0, "recover": 75.0, "for": 300.0, "recover_for": 300.0},
    analysis=Text(
        "Sensor {instance} on {device} has read {value:.0f} °C for over {for_min:.0f} minutes (limit {threshold:.0f} °C). "
        "Hardware that runs this hot wears out faster and may throttle or shut itself down.",
        "{device} 的传感器 {instance} 已持续 {for_min:.0f} 分钟以上达到 {value:.0f} °C（阈值 {threshold:.0f} °C），"
        "长期高温会加速硬件老化，并可能导致降频或自动关机。",
    ),
    advice=Text(
        "Check the device's fans and air flow (blocked vents, missing blanking panels, dust filters) and the room's "
        "temperature and air conditioning; compare with neighbouring devices to tell a local fault from a hot room.",
        "检查设备风扇与风道（通风口堵塞、缺少挡板、防尘网积灰）以及机房温度和空调；"
        "与相邻设备对比，区分是设备本身故障还是机房过热。",
    ),
    playbook="environment_status",
    tags=("hardware", "environment"),
)
