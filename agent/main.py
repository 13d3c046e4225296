"""`vigil-agent`: run the site agent, or check its config.

Exit codes: 0 clean stop, 2 bad config or usage, 1 anything else.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from agent import __version__, memory
from agent.configfile import load_or_exit

DEFAULT_CONFIG = "/etc/vigil/agent.yaml"
log = logging.getLogger("vigil.agent")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="vigil-agent",
        description="Vigil site agent: polls this site's equipment and streams it to the collector.",
    )
    parser.add_argument("--version", action="version", version=f"vigil-agent {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = commands.add_parser("run", help="run the agent until stopped (SIGTERM/SIGINT)")
    check = commands.add_parser("check", help="validate the config file and print what it enables")
    for sub in (run, check):
        sub.add_argument(
            "-c", "--config", default=os.environ.get("VIGIL_AGENT_CONFIG", DEFAULT_CONFIG),
            help=f"agent config file (default: $VIGIL_AGENT_CONFIG or {DEFAULT_CONFIG})",
        )
    run.add_argument("--duration", type=float, default=None, help="stop after this many seconds (for tests and demos)")
    snmp = commands.add_parser("snmp", help="SNMP tools for adding a device")
    snmp_commands = snmp.add_subparsers(dest="snmp_command", metavar="ACTION", required=True)
    probe = snmp_commands.add_parser(
        "probe", help="show what the agent would poll on a device: profile, interfaces, sensors, metrics",
        description="Poll one device once, as the agent would, and print what it found. Nothing is sent anywhere.",
    )
    from agent.pollers.snmp import probe as snmp_probe

    snmp_probe.add_arguments(probe)
    ssh = commands.add_parser("ssh", help="SSH tools for adding a device")
    ssh_commands = ssh.add_subparsers(dest="ssh_command", metavar="ACTION", required=True)
    ssh_probe_parser = ssh_commands.add_parser(
        "probe", help="show what the agent would collect from a Linux server or network device over SSH",
        description="Log in and poll one device once, as the agent would, and print what it found. "
                    "Nothing is sent anywhere.",
    )
    from agent.pollers.ssh import probe as ssh_probe

    ssh_probe.add_arguments(ssh_probe_parser)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        raise SystemExit(2)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.command == "run" and argv is None:
        memory.reexec_with_fixed_mmap_threshold()
    if args.command == "snmp":
        from agent.pollers.snmp import probe as snmp_probe

        return snmp_probe.run(args)
    if args.command == "ssh":
        from agent.pollers.ssh import probe as ssh_probe

        return ssh_probe.run(args)
    from agent import config as agent_config

    # `run` validates in a forked child: pydantic never loads into the running agent.
    load = agent_config.load_isolated if args.command == "run" else agent_config.load
    config = load_or_exit("vigil-agent", load, args.config)
    if args.command == "check":
        from agent.pollers import enabled_kinds, preload

        load_or_exit("vigil-agent", lambda _: preload(config), args.config)  # SNMP profiles too

        print(f"{args.config}: ok")
        print(f"  agent {config.agent.id} (customer {config.agent.customer}, site {config.agent.site})")
        print(f"  collector {config.collector.address} ({'insecure' if config.collector.insecure else 'TLS'})")
        print(f"  pollers: {', '.join(enabled_kinds(config)) or 'none'}; devices: {len(config.devices)}")
        return 0

    keep_ssl_module_out()
    from agent import logsetup
    from agent.runtime import run_until_stopped

    logsetup.setup("vigil-agent", config.log_level)
    try:
        return run_until_stopped(config, args.duration)
    except KeyboardInterrupt:
        return 0
    except (OSError, ValueError) as exc:  # unreadable or corrupt state: say which file, no traceback
        log.error("%s", exc)
        return 1


def keep_ssl_module_out() -> None:
    """Stop asyncio from importing Python's `ssl` module in the agent process.

    The agent's TLS is gRPC's own (BoringSSL inside grpcio); Python's `ssl`
    would only be imported by asyncio, which supports Pythons built without
    it, and it costs ~4 MiB of the agent's 40 MiB RSS budget. Called only on
    the way to running the agent, never on import, so nothing else that
    shares a process with this module loses `ssl`.
    """
    if "ssl" not in sys.modules and "asyncio" not in sys.modules:
        sys.modules["ssl"] = None  # type: ignore[assignment]


if __name__ == "__main__":
    sys.exit(main())
