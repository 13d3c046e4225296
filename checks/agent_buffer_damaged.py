"""An agent found damaged data in its buffer at start-up: buffered points were lost to a crash or a bad disk.

`vigil_buffer_damaged_bytes_total` counts what the start-up scan could not
read, so `Rise`, like `agent_buffer_overflow`. Defaults: any rise fires,
resolved after an hour. Once is a power cut mid-write; again and again is a
disk to replace.
"""

from checks.rules import Rise
from checks.spec import Applies, Check, Text

CHECK = Check(
    id="agent_buffer_damaged",
    title=Text("Agent buffer damaged (data lost)", "代理缓存损坏（数据丢失）"),
    severity="minor",
    applies=Applies("vigil_buffer_damaged_bytes_total"),
    rule=Rise(),
    thresholds={"threshold": 0.0, "hold": 3600.0},
    analysis=Text(
        "The Vigil agent on {device} found {value:.0f} bytes of its buffer unreadable when it started; "
        "the monitoring data in them is lost. This follows a crash or power loss, or a failing disk.",
        "{device} 上的 Vigil 代理启动时发现缓存中有 {value:.0f} 字节无法读取，其中的监控数据已丢失。"
        "原因通常是崩溃、断电或磁盘故障。",
    ),
    advice=Text(
        "Check why the agent's machine stopped (power, kernel log); if it happens again, check its disk "
        "(smartctl, dmesg) and move the agent's state_dir to sound storage.",
        "检查代理主机停止的原因（供电、内核日志）；若反复出现，请检查磁盘（smartctl、dmesg），"
        "并将代理的 state_dir 迁移到可靠的存储上。",
    ),
    tags=("monitoring",),
)
