"""An interface running near its capacity for a long time: queues fill, latency grows, packets drop.

Defaults: above 90 % of ifHighSpeed for 15 minutes, recovered below 75 %
for 10; each direction on its own (`direction` in/out). Rates are averaged
over the poll interval, so the microbursts that drop packets sit above the
average; a quarter of an hour at 90 % of the average is therefore already
congestion, not a backup's burst. SNMP interfaces only: the host poller
does not know its links' speeds. Uplinks that are meant to run full can be
given a higher threshold per interface.
"""

from checks.rules import Above
from checks.spec import Applies, Check, Text

CHECK = Check(
    id="interface_utilisation_high",
    title=Text("Interface utilisation high", "接口带宽利用率过高"),
    severity="minor",
    applies=Applies("net_utilisation_percent", instance=("interface", "direction")),
    rule=Above(),
    thresholds={"threshold": 90.0, "recover": 75.0, "for": 900.0, "recover_for": 600.0},
    analysis=Text(
        "Interface {instance} on {device} has been {value:.0f} % utilised for over {for_min:.0f} minutes "
        "(limit {threshold:.0f} %). Traffic beyond its capacity is queued or dropped, which users notice as slowness.",
        "{device} 的接口 {instance} 带宽利用率已持续 {for_min:.0f} 分钟以上达到 {value:.0f}%（阈值 {threshold:.0f}%），"
        "超出容量的流量会排队或被丢弃，用户会感到网络变慢。",
    ),
    advice=Text(
        "Find the top talkers on the link (NetFlow/sFlow, the neighbour's counters); move backups and bulk "
        "transfers to quiet hours or shape them; add capacity (a faster link or a link aggregation) if the demand is real.",
        "找出该链路上流量最大的来源（NetFlow/sFlow、对端设备的计数器）；将备份和大批量传输安排到低峰期或进行限速；"
        "如确有需求，请扩容（更高速率的链路或链路聚合）。",
    ),
    playbook="interface_traffic",
    tags=("capacity", "network"),
)
