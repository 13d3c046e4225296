"""`vigil-collector`: run the collector service."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path

from agent import logsetup
from agent.configfile import load_or_exit
from collector import __version__

DEFAULT_CONFIG = "/etc/vigil/collector.yaml"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="vigil-collector",
        description="Vigil collector: accepts agent streams, stores metrics, keeps the record.",
    )
    parser.add_argument("--version", action="version", version=f"vigil-collector {__version__}")
    parser.add_argument(
        "-c", "--config", default=os.environ.get("VIGIL_COLLECTOR_CONFIG", DEFAULT_CONFIG),
        help=f"collector config file (default: $VIGIL_COLLECTOR_CONFIG or {DEFAULT_CONFIG})",
    )
    parser.add_argument(
        "--insecure", action="store_true",
        help="allow listening on a non-loopback address without TLS (lab use only)",
    )
    parser.add_argument("--ready-file", type=Path, help="write {port, pid} as JSON here once serving")
    parser.add_argument("--check", action="store_true", help="validate the config and exit")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from collector import config as collector_config

    config = load_or_exit("vigil-collector", collector_config.load, args.config)
    if config.tls is None and not config.listens_on_loopback and not args.insecure:
        print(
            f"vigil-collector: refusing to listen on {config.listen} without TLS: agents' data would cross "
            "the network in clear text. Configure tls: (see `vigil certs init`) or pass --insecure.",
            file=sys.stderr,
        )
        return 2
    if args.check:
        print(f"{args.config}: ok")
        return 0
    logsetup.setup("vigil-collector", config.log_level)
    from collector.server import serve

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await serve(config, stop, args.ready_file)

    try:
        asyncio.run(run())
    except OSError as exc:
        print(f"vigil-collector: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
