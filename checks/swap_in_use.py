"""Much of the swap space in use: the machine has been short of memory for a while.

Defaults: above 50 % for 15 minutes, recovered below 30 % for 15. Linux
moves idle pages to swap even when memory is ample, so a few percent is
normal and says nothing; half the swap used means memory was short long
enough to push out pages that are likely needed again. Slow on purpose:
swap usage changes over hours, and memory_high covers the acute case.
"""

from checks.rules import Above
from checks.spec import Applies, Check, Text

CHECK = Check(
    id="swap_in_use",
    title=Text("Swap in use", "交换空间使用过多"),
    severity="warning",
    applies=Applies("swap_used_percent"),
    rule=Above(),
    thresholds={"threshold": 50.0, "recover": 30.0, "for": 900.0, "recover_for": 900.0},
    analysis=Text(
        "{device} has had {value:.0f} % of its swap space in use for over {for_min:.0f} minutes "
        "(limit {threshold:.0f} %): it has been short of memory, and programs whose pages were swapped out respond slowly.",
        "{device} 的交换空间使用率已持续 {for_min:.0f} 分钟以上达到 {value:.0f}%（阈值 {threshold:.0f}%），"
        "说明内存长期不足，被换出的程序响应会变慢。",
    ),
    advice=Text(
        "Check memory use and which processes hold swapped-out memory (smem, /proc/*/status VmSwap); "
        "reduce the load or add memory. Turning swap off does not fix a shortage of memory.",
        "检查内存使用情况以及哪些进程的内存被换出（smem、/proc/*/status 中的 VmSwap）；"
        "降低负载或扩容内存。关闭交换空间并不能解决内存不足。",
    ),
    playbook="memory_top",
    tags=("capacity",),
)
