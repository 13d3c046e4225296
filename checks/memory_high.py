"""Memory nearly exhausted: a leak, or a host or device outgrown by its load.

Defaults: above 90 % for 10 minutes, recovered below 80 % for 5. The host
poller and UCD-SNMP count used = total − available, so page cache does not
count and 90 % means real pressure: the kernel is about to reclaim hard or
swap. Ten minutes lets a nightly job's peak pass. Cisco memory pools and
Huawei/H3C boards report the same metric with a `pool` or `entity` label,
each its own instance.
"""

from checks.rules import Above
from checks.spec import Applies, Check, Text

CHECK = Check(
    id="memory_high",
    title=Text("Memory usage high", "内存使用率过高"),
    severity="major",
    applies=Applies("mem_used_percent", instance=("pool", "entity")),
    rule=Above(),
    thresholds={"threshold": 90.0, "recover": 80.0, "for": 600.0, "recover_for": 300.0},
    analysis=Text(
        "Memory on {device} has been {value:.0f} % used for over {for_min:.0f} minutes (limit {threshold:.0f} %). "
        "Processes may be killed or the system may slow down as it runs out of memory.",
        "{device} 的内存使用率已持续 {for_min:.0f} 分钟以上达到 {value:.0f}%（阈值 {threshold:.0f}%），"
        "内存耗尽时系统可能变慢，进程可能被强制终止。",
    ),
    advice=Text(
        "Find what uses the memory (top sorted by memory, ps, or the device's memory statistics); look for a "
        "process that keeps growing (a leak) and restart it in a quiet period; if the load is legitimate, add memory.",
        "查找占用内存的进程（top 按内存排序、ps 或设备的内存统计）；排查内存持续增长的进程（内存泄漏），"
        "并在业务低峰期重启；若负载正常，请扩容内存。",
    ),
    playbook="memory_top",
    tags=("capacity",),
)
