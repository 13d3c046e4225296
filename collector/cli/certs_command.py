"""`vigil certs init|agent`."""

from __future__ import annotations

import argparse

from collector import certs
from collector.cli.errors import UsageError


def run(args: argparse.Namespace) -> int:
    directory = args.dir
    if args.certs_command == "agent":
        if not (directory / "ca.pem").exists():
            raise UsageError(f"{directory}/ca.pem not found: run `vigil certs init --dir {directory}` first")
        cert, key = certs.issue_agent(directory, args.agent_id)
        print(f"agent {args.agent_id}: {cert} and {key}")
        return 0
    if (directory / "ca.pem").exists() and not args.force:
        raise UsageError(f"{directory}/ca.pem exists; use `vigil certs agent` to add agents, or --force to start over")
    ca, _ = certs.create_ca(directory)
    names = args.collector_name or ["localhost", "127.0.0.1"]
    collector_cert, _ = certs.issue_collector(directory, names)
    print(f"CA:        {ca}  (keep ca.key offline in production)")
    print(f"collector: {collector_cert}  valid for {', '.join(names)}")
    for agent_id in args.agent:
        cert, _ = certs.issue_agent(directory, agent_id)
        print(f"agent:     {cert}  (CN={agent_id})")
    return 0
