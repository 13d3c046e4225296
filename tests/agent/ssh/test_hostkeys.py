"""agent/ssh/hostkeys.py: trust on first use, pinned keys, any other key refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

import pytest

from agent.ssh.hostkeys import HostKeyRefused, KnownHosts, fingerprint, host_entry, parse_key_line

ED_A = "ssh-ed25519 " + base64.b64encode(b"\x00\x00\x00\x0bssh-ed25519" + b"\x00\x00\x00\x20" + b"A" * 32).decode()
ED_B = "ssh-ed25519 " + base64.b64encode(b"\x00\x00\x00\x0bssh-ed25519" + b"\x00\x00\x00\x20" + b"B" * 32).decode()
RSA_C = "ssh-rsa " + base64.b64encode(b"\x00\x00\x00\x07ssh-rsa" + b"\x00\x00\x00\x01\x03" + b"C" * 16).decode()


def _key(line: str) -> tuple[str, bytes]:
    return parse_key_line(line)


def test_first_key_is_recorded_then_only_it_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "state" / "ssh_known_hosts"
    known = KnownHosts(path)
    known.check("core-1", "10.0.0.1", 2222, *_key(ED_A))
    assert path.read_text() == f"[10.0.0.1]:2222 {ED_A}\n"
    assert path.stat().st_mode & 0o777 == 0o600
    known.check("core-1", "10.0.0.1", 2222, *_key(ED_A))          # the same key again: fine
    with pytest.raises(HostKeyRefused, match=r"host key changed on core-1 \(10.0.0.1:2222\)"):
        known.check("core-1", "10.0.0.1", 2222, *_key(ED_B))
    with pytest.raises(HostKeyRefused):                             # another key type is a change too
        known.check("core-1", "10.0.0.1", 2222, *_key(RSA_C))
    assert path.read_text() == f"[10.0.0.1]:2222 {ED_A}\n"           # nothing overwritten
    known.check("other", "10.0.0.1", 22, *_key(ED_B))                # another port is another host
    assert KnownHosts(path).keys_for("10.0.0.1", 22) == [_key(ED_B)]


def test_removing_the_line_accepts_the_new_key_without_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "ssh_known_hosts"
    known = KnownHosts(path)
    known.check("core-1", "10.0.0.1", 22, *_key(ED_A))
    path.write_text("")
    known.check("core-1", "10.0.0.1", 22, *_key(ED_B))
    assert path.read_text() == f"10.0.0.1 {ED_B}\n"


def test_pinned_key_wins_over_the_record(tmp_path: Path) -> None:
    known = KnownHosts(tmp_path / "ssh_known_hosts")
    known.check("core-1", "10.0.0.1", 22, *_key(ED_A), pinned=ED_A + " root@core-1")
    with pytest.raises(HostKeyRefused, match="pins"):
        known.check("core-1", "10.0.0.1", 22, *_key(ED_B), pinned=ED_A)
    assert not (tmp_path / "ssh_known_hosts").exists()               # pinned hosts are not recorded


def test_hashed_and_comma_separated_entries_from_openssh(tmp_path: Path) -> None:
    salt = b"0123456789abcdefghij"
    digest = hmac.new(salt, b"[10.0.0.5]:2222", hashlib.sha1).digest()
    hashed = f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(digest).decode()}"
    path = tmp_path / "ssh_known_hosts"
    path.write_text(f"# comment\n{hashed} {ED_A}\n10.0.0.6,10.0.0.7 {ED_B}\nbroken line\n")
    known = KnownHosts(path)
    assert known.keys_for("10.0.0.5", 2222) == [_key(ED_A)]
    assert known.keys_for("10.0.0.7", 22) == [_key(ED_B)]
    assert known.preferred_types("10.0.0.7", 22) == ["ssh-ed25519"]
    assert known.preferred_types("10.0.0.9", 22, pinned=RSA_C) == ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]


def test_key_lines_and_fingerprints() -> None:
    kind, blob = parse_key_line(f"[10.0.0.1]:2222 {ED_A} comment")
    assert kind == "ssh-ed25519"
    assert fingerprint(blob) == "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    assert host_entry("10.0.0.1", 22) == "10.0.0.1" and host_entry("h", 2222) == "[h]:2222"
    for bad in ("ssh-ed25519", "ssh-ed25519 not*base64", "ssh-rsa " + ED_A.split()[1]):
        with pytest.raises(ValueError):
            parse_key_line(bad)
