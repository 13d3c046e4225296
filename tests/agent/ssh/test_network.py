"""Network CLIs over SSH (netmiko) against fakenos devices on 127.0.0.1: output, streaming, limits, recovery."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest

from agent.config import Device
from agent.redact import MASK, redact
from agent.ssh.pool import SessionPool
from agent.ssh.types import CommandOutput, SshError
from tests.peers.fakenos import STREAM_DELAY_S, STREAM_LINES, FakeNos

pytestmark = pytest.mark.integration
T = TypeVar("T")


def _run(state_dir: Path, devices: list[Device], body: Callable[[SessionPool], Awaitable[T]]) -> T:
    async def main() -> T:
        async with SessionPool({d.id: d for d in devices}, state_dir) as pool:
            return await asyncio.wait_for(body(pool), 40)

    return asyncio.run(main())


@pytest.mark.parametrize(("name", "command", "expected"), [
    ("cisco_ios-1", "show version", "Cisco IOS XE Software, Version 17.03.01a"),       # needs enable: done at login
    ("huawei_vrp-1", "display cpu-usage", "CPU Usage            : 12% Max: 36%"),
    ("hp_comware-1", "display memory", "Mem:       1003476    542128    461348"),
])
def test_commands_answer_and_lines_stream_before_the_prompt(
    fakenos: FakeNos, tmp_path: Path, name: str, command: str, expected: str,
) -> None:
    seen: list[tuple[float, str]] = []

    async def body(pool: SessionPool) -> tuple[CommandOutput, CommandOutput, float]:
        async with pool.session(name) as session:
            answer = await session.run(command, timeout_s=10)
            started = time.monotonic()
            streamed = await session.run("vigil test stream", timeout_s=10,
                                         on_line=lambda line: seen.append((time.monotonic() - started, line)))
            return answer, streamed, time.monotonic() - started

    answer, streamed, took = _run(tmp_path, [fakenos.device(name)], body)
    assert expected in answer.text and answer.exit_status is None and answer.ok
    assert command not in answer.text and not answer.text.rstrip().endswith(("#", ">"))   # no echo, no prompt
    wanted = [f"stream line {i}" for i in range(1, STREAM_LINES + 1)]
    assert streamed.text.splitlines() == wanted
    assert [line for _, line in seen] == wanted
    # Each line arrived as the device printed it, not all at the end with the prompt.
    assert seen[0][0] < took - (STREAM_LINES - 2) * STREAM_DELAY_S
    assert seen[1][0] - seen[0][0] > STREAM_DELAY_S / 2


def test_a_hanging_command_is_cut_at_its_timeout_and_the_next_run_works(fakenos: FakeNos, tmp_path: Path) -> None:
    async def body(pool: SessionPool) -> tuple[CommandOutput, CommandOutput]:
        async with pool.session("huawei_vrp-1") as session:
            hung = await session.run("vigil test hang", timeout_s=1.5)
            after = await session.run("display memory-usage", timeout_s=10)   # on a fresh connection
        return hung, after

    hung, after = _run(tmp_path, [fakenos.device("huawei_vrp-1")], body)
    assert hung.timed_out and not hung.ok and 1.4 < hung.duration_s < 2.5
    assert "Memory Using Percentage Is: 43%" in after.text


def test_cancelling_a_command_frees_the_device_and_the_next_run_works(fakenos: FakeNos, tmp_path: Path) -> None:
    async def body(pool: SessionPool) -> tuple[float, CommandOutput]:
        lines: list[str] = []
        async with pool.session("cisco_ios-1") as session:
            task = asyncio.create_task(session.run("vigil test stream", timeout_s=30, on_line=lines.append))
            while not lines:
                await asyncio.sleep(0.02)
            started = time.monotonic()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            stopped_in = time.monotonic() - started
        async with pool.session("cisco_ios-1") as session:
            return stopped_in, await session.run("show environment all", timeout_s=10)

    stopped_in, after = _run(tmp_path, [fakenos.device("cisco_ios-1")], body)
    assert stopped_in < 0.5
    assert "Switch 1 FAN 3 is FAULTY" in after.text


def test_output_cap_cuts_a_long_answer(fakenos: FakeNos, tmp_path: Path) -> None:
    async def body(pool: SessionPool) -> tuple[CommandOutput, CommandOutput]:
        async with pool.session("cisco_ios-1") as session:
            capped = await session.run("show interfaces", timeout_s=20, max_bytes=2000)
            return capped, await session.run("show processes cpu sorted", timeout_s=10)

    capped, after = _run(tmp_path, [fakenos.device("cisco_ios-1")], body)
    assert capped.truncated and not capped.timed_out and len(capped.text.encode()) <= 2000
    assert "GigabitEthernet" in capped.text
    assert after.text.startswith("CPU utilization for five seconds: 7%/1%")


def test_wrong_password_is_an_auth_error(fakenos: FakeNos, tmp_path: Path) -> None:
    async def body(pool: SessionPool) -> SshError:
        with pytest.raises(SshError) as caught:
            async with pool.session("huawei_vrp-1"):
                pass
        return caught.value

    error = _run(tmp_path, [fakenos.device("huawei_vrp-1", password="wrong-password")], body)
    assert error.kind == "auth" and "huawei_vrp-1" in error.message and "wrong-password" not in str(error)


@pytest.mark.parametrize(("name", "command", "secrets"), [
    ("huawei_vrp-1", "display current-configuration", ["K[&`Jc~_4H", "_vigil_secret_"]),
    ("hp_comware-1", "display current-configuration", ["vigil-h3c-community", "vigil+h3c+hash"]),
    ("cisco_ios-1", "show running-config", ["password 0 cisco", "$1$clqS$3CzLxkeHVJ9OYW83DOjuN/"]),
])
def test_config_echoes_are_masked_line_by_line(
    fakenos: FakeNos, tmp_path: Path, name: str, command: str, secrets: list[str],
) -> None:
    streamed: list[str] = []

    async def body(pool: SessionPool) -> CommandOutput:
        async with pool.session(name) as session:
            return await session.run(command, timeout_s=10, on_line=lambda line: streamed.append(redact(line)))

    output = _run(tmp_path, [fakenos.device(name)], body)
    assert all(secret in output.text for secret in secrets)          # the device really printed them
    for text in (redact(output.text), "\n".join(streamed)):
        assert MASK in text
        assert not any(secret in text for secret in secrets)


def test_two_devices_answer_at_the_same_time(fakenos: FakeNos, tmp_path: Path) -> None:
    devices = [fakenos.device("cisco_ios-1"), fakenos.device("cisco_ios-2")]

    async def body(pool: SessionPool) -> list[tuple[float, float]]:
        async def stream(device_id: str) -> tuple[float, float]:
            async with pool.session(device_id) as session:
                first: list[float] = []
                output = await session.run("vigil test stream", timeout_s=10,
                                           on_line=lambda _: first.append(time.monotonic()))
                assert len(output.text.splitlines()) == STREAM_LINES
                return first[0], first[-1]

        return list(await asyncio.gather(*(stream(d.id) for d in devices)))

    (start_1, end_1), (start_2, end_2) = _run(tmp_path, devices, body)
    assert start_1 < end_2 and start_2 < end_1          # the two devices' lines interleave in time
