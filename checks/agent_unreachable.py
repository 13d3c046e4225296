"""No data from an agent: the site's link, its power, or the agent's machine is down.

Every agent reports its buffer status (`vigil_buffer_points`) on its own
host every host-poller interval (30 s by default), whatever else it polls,
so silence of that one series is the agent's silence, and one incident per
agent (per site) instead of one per device behind it. Default: silent for
5 minutes, about ten intervals, which rides out a collector restart and
the agent's reconnect back-off. The agent buffers while cut off, so when
it returns the gap is usually filled in, and the incident says how long
the site was out of sight.
"""

from checks.rules import Absent
from checks.spec import Applies, Check, Text

CHECK = Check(
    id="agent_unreachable",
    title=Text("Agent (site) unreachable", "代理（站点）失联"),
    severity="critical",
    applies=Applies("vigil_buffer_points"),
    rule=Absent(),
    thresholds={"after": 300.0},
    analysis=Text(
        "Nothing has arrived from the Vigil agent on {device} for over {after:.0f} seconds. The site's network link, "
        "its power or the agent's machine may be down; every device at the site is out of sight until it returns.",
        "已超过 {after:.0f} 秒未收到 {device} 上 Vigil 代理的任何数据。站点的网络链路、供电或代理所在主机可能中断；"
        "在恢复之前，该站点的所有设备都处于无监控状态。",
    ),
    advice=Text(
        "Check the site's internet or WAN link and power; ask someone on site whether the agent's machine is on "
        "and its vigil-agent service running. The agent keeps its data while cut off and sends it when the link is back.",
        "检查站点的互联网或专线链路及供电；请现场人员确认代理主机是否开机、vigil-agent 服务是否在运行。"
        "中断期间代理会缓存数据，链路恢复后自动补传。",
    ),
    tags=("availability", "monitoring"),
)
