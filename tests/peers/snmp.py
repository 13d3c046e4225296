"""Real SNMP peers on 127.0.0.1 for the tests: net-snmp's snmpd, the snmpsim simulator, net-snmp's tools.

`Snmpd` is Debian's net-snmp agent with a config of its own (v1/v2c
community, v3 users of every security level); it answers about this very
machine, so the tests cross-check Vigil's client against net-snmp's own
`snmpget`/`snmpbulkwalk` rather than against fixed values. `Snmpsim` serves
recordings of real devices (`agent/pollers/snmp/testdata/`) and synthetic
switches made by `ensure_switch_recordings`. Both run on a free high UDP
port, in a folder of their own, and stop when their `with` block ends.

snmpsim keeps an index per recording. Building it costs seconds (minutes for
hundreds of synthetic switches), so the indexes and the synthetic recordings
live in one folder under the system's temp dir that outlives a test session,
guarded by a lock because other checkouts on this machine may use it too.

net-snmp names AES-192/AES-256 two ways: plain `AES-256` extends a short key
the Blumenthal way, `AES-256-C` the Reeder way that Cisco uses and that
pysnmp's `usmAesCfb256Protocol` (Vigil's `aes256`) speaks. They differ only
when the auth digest is shorter than the key (SHA-1 with AES-256), so the
users here are created with the `-C` names.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from agent.config import SnmpAccess, SnmpUser
from agent.pollers.snmp.types import OID, Tag, Value, format_oid, parse_oid

LOCALHOST = "127.0.0.1"
START_TIMEOUT_S = 60.0      # snmpsim's first start indexes every recording
STOP_TIMEOUT_S = 10.0
TOOL_TIMEOUT_S = 60.0
TESTDATA = Path(__file__).resolve().parents[2] / "agent" / "pollers" / "snmp" / "testdata"
SHARED_ROOT = Path(tempfile.gettempdir()) / "vigil-snmpsim"

_NET_SNMP_AUTH = {"md5": "MD5", "sha": "SHA", "sha224": "SHA-224", "sha256": "SHA-256",
                  "sha384": "SHA-384", "sha512": "SHA-512"}
_NET_SNMP_PRIV = {"des": "DES", "aes": "AES", "aes192": "AES-192-C", "aes256": "AES-256-C"}

SYS_NAME = "vigil-snmpd"
SYS_LOCATION = "Rack 7, 机房 A"
SYS_CONTACT = "noc@vigil.test"


def _user(name: str, auth: str, priv: str) -> SnmpUser:
    return SnmpUser(
        name=name, auth_protocol=auth, auth_key=f"{name}-auth" if auth != "none" else "",  # type: ignore[arg-type]
        priv_protocol=priv, priv_key=f"{name}-priv" if priv != "none" else "",  # type: ignore[arg-type]
    )


SNMPD_COMMUNITY = "public"
SNMPD_USERS: dict[str, SnmpUser] = {u.name: u for u in (
    _user("authpriv-sha-aes", "sha", "aes"),
    _user("authpriv-sha256-aes256", "sha256", "aes256"),
    _user("authpriv-md5-des", "md5", "des"),
    _user("authpriv-sha224-aes192", "sha224", "aes192"),
    _user("authpriv-sha384-aes256", "sha384", "aes256"),
    _user("authpriv-sha512-aes", "sha512", "aes"),
    _user("authpriv-sha-aes256", "sha", "aes256"),        # key extension: Reeder, as Cisco
    _user("authnopriv-sha", "sha", "none"),
    _user("noauth", "none", "none"),
)}


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LOCALHOST, 0))
        return s.getsockname()[1]


def _level(user: SnmpUser) -> str:
    if user.auth_protocol == "none":
        return "noAuthNoPriv"
    return "authNoPriv" if user.priv_protocol == "none" else "authPriv"


_ROUSER_LEVEL = {"noAuthNoPriv": "noauth", "authNoPriv": "auth", "authPriv": "priv"}


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_S)


# ---------------------------------------------------------------- net-snmp's tools

def _security_args(access: SnmpAccess) -> list[str]:
    if access.version != "3":
        return [f"-v{access.version}", "-c", access.community]
    user = access.user
    assert user is not None
    args = ["-v3", "-u", user.name, "-l", _level(user)]
    if user.auth_protocol != "none":
        args += ["-a", _NET_SNMP_AUTH[user.auth_protocol], "-A", user.auth_key]
    if user.priv_protocol != "none":
        args += ["-x", _NET_SNMP_PRIV[user.priv_protocol], "-X", user.priv_key]
    if user.context:
        args += ["-n", user.context]
    return args


def _run_tool(tool: str, args: Sequence[str], state_dir: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a net-snmp tool with its state in `state_dir` and no MIBs (numeric OIDs only)."""
    if shutil.which(tool) is None:
        raise RuntimeError(f"net-snmp's {tool} not found: run `bash tests/run.sh`, which installs Debian's snmp")
    env = {**os.environ, "SNMP_PERSISTENT_DIR": str(state_dir), "MIBS": ""}
    result = subprocess.run([tool, *args], env=env, capture_output=True, text=True, timeout=TOOL_TIMEOUT_S)
    if check and result.returncode != 0:
        raise RuntimeError(f"{tool} exited with {result.returncode}: {result.stderr.strip()[-1000:]}")
    return result


# -On numeric OIDs, -Oe numeric enums, -Ox every string in hex (no guessing at quoting), -OU no units.
_OUTPUT = ["-On", "-Oe", "-Ox", "-OU"]
_EXCEPTIONS = {
    "No Such Object available on this agent at this OID": Tag.NO_SUCH_OBJECT,
    "No Such Instance currently exists at this OID": Tag.NO_SUCH_INSTANCE,
    "No more variables left in this MIB View (It is past the end of the MIB tree)": Tag.END_OF_MIB_VIEW,
}
_HEX_LINE = re.compile(r"[0-9A-F]{2}( [0-9A-F]{2})*")
_INTEGERS = {"INTEGER": Tag.INTEGER, "Counter32": Tag.COUNTER32, "Gauge32": Tag.GAUGE32,
             "Counter64": Tag.COUNTER64, "UInteger32": Tag.GAUGE32}


def _parse_value(text: str) -> tuple[int, Value | str]:
    if text in _EXCEPTIONS:
        return _EXCEPTIONS[text], None
    if text == '""':
        return Tag.OCTET_STRING, b""
    if text == "NULL":
        return Tag.NULL, None
    kind, _, rest = text.partition(": ")
    if kind in _INTEGERS:
        return _INTEGERS[kind], int(rest)
    if kind == "Hex-STRING":
        return Tag.OCTET_STRING, bytes.fromhex(rest)
    if kind == "Timeticks":
        return Tag.TIMETICKS, int(rest[1:rest.index(")")])
    if kind == "OID":
        return Tag.OBJECT_IDENTIFIER, parse_oid(rest)
    if kind == "IpAddress":
        return Tag.IP_ADDRESS, bytes(int(part) for part in rest.split("."))
    if kind == "Opaque":
        return Tag.OPAQUE, rest         # net-snmp decodes what is inside; only the tag compares
    raise ValueError(f"unexpected net-snmp value {text!r}")


def parse_tool_output(stdout: str) -> list[tuple[OID, int, Value | str]]:
    """`snmpget -On -Oe -Ox -OU` lines → (oid, tag, value); a long Hex-STRING continues on the next lines.

    Other lines (snmpwalk's "End of MIB") are not values and are skipped.
    """
    entries: list[list[str]] = []
    for line in stdout.splitlines():
        if line.startswith("."):
            oid, _, value = line.partition(" = ")
            entries.append([oid, value.strip()])
        elif entries and entries[-1][1].startswith("Hex-STRING:") and _HEX_LINE.fullmatch(line.strip()):
            entries[-1][1] += " " + line.strip()
    return [(parse_oid(oid), *_parse_value(value)) for oid, value in entries]


class _ToolUser:
    """net-snmp's client tools pointed at one peer; `state_dir` keeps their engine ID and caches."""

    host: str
    port: int
    state_dir: Path

    def _target(self, access: SnmpAccess) -> list[str]:
        return [*_security_args(access), *_OUTPUT, "-r", "1", "-t", "2", f"udp:{self.host}:{self.port}"]

    def snmpget(self, access: SnmpAccess, oids: Sequence[OID]) -> list[tuple[OID, int, Value | str]]:
        """Values as snmpget prints them; under v1 it drops an OID the agent has not and asks again."""
        result = _run_tool("snmpget", [*self._target(access), *map(format_oid, oids)], self.state_dir, check=False)
        values = parse_tool_output(result.stdout)
        if result.returncode != 0 and not values:
            raise RuntimeError(f"snmpget exited with {result.returncode}: {result.stderr.strip()[-1000:]}")
        return values

    def snmpbulkwalk(self, access: SnmpAccess, root: OID, max_repetitions: int = 25) -> list[tuple[OID, int, Value | str]]:
        args = [*self._target(access), f"-Cr{max_repetitions}", format_oid(root)]
        return _objects(parse_tool_output(_run_tool("snmpbulkwalk", args, self.state_dir).stdout))

    def snmpwalk(self, access: SnmpAccess, root: OID) -> list[tuple[OID, int, Value | str]]:
        """GETNEXT walk: the only walk SNMPv1 has."""
        args = [*self._target(access), format_oid(root)]
        return _objects(parse_tool_output(_run_tool("snmpwalk", args, self.state_dir).stdout))


def _objects(walked: list[tuple[OID, int, Value | str]]) -> list[tuple[OID, int, Value | str]]:
    """A walk's objects without the endOfMibView marker net-snmp prints, under the last OID, when the MIB ends."""
    return [entry for entry in walked if entry[1] != Tag.END_OF_MIB_VIEW]


def send_trap(
    port: int, access: SnmpAccess, state_dir: Path, *,
    trap_oid: OID = (1, 3, 6, 1, 6, 3, 1, 1, 5, 3),          # linkDown
    varbinds: Sequence[tuple[OID, str, str]] = (),          # (oid, net-snmp type letter, value)
    inform: bool = False, timeout_s: float = 1.0, retries: int = 0,
    engine_id: str = "0x80001f8880766967696c2d74657374",     # a v3 trap's sender is authoritative
) -> subprocess.CompletedProcess[str]:
    """Send one v2c/v3 trap (or inform) to 127.0.0.1:`port` with Debian's snmptrap/snmpinform.

    A trap needs no answer and exits 0 once sent; an inform waits for the
    receiver's response and exits non-zero when none comes within the bound.
    """
    args = [*_security_args(access), "-r", str(retries), "-t", str(timeout_s)]
    if access.version == "3" and not inform:
        args += ["-e", engine_id]
    args += [f"udp:{LOCALHOST}:{port}", "", format_oid(trap_oid)]
    for oid, kind, value in varbinds:
        args += [format_oid(oid), kind, value]
    return _run_tool("snmpinform" if inform else "snmptrap", args, state_dir, check=False)


# ---------------------------------------------------------------- snmpd

class Snmpd(_ToolUser):
    """Debian's net-snmp agent on 127.0.0.1 with its own config, users and state."""

    def __init__(self, root: Path) -> None:
        self.host, self.port, self.root = LOCALHOST, free_udp_port(), root
        self.state_dir = root / "tools"
        self.community = SNMPD_COMMUNITY
        self.users = SNMPD_USERS
        self._process: subprocess.Popen[bytes] | None = None

    def access(self, version: str = "2c", user: str = "", **settings: object) -> SnmpAccess:
        """An `SnmpAccess` for this agent: v1/v2c with its community, v3 as one of `SNMPD_USERS`."""
        if version == "3":
            return SnmpAccess(version="3", user=self.users[user], port=self.port, **settings)  # type: ignore[arg-type]
        return SnmpAccess(version=version, community=self.community, port=self.port, **settings)  # type: ignore[arg-type]

    def _config(self) -> str:
        lines = [
            f"[snmp] persistentDir {self.root / 'state'}",
            f"rocommunity {self.community} {LOCALHOST}",
            f"sysName {SYS_NAME}", f"sysLocation {SYS_LOCATION}", f"sysContact {SYS_CONTACT}",
            "sysServices 72",
            "disk / 1",              # UCD-SNMP dskTable gets a row
            "load 64 64 64",         # UCD-SNMP laTable thresholds
        ]
        for user in self.users.values():
            create = f"createUser {user.name}"
            if user.auth_protocol != "none":
                create += f' {_NET_SNMP_AUTH[user.auth_protocol]} "{user.auth_key}"'
                if user.priv_protocol != "none":
                    create += f' {_NET_SNMP_PRIV[user.priv_protocol]} "{user.priv_key}"'
            lines += [create, f"rouser {user.name} {_ROUSER_LEVEL[_level(user)]}"]
        return "\n".join(lines) + "\n"

    def start(self) -> None:
        if shutil.which("snmpd") is None:
            raise RuntimeError("net-snmp's snmpd not found: run `bash tests/run.sh`, which installs Debian's snmpd")
        for sub in ("state", "tools", "no-mibs"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        config = self.root / "snmpd.conf"
        config.write_text(self._config())
        # -C: only our config; -M/-m: no MIB files (Debian ships none); -I -smux: no SMUX listener on tcp/199.
        self._process = _launch(self, lambda: [
            "snmpd", "-C", "-c", str(config), "-f", "-Lo", "-M", str(self.root / "no-mibs"), "-m", "",
            "-I", "-smux", f"udp:{self.host}:{self.port}",
        ], self.access(), self.root / "snmpd.log")

    def stop(self) -> None:
        if self._process is not None:
            _stop(self._process)
            self._process = None

    def __enter__(self) -> Snmpd:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.stop()


class _Exited(RuntimeError):
    pass


def _launch(peer: Snmpd | Snmpsim, argv: Callable[[], list[str]], probe: SnmpAccess, log_path: Path) -> subprocess.Popen[bytes]:
    """Start a peer and wait until it answers `probe`.

    A peer that exits at once most likely lost its port to another test
    between our choosing it and its binding it: it gets another port, twice.
    """
    tries = 3
    while True:
        with open(log_path, "ab") as log:
            process = subprocess.Popen(argv(), stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_until_answers(peer, probe, process, log_path)
            return process
        except _Exited:
            tries -= 1
            if not tries:
                raise
            peer.port = free_udp_port()


def _wait_until_answers(peer: _ToolUser, access: SnmpAccess, process: subprocess.Popen[bytes], log: Path) -> None:
    args = [*_security_args(access), "-r", "0", "-t", "0.3", f"udp:{peer.host}:{peer.port}", "1.3.6.1.2.1.1.3.0"]
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if process.poll() is not None:
            raise _Exited(f"SNMP peer exited with {process.returncode}: {log.read_text(errors='replace')[-2000:]}")
        if _run_tool("snmpget", args, peer.state_dir, check=False).returncode == 0:
            return
        if time.monotonic() > deadline:
            _stop(process)
            raise RuntimeError(f"SNMP peer did not answer within {START_TIMEOUT_S:.0f} s: {log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.1)


# ---------------------------------------------------------------- snmpsim

# snmpsim refuses to run as root unless it can drop privileges, and dropping
# to `nobody` breaks its imports here: run its responder with that step a no-op.
_LAUNCHER = """
import contextlib, sys
import snmpsim.daemon
snmpsim.daemon.PrivilegesOf = lambda *args, **kwargs: contextlib.nullcontext()
from snmpsim.commands import responder
sys.exit(responder.main())
"""


class Snmpsim(_ToolUser):
    """snmpsim serving every .snmprec under `data_dirs`; community = path under its data dir, no extension."""

    def __init__(self, root: Path, data_dirs: Sequence[Path], cache_dir: Path) -> None:
        self.host, self.port, self.root = LOCALHOST, free_udp_port(), root
        self.state_dir = root / "tools"
        self.data_dirs, self.cache_dir = list(data_dirs), cache_dir
        self.communities = sorted(
            str(path.relative_to(base).with_suffix("")) for base in self.data_dirs for path in base.rglob("*.snmprec")
        )
        self._process: subprocess.Popen[bytes] | None = None

    def access(self, community: str, version: str = "2c", **settings: object) -> SnmpAccess:
        return SnmpAccess(version=version, community=community, port=self.port, **settings)  # type: ignore[arg-type]

    def start(self) -> None:
        if not self.communities:
            raise ValueError(f"no .snmprec recordings under {self.data_dirs}")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self._process = _launch(self, lambda: [
            sys.executable, "-c", _LAUNCHER, f"--cache-dir={self.cache_dir}", "--log-level=error",
            *(f"--data-dir={d}" for d in self.data_dirs), f"--agent-udpv4-endpoint={self.host}:{self.port}",
        ], self.access(self.communities[0]), self.root / "snmpsim.log")

    def stop(self) -> None:
        if self._process is not None:
            _stop(self._process)
            self._process = None

    def __enter__(self) -> Snmpsim:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.stop()


@contextmanager
def shared_snmpsim_folder(timeout_s: float = 600.0) -> Iterator[Path]:
    """Hold the lock on the folder of snmpsim indexes and synthetic recordings that outlives sessions."""
    SHARED_ROOT.mkdir(parents=True, exist_ok=True)
    with open(SHARED_ROOT / "lock", "w") as lock:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{SHARED_ROOT} stayed locked for {timeout_s:.0f} s") from None
                time.sleep(0.2)
        try:
            yield SHARED_ROOT
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


_SNMPREC_TAGS = {"2": Tag.INTEGER, "4": Tag.OCTET_STRING, "5": Tag.NULL, "6": Tag.OBJECT_IDENTIFIER,
                 "64": Tag.IP_ADDRESS, "65": Tag.COUNTER32, "66": Tag.GAUGE32, "67": Tag.TIMETICKS,
                 "68": Tag.OPAQUE, "70": Tag.COUNTER64}


def read_snmprec(path: Path) -> list[tuple[OID, int, Value]]:
    """A recording's objects as (oid, tag, value), the way Vigil's client returns them."""
    objects: list[tuple[OID, int, Value]] = []
    for line in path.read_text().splitlines():
        oid, code, text = line.split("|", 2)
        hexed = code.endswith("x")
        tag = _SNMPREC_TAGS[code.removesuffix("x")]      # a variation module (`67:numeric`) would fail here
        value: Value
        if tag == Tag.NULL:
            value = None
        elif hexed:
            value = bytes.fromhex(text)
        elif tag == Tag.OBJECT_IDENTIFIER:
            value = parse_oid(text)
        elif tag == Tag.IP_ADDRESS:
            value = bytes(int(part) for part in text.split("."))
        elif tag in (Tag.OCTET_STRING, Tag.OPAQUE):
            value = text.encode()
        else:
            value = int(text)
        objects.append((parse_oid(oid), tag, value))
    return objects


# ---------------------------------------------------------------- synthetic switches

IF_TABLE = (1, 3, 6, 1, 2, 1, 2, 2, 1)
IF_X_TABLE = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1)
_COUNTER32_IF = set(range(10, 21))                            # ifInOctets … ifOutErrors
_COUNTER64_IFX = set(range(6, 14))                            # ifHCInOctets … ifHCOutBroadcastPkts


def _switch_lines(number: int, interfaces: int) -> Iterator[str]:
    """One switch's recording, in OID order as snmpsim needs it."""
    def counter(bits: int, port: int, column: int) -> int:
        return (number * 1_000_003 + port * 7_919 + column * 104_729) * 2_654_435_761 % (1 << bits)

    yield f"1.3.6.1.2.1.1.1.0|4|Vigil synthetic switch {number}, {interfaces} ports"
    yield "1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.32473.1.1"  # RFC 5612's documentation enterprise: no vendor profile
    yield f"1.3.6.1.2.1.1.3.0|67|{(number + 1) * 360_000}"
    yield "1.3.6.1.2.1.1.4.0|4|noc@vigil.test"
    yield f"1.3.6.1.2.1.1.5.0|4|switch-{number:03d}"
    yield f"1.3.6.1.2.1.1.6.0|4|synthetic rack {number // 40}"
    yield "1.3.6.1.2.1.1.7.0|2|6"
    yield f"1.3.6.1.2.1.2.1.0|2|{interfaces}"
    ports = range(1, interfaces + 1)
    if_columns = {
        1: lambda p: f"2|{p}", 2: lambda p: f"4|GigabitEthernet1/0/{p}", 3: lambda p: "2|6",
        4: lambda p: "2|1500", 5: lambda p: "66|1000000000",
        6: lambda p: f"4x|0200{number:04x}{p:04x}", 7: lambda p: "2|1", 8: lambda p: f"2|{2 if p % 4 == 0 else 1}",
        9: lambda p: f"67|{p * 100}", 21: lambda p: "66|0", 22: lambda p: "6|0.0",
    }
    for column in range(1, 23):
        for port in ports:
            value = f"65|{counter(32, port, column)}" if column in _COUNTER32_IF else if_columns[column](port)
            yield f"{format_oid(IF_TABLE)}.{column}.{port}|{value}"
    ifx_columns = {
        1: lambda p: f"4|Gi1/0/{p}", 14: lambda p: "2|1", 15: lambda p: "66|1000", 16: lambda p: "2|2",
        17: lambda p: "2|1", 18: lambda p: f"4|link to rack {number} port {p}", 19: lambda p: "67|0",
    }
    for column in range(1, 20):
        for port in ports:
            if column in _COUNTER64_IFX:
                value = f"70|{counter(64, port, column)}"
            elif column in ifx_columns:
                value = ifx_columns[column](port)
            else:
                value = f"65|{counter(32, port, column)}"
            yield f"{format_oid(IF_X_TABLE)}.{column}.{port}|{value}"


def write_switch_recordings(directory: Path, switches: int, interfaces: int) -> list[str]:
    """Write `switches` recordings of `interfaces`-port switches (system, ifTable, ifXTable with 64-bit counters).

    Returns the communities, `switch-000` …, relative to `directory`.
    """
    directory.mkdir(parents=True, exist_ok=True)
    communities = []
    for number in range(switches):
        name = f"switch-{number:03d}"
        (directory / f"{name}.snmprec").write_text("\n".join(_switch_lines(number, interfaces)) + "\n")
        communities.append(name)
    return communities


def ensure_switch_recordings(shared: Path, switches: int, interfaces: int) -> Path:
    """The folder of `switches` × `interfaces` synthetic switches under the shared folder, made once.

    Rewriting them would make snmpsim rebuild their indexes, so an existing
    complete folder is kept; call with the shared folder's lock held.
    """
    target = shared / f"switches-v2-{switches}x{interfaces}"  # v2: sysObjectID of no vendor
    if not target.is_dir():
        scratch = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=shared))
        write_switch_recordings(scratch, switches, interfaces)
        scratch.rename(target)
    return target
