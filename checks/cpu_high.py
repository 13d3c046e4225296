"""CPU busy for a sustained time: a runaway process, or a host outgrown by its load."""

from checks.rules import Above
from checks.spec import Applies, Check, Text

CHECK = Check(
    id="cpu_high",
    title=Text("CPU usage high", "CPU 使用率过高"),
    severity="major",
    # The host's total (cpu=cpu-total) and each CPU a switch or router reports (named by its module);
    # not the host's per-core series, where one busy core is normal.
    applies=Applies("cpu_usage_percent", ignore=(("cpu", r"cpu\d+"),), instance=("cpu",)),
    rule=Above(),
    thresholds={"threshold": 90.0, "recover": 80.0, "for": 300.0, "recover_for": 120.0},
    analysis=Text(
        "CPU on {device} has been {value:.0f} % busy for over {for_min:.0f} minutes (limit {threshold:.0f} %).",
        "{device} 的 CPU 使用率已持续 {for_min:.0f} 分钟以上达到 {value:.0f}%（阈值 {threshold:.0f}%）。",
    ),
    advice=Text(
        "Find the processes using the CPU (top, ps); check for a runaway job or a backup running at the wrong time; "
        "if the load is legitimate, plan more CPU capacity.",
        "查找占用 CPU 的进程（top、ps），排查失控任务或时间不当的备份；若负载正常，请规划扩容 CPU。",
    ),
    playbook="linux_cpu_top",
    tags=("capacity",),
)
