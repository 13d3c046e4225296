"""SSH polling: Linux servers and network CLIs measured on a schedule, like the agent's own host.

    poller.py       SshDevicePoller: one per device with `ssh: {poll: true}`, on the agent's shared session pool
    linux.py        the one-exec Linux poll script and its reading into the host poller's metric names
    model.py        CLI polling definitions (definitions/*.yaml): commands, templates, metrics; loaded in the config child
    cli.py          CLI output → rows (TextFSM) → metrics with the SNMP profiles' names
    probe.py        `vigil-agent ssh probe HOST`
    definitions/    one YAML file per network platform (cisco_ios, huawei_vrp, hp_comware)
    templates/      TextFSM templates the playbooks do not have (interface byte counters), with fixtures

Kept empty so that `vigil-agent`'s argument parser can import the probe's
arguments without loading paramiko, netmiko, textfsm or PyYAML.
"""
