"""agent/ssh/pool.py: one holder per device in arrival order, devices in parallel up to a bound, reuse, refusals."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from agent.config import Device
from agent.ssh.pool import SessionPool
from agent.ssh.types import SshError
from tests.peers.sshd import Sshd

pytestmark = pytest.mark.integration


def test_one_device_is_held_by_one_user_at_a_time_in_arrival_order(sshd: Sshd, tmp_path: Path) -> None:
    events: list[str] = []

    async def user(pool: SessionPool, name: str, steps: int) -> None:
        async with pool.session("srv-1") as session:
            events.append(f"{name} in")
            for step in range(steps):          # a playbook holds the session across its steps
                await session.run(f"sleep 0.2; echo {name}{step}")
            events.append(f"{name} out")

    async def main() -> None:
        async with SessionPool({"srv-1": sshd.device()}, tmp_path) as pool:
            playbook = asyncio.create_task(user(pool, "playbook", 2))
            await asyncio.sleep(0.05)
            polls = []
            for name in ("poll-1", "poll-2", "poll-3"):
                polls.append(asyncio.create_task(user(pool, name, 1)))
                await asyncio.sleep(0.01)
            await asyncio.wait_for(asyncio.gather(playbook, *polls), 20)

    asyncio.run(main())
    assert events == ["playbook in", "playbook out", "poll-1 in", "poll-1 out", "poll-2 in", "poll-2 out",
                      "poll-3 in", "poll-3 out"]


def test_devices_run_in_parallel_up_to_max_sessions(sshd: Sshd, tmp_path: Path) -> None:
    devices = {f"srv-{i}": sshd.device(f"srv-{i}") for i in range(1, 5)}

    async def wall(max_sessions: int) -> float:
        async with SessionPool(devices, tmp_path / str(max_sessions), max_sessions=max_sessions) as pool:
            async def sleep_on(device_id: str) -> None:
                async with pool.session(device_id) as session:
                    await session.run("echo warm")
            await asyncio.gather(*(sleep_on(d) for d in devices))     # connections made, not measured

            async def one(device_id: str) -> None:
                async with pool.session(device_id) as session:
                    assert (await session.run("sleep 0.6; echo done")).text == "done\n"
            started = time.monotonic()
            await asyncio.wait_for(asyncio.gather(*(one(d) for d in devices)), 20)
            assert pool.open_sessions() == sorted(devices)            # kept open between uses
            return time.monotonic() - started

    assert asyncio.run(wall(4)) < 1.3          # four devices at once
    assert asyncio.run(wall(2)) > 1.15         # two at a time: two rounds


def test_refusals_and_a_lease_used_after_its_block(sshd: Sshd, tmp_path: Path) -> None:
    devices = {"srv-1": sshd.device(), "no-ssh": Device(id="no-ssh", kind="server", address="127.0.0.1")}

    async def main() -> dict[str, SshError]:
        errors = {}
        pool = SessionPool(devices, tmp_path)
        for device_id in ("unknown", "no-ssh"):
            with pytest.raises(SshError) as caught:
                async with pool.session(device_id):
                    pass
            errors[device_id] = caught.value
        async with pool.session("srv-1") as session:
            pass
        with pytest.raises(SshError) as caught:
            await session.run("echo late")
        errors["late"] = caught.value
        await pool.close()
        with pytest.raises(SshError) as caught:
            async with pool.session("srv-1"):
                pass
        errors["closed"] = caught.value
        return errors

    errors = asyncio.run(main())
    assert {k: e.kind for k, e in errors.items()} == {
        "unknown": "refused", "no-ssh": "refused", "late": "closed", "closed": "closed"}
    assert "not in the agent's inventory" in errors["unknown"].message
    assert "no ssh: settings" in errors["no-ssh"].message


def test_idle_sessions_are_closed(sshd: Sshd, tmp_path: Path) -> None:
    async def main() -> tuple[list[str], list[str]]:
        async with SessionPool({"srv-1": sshd.device(), "srv-2": sshd.device("srv-2")}, tmp_path,
                               idle_close_s=0.3) as pool:
            async with pool.session("srv-1") as session:
                await session.run("true")
            before = pool.open_sessions()
            await asyncio.sleep(0.5)
            async with pool.session("srv-2") as session:
                await session.run("true")
            return before, pool.open_sessions()

    assert asyncio.run(main()) == (["srv-1"], ["srv-2"])
