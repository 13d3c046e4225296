"""`vigil-agent ssh probe HOST`: show what the agent would collect from a device over SSH, before adding it.

Like `vigil-agent snmp probe`: it logs in with the credentials given, polls
once as the agent would (twice with `--rates`, so counters show as rates),
and prints the host key it was shown, the commands it ran with their time
and rows, and every metric. Nothing is sent to the collector. The password
and key passphrase come from environment variables, so they stay out of the
shell history and `ps`.

The host key is trusted on first use in a throw-away record unless
`--host-key` pins one or `--state-dir` names the agent's state (then the
agent's own record is used, and a changed key is refused as it would be).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import time
from pathlib import Path

PLATFORMS = ("linux", "cisco_ios", "huawei_vrp", "hp_comware")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("host", metavar="HOST", help="the device's address (IP or name)")
    parser.add_argument("--platform", choices=PLATFORMS, default="linux", help="what the device runs (default linux)")
    parser.add_argument("--port", type=int, default=22)
    parser.add_argument("--user", default=os.environ.get("VIGIL_SSH_USER") or getpass.getuser(),
                        help="login name (default: $VIGIL_SSH_USER, else yours)")
    parser.add_argument("--key", type=Path, help="private key file")
    parser.add_argument("--passphrase-env", metavar="VAR", help="environment variable holding the key's passphrase")
    parser.add_argument("--password-env", metavar="VAR", help="environment variable holding the password")
    parser.add_argument("--agent", action="store_true", help="offer the keys of the SSH agent in $SSH_AUTH_SOCK")
    parser.add_argument("--enable-secret-env", metavar="VAR", help="Cisco: environment variable holding the enable secret")
    parser.add_argument("--host-key", default="", help="pin the device's public host key ('ssh-ed25519 AAAA…')")
    parser.add_argument("--state-dir", type=Path, help="use (and extend) this agent state's trusted host keys")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds for the whole poll (default 20)")
    parser.add_argument("--definitions-dir", type=Path, help="extra CLI definitions, as pollers.ssh.definitions_dir")
    parser.add_argument("--rates", type=float, default=0.0, metavar="SECONDS",
                        help="poll twice, this many seconds apart, to show counters as rates")


def _secret(variable: str | None, what: str) -> str:
    if not variable:
        return ""
    value = os.environ.get(variable)
    if value is None:
        raise ValueError(f"--{what}-env {variable}: no such environment variable")
    return value


def run(args: argparse.Namespace) -> int:
    from agent.config import Device, SshAccess, SshPoller
    from agent.configfile import ConfigError

    try:
        password = _secret(args.password_env, "password")
        passphrase = _secret(args.passphrase_env, "passphrase")
        enable = _secret(args.enable_secret_env, "enable-secret")
        access = SshAccess(port=args.port, username=args.user, password=password, private_key=args.key,
                           passphrase=passphrase, use_agent=args.agent or None, enable_secret=enable,
                           host_key=_pinned(args.host_key), timeout=min(args.timeout, 10.0), poll=True)
        device = Device(id="probe", kind="other", address=args.host, platform=args.platform, ssh=access)
    except ValueError as exc:
        print(f"vigil-agent ssh probe: {exc}", file=sys.stderr)
        return 2
    from agent.logsetup import register_secret

    for secret in (password, passphrase, enable):
        if secret:
            register_secret(secret)
    definition = None
    if args.platform != "linux":
        from agent.pollers.ssh.model import load_definitions

        try:
            definition = load_definitions(args.definitions_dir).get(args.platform)
        except ConfigError as exc:
            print(f"vigil-agent ssh probe: {exc}", file=sys.stderr)
            return 2
    settings = SshPoller(timeout=args.timeout)
    import asyncio  # here, not at the top: `vigil-agent run` builds its --help from this module (see snmp probe)

    return asyncio.run(_probe(device, settings, definition, args.state_dir, args.rates))


def _pinned(line: str) -> str:
    if not line:
        return ""
    from agent.config import _check_host_key

    return _check_host_key(line)


async def _probe(device: object, settings: object, definition: object, state_dir: Path | None, rates_after_s: float) -> int:
    import asyncio
    import tempfile

    from agent.pollers.snmp.probe import render_report
    from agent.pollers.ssh.poller import PollError, SshDevicePoller
    from agent.ssh.hostkeys import fingerprint, host_entry
    from agent.ssh.pool import SessionPool
    from agent.ssh.types import SshError

    access = device.ssh  # type: ignore[attr-defined]
    where = f"{device.address}:{access.port} ({device.platform}, user {access.username})"  # type: ignore[attr-defined]
    with tempfile.TemporaryDirectory(prefix="vigil-ssh-probe-") as scratch:
        states = Path(state_dir) if state_dir else Path(scratch)
        async with SessionPool({"probe": device}, states, max_sessions=1) as pool:  # type: ignore[dict-item]
            poller = SshDevicePoller(device, pool, settings, asyncio.Semaphore(1), definition)  # type: ignore[arg-type]
            print(f"probing {where} …", file=sys.stderr)
            try:
                started = time.perf_counter()
                poll = await poller.poll()
                took = time.perf_counter() - started
                if rates_after_s > 0:
                    print(f"waiting {rates_after_s:g} s for a second poll, to show rates …", file=sys.stderr)
                    await asyncio.sleep(rates_after_s)
                    poll = await poller.poll()
            except (SshError, PollError) as exc:
                print(f"vigil-agent ssh probe: {where}: {exc} ({exc.kind})", file=sys.stderr)
                return 1
            keys = pool.known_hosts.keys_for(device.address, access.port)  # type: ignore[attr-defined]
    print(f"device       {where}")
    if access.host_key:
        print(f"host key     {access.host_key.split()[0]} (pinned)")
    for kind, blob in keys:
        print(f"host key     {kind} {fingerprint(blob)}  — pin it with ssh.host_key, "
              f"or trust it on first use ({host_entry(device.address, access.port)})")  # type: ignore[attr-defined]
    source = getattr(definition, "source", "") or "linux poll script"
    print(f"definition   {source}")
    print(f"first poll   {took:.2f} s, {len(poll.samples)} samples")
    for command, seconds, count in poller.last_commands:
        unit = "bytes" if device.platform == "linux" else "rows"  # type: ignore[attr-defined]
        print(f"  {seconds:6.2f} s  {command}  ({count} {unit})")
    print()
    print(render_report(poll.samples))
    return 0
