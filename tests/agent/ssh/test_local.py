"""Platform `agent`: commands on the agent's own machine, split without a shell, same limits as SSH."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import pytest

from agent.config import Device, SshAccess
from agent.ssh.pool import SessionPool
from agent.ssh.types import CommandOutput, SshError


def _pool(tmp_path: Path) -> SessionPool:
    return SessionPool({"site-agent": Device(id="site-agent", kind="host", platform="agent")}, tmp_path)


def test_echo_streams_lines_with_exit_status(tmp_path: Path) -> None:
    seen: list[str] = []

    async def main() -> tuple[CommandOutput, CommandOutput]:
        async with _pool(tmp_path) as pool:
            async with pool.session("site-agent") as session:
                first = await session.run("printf 'a\\nb\\n'", on_line=seen.append)
            async with pool.local() as session:
                return first, await session.run("false")

    first, failed = asyncio.run(main())
    assert first.text == "a\nb\n" and first.exit_status == 0 and seen == ["a", "b"]
    assert failed.exit_status == 1 and not failed.ok


def test_no_shell_so_a_parameter_cannot_become_a_command(tmp_path: Path) -> None:
    marker = tmp_path / "marker"

    async def main() -> CommandOutput:
        async with _pool(tmp_path) as pool, pool.local() as session:
            return await session.run(f"echo 10.0.0.1; touch {marker} `id` $(id)")

    output = asyncio.run(main())
    assert output.text == f"10.0.0.1; touch {marker} `id` $(id)\n"
    assert not marker.exists()


def test_missing_program_and_bad_quoting(tmp_path: Path) -> None:
    async def main() -> tuple[CommandOutput, SshError]:
        async with _pool(tmp_path) as pool, pool.local() as session:
            missing = await session.run("no-such-program-vigil --help")
            with pytest.raises(SshError) as caught:
                await session.run("echo 'unbalanced")
            return missing, caught.value

    missing, error = asyncio.run(main())
    assert missing.exit_status == 127 and "no-such-program-vigil" in missing.text
    assert error.kind == "refused"


def test_timeout_cap_and_cancel_kill_the_command(tmp_path: Path) -> None:
    async def main() -> tuple[CommandOutput, CommandOutput, float, CommandOutput]:
        async with _pool(tmp_path) as pool, pool.local() as session:
            slow = await session.run("sleep 30", timeout_s=0.5)
            capped = await session.run("seq 1 1000000", max_bytes=100)
            task = asyncio.create_task(session.run("sleep 30"))
            await asyncio.sleep(0.2)
            started = time.monotonic()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return slow, capped, time.monotonic() - started, await session.run("echo after")

    slow, capped, cancelled_in, after = asyncio.run(main())
    assert slow.timed_out and slow.exit_status is None and slow.duration_s < 2
    assert capped.truncated and len(capped.text) <= 100 and capped.text.startswith("1\n2\n")
    assert cancelled_in < 1
    assert after.text == "after\n"


@pytest.mark.skipif(shutil.which("ping") is None, reason="no ping on this machine")
def test_ping_from_the_agent(tmp_path: Path) -> None:
    async def main() -> CommandOutput:
        async with _pool(tmp_path) as pool, pool.local() as session:
            return await session.run("ping -c 1 -W 2 127.0.0.1", timeout_s=10)

    output = asyncio.run(main())
    assert output.exit_status == 0 and "1 received" in output.text


def test_platform_override_agent_runs_locally_and_the_agents_host_is_a_local_linux_device(tmp_path: Path) -> None:
    switch = Device(id="core-1", kind="switch", address="192.0.2.1", platform="cisco_ios",
                    ssh=SshAccess(username="netops", password="x" * 8, timeout=0.5))

    async def main() -> tuple[CommandOutput, CommandOutput, SshError, SshError]:
        async with SessionPool({"core-1": switch}, tmp_path, host_device_id="agent-host") as pool:
            async with pool.session("core-1", "agent") as session:      # ping towards core-1, from the agent
                towards = await session.run("echo probing 192.0.2.1")
            async with pool.session("agent-host") as session:           # the agent's own machine, through /bin/sh
                own = await session.run("echo linux | tr a-z A-Z; exit 2")
            with pytest.raises(SshError) as wrong:
                async with pool.session("core-1", "huawei_vrp"):
                    pass
            with pytest.raises(SshError) as not_here:
                async with pool.session("agent-host", "cisco_ios"):
                    pass
            assert pool.open_sessions() == []                           # nothing connected to 192.0.2.1
            return towards, own, wrong.value, not_here.value

    towards, own, wrong, not_here = asyncio.run(main())
    assert towards.text == "probing 192.0.2.1\n" and towards.exit_status == 0
    assert own.text == "LINUX\n" and own.exit_status == 2
    assert wrong.kind == "refused" and "is cisco_ios, not huawei_vrp" in wrong.message
    assert not_here.kind == "refused"
