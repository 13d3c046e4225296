"""`vigil-agent snmp probe HOST`: show what the agent would poll on a device, before adding it.

A field engineer runs this on the site's agent box with the credentials the
customer gave: it prints what the device says it is, the profile chosen and
why, its interfaces and sensors, and every metric one poll yields (two polls
with `--rates`, so counters show as rates). Nothing is sent to the collector.
Secrets can come from the environment so they stay out of the shell history
and `ps`.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from agent.config import SnmpAccess, SnmpPoller, SnmpUser
from agent.configfile import ConfigError
from agent.samples import Sample

AUTH = ("none", "md5", "sha", "sha224", "sha256", "sha384", "sha512")
PRIV = ("none", "des", "aes", "aes192", "aes256")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("host", metavar="HOST", help="the device's address (IP or name)")
    parser.add_argument("--port", type=int, default=161)
    parser.add_argument("--version", choices=("1", "2c", "3"), default="2c", dest="snmp_version")
    parser.add_argument("--community", default=os.environ.get("VIGIL_SNMP_COMMUNITY", ""),
                        help="v1/v2c community (default: $VIGIL_SNMP_COMMUNITY)")
    parser.add_argument("--user", help="v3 user name")
    parser.add_argument("--auth-protocol", choices=AUTH, default="sha")
    parser.add_argument("--auth-key", default=os.environ.get("VIGIL_SNMP_AUTH_KEY", ""),
                        help="v3 authentication passphrase (default: $VIGIL_SNMP_AUTH_KEY)")
    parser.add_argument("--priv-protocol", choices=PRIV, default="aes")
    parser.add_argument("--priv-key", default=os.environ.get("VIGIL_SNMP_PRIV_KEY", ""),
                        help="v3 privacy passphrase (default: $VIGIL_SNMP_PRIV_KEY)")
    parser.add_argument("--context", default="", help="v3 context name")
    parser.add_argument("--timeout", type=float, default=2.0, help="seconds per request (default 2)")
    parser.add_argument("--retries", type=int, default=1)
    parser.add_argument("--profile", default="", help="use this profile instead of detecting one")
    parser.add_argument("--profiles-dir", help="extra profiles, as in the agent's pollers.snmp.profiles_dir")
    parser.add_argument("--rates", type=float, default=0.0, metavar="SECONDS",
                        help="poll twice, this many seconds apart, to show counters as rates")


def access_from(args: argparse.Namespace) -> SnmpAccess:
    user = None
    if args.snmp_version == "3":
        if not args.user:
            raise ValueError("--version 3 needs --user (and --auth-key / --priv-key unless the user has none)")
        user = SnmpUser(
            name=args.user, auth_protocol=args.auth_protocol, auth_key=args.auth_key,
            priv_protocol=args.priv_protocol, priv_key=args.priv_key, context=args.context,
        )
    return SnmpAccess(
        version=args.snmp_version, community=args.community if args.snmp_version != "3" else "", user=user,
        port=args.port, timeout=args.timeout, retries=args.retries, profile=args.profile,
    )


def run(args: argparse.Namespace) -> int:
    try:
        access = access_from(args)
    except ValueError as exc:
        print(f"vigil-agent snmp probe: {exc}", file=sys.stderr)
        return 2
    for secret in (access.community, access.user and access.user.auth_key, access.user and access.user.priv_key):
        if secret:
            from agent.logsetup import register_secret

            register_secret(secret)
    from agent.pollers.snmp.profiles import load_profiles

    try:
        profiles = load_profiles(args.profiles_dir)
    except ConfigError as exc:
        print(f"vigil-agent snmp probe: {exc}", file=sys.stderr)
        return 2
    import asyncio  # here, not at the top: `vigil-agent run` imports this module to build its --help,
                    # and asyncio imported that early brings in Python's ssl (see agent.main.keep_ssl_module_out)

    return asyncio.run(_probe(args.host, access, profiles, args.rates))


async def _probe(host: str, access: SnmpAccess, profiles: object, rates_after_s: float) -> int:
    import asyncio

    from pysnmp.entity.engine import SnmpEngine

    from agent.config import Device
    from agent.pollers.snmp.poller import SnmpDevicePoller
    from agent.pollers.snmp.client import SnmpClient
    from agent.pollers.snmp.types import SnmpError

    device = Device(id="probe", kind="other", address=host, snmp=access)
    client = SnmpClient.for_device(SnmpEngine(), host, access, SnmpPoller())
    poller = SnmpDevicePoller(device, client, profiles, SnmpPoller(), asyncio.Semaphore(1))  # type: ignore[arg-type]
    where = f"{host}:{access.port} (SNMP v{access.version})"
    print(f"probing {where} …", file=sys.stderr)
    try:
        started = time.perf_counter()
        poll = await poller.poll()
        took = time.perf_counter() - started
        if rates_after_s > 0:
            print(f"waiting {rates_after_s:g} s for a second poll, to show rates …", file=sys.stderr)
            await asyncio.sleep(rates_after_s)
            poll = await poller.poll()
    except SnmpError as exc:
        print(f"vigil-agent snmp probe: {where}: {exc} ({exc.kind})", file=sys.stderr)
        return 1
    identity = poller.identity
    assert identity is not None
    profile = identity.profile
    print(f"device       {where}")
    print(f"sysObjectID  {'.'.join(map(str, identity.sys_object_id)) or '(none)'}")
    print(f"sysDescr     {_one_line(identity.sys_descr)}")
    print(f"profile      {profile.name}{' (forced)' if access.profile else ''} — {profile.description or profile.source}")
    print(f"first poll   {took:.2f} s, {len(poll.samples)} samples")
    print()
    print(render_report(poll.samples))
    return 0


def _one_line(text: str, limit: int = 100) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_report(samples: list[Sample]) -> str:
    """Interfaces, sensors and every metric of one poll, as tables."""
    from collector.cli import table  # the same CJK-aware tables as the engineer's CLI

    interfaces: dict[str, dict[str, str]] = {}
    for metric, labels, value in samples:
        names = dict(labels)
        if metric.startswith("net_") and "interface" in names:
            row = interfaces.setdefault(names["interface"], {"alias": names.get("alias", "")})
            if metric in ("net_admin_up", "net_oper_up"):
                row[metric] = "up" if value else "down"
            elif metric == "net_speed_bits_per_second":
                row["speed"] = table.value(metric, value)
    parts = []
    if interfaces:
        body = [[name, row["alias"], row.get("speed", "-"), row.get("net_admin_up", "-"), row.get("net_oper_up", "-")]
                for name, row in sorted(interfaces.items())]
        parts.append(f"INTERFACES ({len(interfaces)})\n" + table.render(["NAME", "ALIAS", "SPEED", "ADMIN", "OPER"], body))
    sensors = [s for s in samples if s[0].startswith("sensors_")]
    if sensors:
        body = [[metric, _labels(labels), table.value(metric, value)] for metric, labels, value in sorted(sensors)]
        parts.append(f"SENSORS ({len(sensors)})\n" + table.render(["METRIC", "LABELS", "VALUE"], body, right=(2,)))
    body = [[metric, _labels(labels), table.value(metric, value)] for metric, labels, value in sorted(samples)]
    parts.append(f"METRICS ({len(samples)})\n" + table.render(["METRIC", "LABELS", "VALUE"], body, right=(2,)))
    return "\n\n".join(parts)


def _labels(labels: tuple[tuple[str, str], ...]) -> str:
    return _one_line(",".join(f"{k}={v}" for k, v in labels), 70) or "-"
