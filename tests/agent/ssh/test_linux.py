"""Linux hosts over SSH (paramiko exec) against Debian's OpenSSH sshd on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest

from agent.config import Device
from agent.ssh.pool import SessionPool
from agent.ssh.types import SshError
from tests.peers.sshd import Sshd, free_tcp_port

pytestmark = pytest.mark.integration
T = TypeVar("T")


def _run(state_dir: Path, devices: list[Device], body: Callable[[SessionPool], Awaitable[T]], **pool_args: object) -> T:
    async def main() -> T:
        async with SessionPool({d.id: d for d in devices}, state_dir, **pool_args) as pool:  # type: ignore[arg-type]
            return await asyncio.wait_for(body(pool), 30)

    return asyncio.run(main())


def test_exec_returns_exit_status_and_streams_lines_as_they_come(sshd: Sshd, tmp_path: Path) -> None:
    seen: list[tuple[float, str]] = []

    async def body(pool: SessionPool) -> tuple[float, object, object]:
        async with pool.session("srv-1") as session:
            started = time.monotonic()
            output = await session.run("echo first; echo to-stderr >&2; sleep 1; echo last; exit 3", timeout_s=10,
                                       on_line=lambda line: seen.append((time.monotonic() - started, line)))
            return time.monotonic() - started, output, await session.run("uname -s")

    took, output, uname = _run(tmp_path, [sshd.device()], body)
    assert output.text == "first\nto-stderr\nlast\n"  # type: ignore[attr-defined]
    assert output.exit_status == 3 and not output.timed_out and not output.truncated  # type: ignore[attr-defined]
    assert [line for _, line in seen] == ["first", "to-stderr", "last"]
    assert seen[0][0] < took - 0.8       # the first line came before the command ended, not with the rest
    assert uname.text == "Linux\n" and uname.exit_status == 0  # type: ignore[attr-defined]


def test_key_with_passphrase_logs_in_and_a_wrong_passphrase_is_an_auth_error(sshd: Sshd, tmp_path: Path) -> None:
    good = sshd.device("enc-ok", private_key=sshd.encrypted_client_key, passphrase=sshd.passphrase)
    wrong = sshd.device("enc-bad", private_key=sshd.encrypted_client_key, passphrase="not-it")

    async def body(pool: SessionPool) -> tuple[str, SshError]:
        async with pool.session("enc-ok") as session:
            text = (await session.run("echo ok")).text
        with pytest.raises(SshError) as caught:
            async with pool.session("enc-bad"):
                pass
        return text, caught.value

    text, error = _run(tmp_path, [good, wrong], body)
    assert text == "ok\n"
    assert error.kind == "auth" and "the passphrase is wrong" in error.message and "enc-bad" in error.message


def test_password_refused_by_the_server_is_an_auth_error(sshd: Sshd, tmp_path: Path) -> None:
    device = sshd.device("pw", private_key=None, password="some-password")

    async def body(pool: SessionPool) -> SshError:
        with pytest.raises(SshError) as caught:
            async with pool.session("pw"):
                pass
        return caught.value

    error = _run(tmp_path, [device], body)
    assert error.kind == "auth" and "authentication failed" in error.message
    assert "some-password" not in str(error)


def test_nothing_listening_is_unreachable(sshd: Sshd, tmp_path: Path) -> None:
    device = sshd.device("gone", port=free_tcp_port())

    async def body(pool: SessionPool) -> SshError:
        with pytest.raises(SshError) as caught:
            async with pool.session("gone"):
                pass
        return caught.value

    error = _run(tmp_path, [device], body)
    assert error.kind == "unreachable" and "Connection refused" in error.message


def test_timeout_cuts_the_command_and_the_next_one_runs_on_the_same_connection(sshd: Sshd, tmp_path: Path) -> None:
    async def body(pool: SessionPool) -> tuple[object, object, object]:
        async with pool.session("srv-1") as session:
            before = await session.run("echo $SSH_CLIENT")
            cut = await session.run("echo started; sleep 30; echo never", timeout_s=1.0)
            after = await session.run("echo $SSH_CLIENT", timeout_s=5)
        return before, cut, after

    before, cut, after = _run(tmp_path, [sshd.device()], body)
    assert cut.timed_out and cut.exit_status is None and cut.text == "started\n"  # type: ignore[attr-defined]
    assert 0.9 < cut.duration_s < 3.0  # type: ignore[attr-defined]
    assert after.exit_status == 0 and after.text == before.text  # type: ignore[attr-defined]  # same TCP connection


def test_cancelling_a_command_stops_it_and_the_next_run_works(sshd: Sshd, tmp_path: Path) -> None:
    async def body(pool: SessionPool) -> tuple[float, object]:
        lines: list[str] = []
        async with pool.session("srv-1") as session:
            task = asyncio.create_task(session.run("echo begin; sleep 30", timeout_s=60, on_line=lines.append))
            while not lines:
                await asyncio.sleep(0.02)
            started = time.monotonic()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            stopped_in = time.monotonic() - started
        async with pool.session("srv-1") as session:
            return stopped_in, await session.run("echo after", timeout_s=5)

    stopped_in, after = _run(tmp_path, [sshd.device()], body)
    assert stopped_in < 1.0
    assert after.text == "after\n" and after.exit_status == 0  # type: ignore[attr-defined]


def test_output_is_capped_and_the_session_stays_usable(sshd: Sshd, tmp_path: Path) -> None:
    async def body(pool: SessionPool) -> tuple[object, object]:
        async with pool.session("srv-1") as session:
            capped = await session.run("seq 1 1000000", timeout_s=10, max_bytes=1000)
            return capped, await session.run("echo fine", timeout_s=5)

    capped, after = _run(tmp_path, [sshd.device()], body)
    assert capped.truncated and not capped.timed_out and capped.exit_status is None  # type: ignore[attr-defined]
    assert len(capped.text.encode()) <= 1000 and capped.text.startswith("1\n2\n3\n")  # type: ignore[attr-defined]
    assert capped.duration_s < 5  # type: ignore[attr-defined]
    assert after.text == "fine\n"  # type: ignore[attr-defined]


def test_a_dropped_connection_is_reported_and_reopened_on_next_use(tmp_path: Path) -> None:
    with Sshd(tmp_path / "sshd") as server:
        async def body(pool: SessionPool) -> tuple[str, SshError, str]:
            async with pool.session("srv-1") as session:
                first = (await session.run("echo one")).text
            server.stop()           # every connection ends: a rebooted host, a firewall's idle timeout
            server.start()          # same port, same host key
            async with pool.session("srv-1") as session:
                second = (await session.run("echo two")).text      # reconnected before the command was sent
                running = asyncio.create_task(session.run("sleep 20"))
                await asyncio.sleep(0.5)
                server.stop()       # the connection dies under a running command
                server.start()
                with pytest.raises(SshError) as caught:
                    await running
            async with pool.session("srv-1") as session:
                return first + second, caught.value, (await session.run("echo three")).text

        texts, error, third = _run(tmp_path / "state", [server.device()], body)
        assert texts == "one\ntwo\n" and third == "three\n"
        assert error.kind == "closed" and "dropped during the command" in error.message


def test_login_with_the_keys_of_an_ssh_agent(sshd: Sshd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    socket_path = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(socket_path)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 5
        while not socket_path.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        env = {**os.environ, "SSH_AUTH_SOCK": str(socket_path)}
        subprocess.run(["ssh-add", "-q", str(sshd.client_key)], env=env, check=True, capture_output=True, timeout=10)
        monkeypatch.setenv("SSH_AUTH_SOCK", str(socket_path))

        async def body(pool: SessionPool) -> str:
            async with pool.session("via-agent") as session:
                return (await session.run("echo agent")).text

        assert _run(tmp_path / "state", [sshd.device("via-agent", private_key=None, use_agent=True)], body) == "agent\n"
    finally:
        agent.terminate()
        agent.wait(timeout=5)
