"""Host keys against a real sshd: recorded on first use, a swapped key refused before login, pinned keys."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agent.ssh.hostkeys import FILE_NAME
from agent.ssh.pool import SessionPool
from agent.ssh.types import SshError
from tests.peers.sshd import Sshd

pytestmark = pytest.mark.integration


def _logins(server: Sshd) -> int:
    return (server.root / "sshd.log").read_text(errors="replace").count("Accepted publickey")


def test_changed_host_key_is_refused_reported_once_and_never_trusted(tmp_path: Path) -> None:
    events: list[tuple[str, str]] = []
    state = tmp_path / "state"
    with Sshd(tmp_path / "sshd") as server:
        original = server.public_host_key()

        async def main() -> tuple[str, list[SshError], int]:
            errors = []
            async with SessionPool({"core-1": server.device("core-1")}, state,
                                   on_host_key_changed=lambda *event: events.append(event)) as pool:
                async with pool.session("core-1") as session:
                    first = (await session.run("echo trusted")).text
                recorded = (state / FILE_NAME).read_text()
                server.swap_host_key()          # same address and port, another machine's key
                logins = _logins(server)
                for _ in range(2):              # the next poll, and the one after: refused each time
                    with pytest.raises(SshError) as caught:
                        async with pool.session("core-1"):
                            pass
                    errors.append(caught.value)
                assert (state / FILE_NAME).read_text() == recorded      # the record is never replaced
            return first, errors, logins

        first, errors, logins_after_swap = asyncio.run(asyncio.wait_for(main(), 30))
        assert first == "trusted\n"
        assert (state / FILE_NAME).read_text() == f"[127.0.0.1]:{server.port} {original}\n"
        assert [e.kind for e in errors] == ["host_key_changed", "host_key_changed"]
        assert "host key changed on core-1 (127.0.0.1:" in errors[0].message
        assert len(events) == 1 and events[0][0] == "core-1" and events[0][1] == errors[0].message
        assert _logins(server) == logins_after_swap        # nothing authenticated to the impostor


def test_pinned_host_key_is_checked_from_the_first_connection(tmp_path: Path) -> None:
    with Sshd(tmp_path / "sshd") as server:
        old = server.public_host_key()
        new = server.swap_host_key()
        devices = {"pinned-new": server.device("pinned-new", host_key=new),
                   "pinned-old": server.device("pinned-old", host_key=old)}

        async def main() -> tuple[str, SshError]:
            async with SessionPool(devices, tmp_path / "state") as pool:
                async with pool.session("pinned-new") as session:
                    text = (await session.run("echo pinned")).text
                with pytest.raises(SshError) as caught:
                    async with pool.session("pinned-old"):
                        pass
            return text, caught.value

        text, error = asyncio.run(asyncio.wait_for(main(), 30))
        assert text == "pinned\n"
        assert error.kind == "host_key_changed" and "the inventory pins" in error.message
        assert not (tmp_path / "state" / FILE_NAME).exists()        # pinned devices leave no TOFU record
