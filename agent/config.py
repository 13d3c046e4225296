"""The agent's configuration: one YAML file on the customer's site.

The schema is plain frozen dataclasses; pydantic validates a file against
them but is never imported by the running agent: `load_isolated()` validates
in a short-lived forked child and hands the result back pickled, because
pydantic would cost the agent ~14 MiB of its 40 MiB budget for a job done
once at start.

Every class forbids unknown keys, because on a site a typo
(`intervall: 10s`) silently ignored is a device silently unwatched.
Durations are written with their unit (`30s`, `5m`); sizes too (`64MiB`).
Secrets that later pollers add (SNMP communities, SSH passwords) stay in this
file: the Hello carries only the fields `runtime.hello_for` copies.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import pickle
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from agent import pollers
from agent.configfile import Bounds, Check, ConfigError, Duration, Size, load_model
from agent.ssh.platforms import LOCAL, SSH_PLATFORMS

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
FORBID_UNKNOWN = {"extra": "forbid"}


def _check_id(value: str) -> str:
    if not _ID.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a usable id: use 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return value


def _check_address(value: str) -> str:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536:
        raise ValueError(f"{value!r} is not host:port")
    return value


def _check_interval(value: float) -> float:
    if value < 0.1:
        raise ValueError("an interval below 100ms would poll in a busy loop")
    return value


def _safe_hostname() -> str:
    name = re.sub(r"[^A-Za-z0-9._-]", "-", socket.gethostname()) or "host"
    return name[:64].lstrip("._-") or "host"


Id = Annotated[str, Check(_check_id)]
Seconds = Annotated[float, Duration]
frozen = dataclass(frozen=True, slots=True, kw_only=True)


@frozen
class Identity:
    __pydantic_config__ = FORBID_UNKNOWN
    id: Id  # stable agent id; must equal the CN of the agent's client certificate
    customer: str
    site: str


@frozen
class TLS:
    __pydantic_config__ = FORBID_UNKNOWN
    ca: Path                       # CA that signed the collector's certificate
    cert: Path | None = None       # the agent's client certificate (mutual TLS)
    key: Path | None = None
    server_name: str | None = None  # name to expect in the collector's certificate

    def __post_init__(self) -> None:
        if (self.cert is None) != (self.key is None):
            raise ValueError("give both cert and key for mutual TLS, or neither")


@frozen
class Backoff:
    __pydantic_config__ = FORBID_UNKNOWN
    initial: Seconds = 1.0
    max: Seconds = 60.0
    multiplier: Annotated[float, Bounds(ge=1.0)] = 2.0
    jitter: Annotated[float, Bounds(ge=0.0, le=1.0)] = 0.2  # ± share of each delay chosen at random


@frozen
class Collector:
    __pydantic_config__ = FORBID_UNKNOWN
    address: Annotated[str, Check(_check_address)]  # host:port of the collector's gRPC endpoint
    tls: TLS | None = None
    insecure: bool = False         # plain text without TLS; only for lab use
    compression: Literal["gzip", "none"] = "gzip"
    keepalive: Seconds = 30.0
    keepalive_timeout: Seconds = 10.0
    reconnect: Backoff = field(default_factory=Backoff)
    max_in_flight_batches: Annotated[int, Bounds(ge=1, le=10_000)] = 32

    def __post_init__(self) -> None:
        if self.tls is None and not self.insecure:
            raise ValueError("give tls (ca, and cert + key for mutual TLS), or insecure: true for plain text")
        if self.tls is not None and self.insecure:
            raise ValueError("tls and insecure: true contradict each other; remove one")


@frozen
class HostPoller:
    __pydantic_config__ = FORBID_UNKNOWN
    enabled: bool = True
    interval: Annotated[float, Duration, Check(_check_interval)] = 30.0
    timeout: Seconds = 10.0
    device_id: Id = field(default_factory=_safe_hostname)
    per_cpu: bool = True
    temperatures: bool = True
    ignore_fstypes: tuple[str, ...] = ()
    ignore_mounts: tuple[str, ...] = ()
    ignore_interfaces: tuple[str, ...] = ("lo",)


@frozen
class SyntheticPoller:
    """A load generator for capacity tests and benchmarks: `series` made-up series, one point each per poll."""

    __pydantic_config__ = FORBID_UNKNOWN
    enabled: bool = False
    interval: Annotated[float, Duration, Check(_check_interval)] = 1.0
    timeout: Seconds = 5.0
    series: Annotated[int, Bounds(ge=1, le=1_000_000)] = 1000
    device_id: Id = "synthetic"


@frozen
class SnmpUser:
    """An SNMPv3 user (USM). Keys are secrets: they are masked in logs and never leave the agent."""

    __pydantic_config__ = FORBID_UNKNOWN
    name: str
    auth_protocol: Literal["none", "md5", "sha", "sha224", "sha256", "sha384", "sha512"] = "sha"
    auth_key: str = ""
    priv_protocol: Literal["none", "des", "aes", "aes192", "aes256"] = "aes"
    priv_key: str = ""
    context: str = ""
    # Receiving v3 *traps* (not informs) from a device needs its snmpEngineID, in hex.
    engine_id: str = ""

    def __post_init__(self) -> None:
        if self.engine_id and not re.fullmatch(r"(0x)?([0-9A-Fa-f]{2}){5,32}", self.engine_id):
            raise ValueError("engine_id must be the device's snmpEngineID in hex (10–64 hex digits, e.g. 0x80001f8880…)")
        if self.auth_protocol != "none" and len(self.auth_key) < 8:
            raise ValueError("auth_key must be at least 8 characters (RFC 3414)")
        if self.priv_protocol != "none":
            if self.auth_protocol == "none":
                raise ValueError("privacy needs authentication: set auth_protocol, or priv_protocol: none")
            if len(self.priv_key) < 8:
                raise ValueError("priv_key must be at least 8 characters (RFC 3414)")


@frozen
class SnmpAccess:
    """How the agent reaches one device over SNMP. `community` and the v3 keys are secrets."""

    __pydantic_config__ = FORBID_UNKNOWN
    version: Literal["1", "2c", "3"] = "2c"
    community: str = ""
    user: SnmpUser | None = None
    port: Annotated[int, Bounds(ge=1, le=65535)] = 161
    interval: Annotated[float, Duration, Check(_check_interval)] | None = None   # default: pollers.snmp.interval
    timeout: Seconds | None = None        # per request; default: pollers.snmp.timeout
    retries: Annotated[int, Bounds(ge=0, le=10)] | None = None
    max_repetitions: Annotated[int, Bounds(ge=1, le=200)] | None = None
    profile: str = ""                     # force a profile by name instead of detecting it

    def __post_init__(self) -> None:
        if self.version == "3" and self.user is None:
            raise ValueError("SNMP version 3 needs a user (name, auth_protocol, auth_key, priv_protocol, priv_key)")
        if self.version != "3" and not self.community:
            raise ValueError(f"SNMP version {self.version} needs a community")
        if self.version != "3" and self.user is not None:
            raise ValueError(f"a v3 user is set but version is {self.version!r}; use version: \"3\"")


def _check_host_key(value: str) -> str:
    if not value:
        return value
    from agent.ssh.hostkeys import parse_key_line

    try:
        kind, blob = parse_key_line(value)
    except ValueError as exc:
        raise ValueError(
            f"{exc}: give the device's public host key as one line, e.g. 'ssh-ed25519 AAAAC3Nz…' "
            "(from ssh-keyscan or /etc/ssh/ssh_host_ed25519_key.pub)"
        ) from None
    return f"{kind} {base64.b64encode(blob).decode()}"


@frozen
class SshCredentials:
    """A named login shared by devices (`ssh_credentials:`). `password`, `passphrase`, `enable_secret` are secrets."""

    __pydantic_config__ = FORBID_UNKNOWN
    username: str = ""
    password: str = ""
    private_key: Path | None = None       # relative to the config file's folder
    passphrase: str = ""                  # of the private key
    use_agent: bool | None = None         # offer the keys of the SSH agent in $SSH_AUTH_SOCK
    enable_secret: str = ""               # Cisco IOS privileged EXEC


@frozen
class SshAccess:
    """How the agent reaches one device over SSH.

    `credentials` names an `ssh_credentials` group; any login field set here
    overrides the group's. Once the config is loaded, the group's fields are
    merged in and every `SshAccess` is complete. `password`, `passphrase` and
    `enable_secret` are secrets: masked in logs, never sent to the collector.
    """

    __pydantic_config__ = FORBID_UNKNOWN
    port: Annotated[int, Bounds(ge=1, le=65535)] = 22
    credentials: str = ""
    username: str = ""
    password: str = ""
    private_key: Path | None = None
    passphrase: str = ""
    use_agent: bool | None = None
    enable_secret: str = ""
    host_key: Annotated[str, Check(_check_host_key)] = ""   # pinned public key; empty: trust on first use
    timeout: Seconds = 10.0               # TCP connect, SSH handshake, login: each
    keepalive: Seconds = 30.0             # 0: none
    # Poll this device over SSH on a schedule (pollers.ssh): Linux figures like the host poller's, network
    # CLIs as the SNMP profiles name them. Off by default: SSH access alone is for playbooks.
    poll: bool = False
    interval: Annotated[float, Duration, Check(_check_interval)] | None = None   # default: pollers.ssh.interval

    def __post_init__(self) -> None:
        if not self.credentials:
            _check_login(self)
        if self.timeout <= 0:
            raise ValueError("timeout must be above 0")


def _check_login(access: SshAccess) -> None:
    if not access.username:
        raise ValueError("SSH needs a username (set username, or credentials: naming an ssh_credentials entry)")
    if not (access.password or access.private_key or access.use_agent):
        raise ValueError("SSH needs a password, a private_key or use_agent: true")
    if access.passphrase and not access.private_key:
        raise ValueError("passphrase is set but private_key is not")


def _with_credentials(access: SshAccess, group: SshCredentials) -> SshAccess:
    return dataclasses.replace(
        access,
        username=access.username or group.username,
        password=access.password or group.password,
        private_key=access.private_key or group.private_key,
        passphrase=access.passphrase or (group.passphrase if not access.private_key else ""),
        use_agent=access.use_agent if access.use_agent is not None else group.use_agent,
        enable_secret=access.enable_secret or group.enable_secret,
    )


@frozen
class SnmpTraps:
    __pydantic_config__ = FORBID_UNKNOWN
    enabled: bool = False
    listen: Annotated[str, Check(_check_address)] = "0.0.0.0:162"
    communities: tuple[str, ...] = ()          # v1/v2c traps accepted with these (empty: v2c off)
    users: tuple[SnmpUser, ...] = ()          # v3 traps/informs accepted from these users


@frozen
class SnmpPoller:
    """Settings shared by every SNMP device; each device's `snmp:` block may override them."""

    __pydantic_config__ = FORBID_UNKNOWN
    interval: Annotated[float, Duration, Check(_check_interval)] = 60.0
    timeout: Seconds = 2.0                    # per request
    retries: Annotated[int, Bounds(ge=0, le=10)] = 1
    max_repetitions: Annotated[int, Bounds(ge=1, le=200)] = 25
    max_in_flight: Annotated[int, Bounds(ge=1, le=1000)] = 32     # devices polled at once
    profiles_dir: Path | None = None          # extra profiles, added to (and overriding) the shipped ones
    traps: SnmpTraps = field(default_factory=SnmpTraps)


@frozen
class SshPoller:
    """Settings shared by every device polled over SSH (`ssh: {poll: true}`); a device's `ssh.interval` overrides."""

    __pydantic_config__ = FORBID_UNKNOWN
    interval: Annotated[float, Duration, Check(_check_interval)] = 60.0
    timeout: Seconds = 20.0                   # a whole poll: waiting for the session, login, commands
    max_in_flight: Annotated[int, Bounds(ge=1, le=1000)] = 16     # devices polled at once
    per_cpu: bool = True                      # Linux: per-core CPU series too, as pollers.host.per_cpu
    ignore_fstypes: tuple[str, ...] = ()      # Linux: as pollers.host (pseudo filesystems are always skipped)
    ignore_mounts: tuple[str, ...] = ()
    ignore_interfaces: tuple[str, ...] = ("lo",)
    definitions_dir: Path | None = None       # extra CLI polling definitions, added to (and overriding) the shipped ones


@frozen
class Pollers:
    __pydantic_config__ = FORBID_UNKNOWN
    host: HostPoller = field(default_factory=HostPoller)
    synthetic: SyntheticPoller = field(default_factory=SyntheticPoller)
    snmp: SnmpPoller = field(default_factory=SnmpPoller)
    ssh: SshPoller = field(default_factory=SshPoller)
    # Spread each poller's start by up to this share of its interval.
    jitter: Annotated[float, Bounds(ge=0.0, le=0.5)] = 0.1


@frozen
class Batching:
    __pydantic_config__ = FORBID_UNKNOWN
    max_points: Annotated[int, Bounds(ge=1, le=1_000_000)] = 5000
    max_delay: Seconds = 5.0


@frozen
class Buffer:
    """The durable outbox under state_dir/buffer (see agent/buffer.py)."""

    __pydantic_config__ = FORBID_UNKNOWN
    max_bytes: Annotated[int, Size, Bounds(ge=64 * 1024)] = 256 * 1024 * 1024
    max_age: Seconds = 7 * 86400.0   # 0 = no age limit
    segment_bytes: Annotated[int, Size, Bounds(ge=16 * 1024)] = 4 * 1024 * 1024
    # While a backlog replays, it may take this share of the sending window;
    # the rest goes to live batches, so fresh data is never stuck behind it
    # (1.0: the replay goes first and live batches wait).
    replay_share: Annotated[float, Bounds(ge=0.1, le=1.0)] = 0.75


@frozen
class Playbooks:
    """Remote diagnosis on this site (agent/diagnosis.py): which playbooks, and the limits of a run."""

    __pydantic_config__ = FORBID_UNKNOWN
    dirs: tuple[Path, ...] = ()               # extra playbooks, added to (and overriding) the shipped ones
    max_output_bytes: Annotated[int, Size, Bounds(ge=1024)] = 1024 * 1024     # per step; the rest is cut
    run_timeout: Seconds = 600.0              # a whole run, all steps
    max_concurrent_runs: Annotated[int, Bounds(ge=1, le=256)] = 16


@frozen
class Device:
    __pydantic_config__ = FORBID_UNKNOWN
    id: Id
    name: str = ""
    kind: Literal["host", "server", "switch", "router", "firewall", "ups", "storage", "other"]
    address: str = ""
    platform: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    snmp: SnmpAccess | None = None            # poll this device over SNMP
    ssh: SshAccess | None = None              # reach this device over SSH (polls, playbooks)
    # `mode: change` playbooks may run here (each run still needs an approval
    # recorded at the collector). Off by default: diagnosis only.
    allow_change_playbooks: bool = False

    def __post_init__(self) -> None:
        if self.snmp is not None and not self.address:
            raise ValueError("a device polled over SNMP needs an address")
        if self.ssh is not None:
            if not self.address:
                raise ValueError("a device reached over SSH needs an address")
            if self.platform not in SSH_PLATFORMS:
                raise ValueError(
                    f"a device reached over SSH needs its platform: one of {', '.join(SSH_PLATFORMS)}"
                    + (f" (not {self.platform!r})" if self.platform else "")
                )
        if self.platform == LOCAL and (self.snmp or self.ssh):
            raise ValueError(f"platform {LOCAL!r} is the agent's own machine: it takes no snmp: or ssh: settings")


def _unique_devices(devices: tuple[Device, ...]) -> tuple[Device, ...]:
    seen: set[str] = set()
    for device in devices:
        if device.id in seen:
            raise ValueError(f"device id {device.id!r} is given twice")
        seen.add(device.id)
    return devices


@frozen
class AgentConfig:
    __pydantic_config__ = FORBID_UNKNOWN
    agent: Identity
    collector: Collector
    state_dir: Path = Path("/var/lib/vigil-agent")
    pollers: Pollers = field(default_factory=Pollers)
    batching: Batching = field(default_factory=Batching)
    buffer: Buffer = field(default_factory=Buffer)
    devices: Annotated[tuple[Device, ...], Check(_unique_devices)] = ()
    ssh_credentials: dict[Id, SshCredentials] = field(default_factory=dict)   # named logins for devices' ssh:
    playbooks: Playbooks = field(default_factory=Playbooks)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    max_message_bytes: Annotated[int, Size] = 4 * 1024 * 1024

    def __post_init__(self) -> None:
        host = self.pollers.host  # the agent's machine is a device even with its poller off
        if host.device_id in {d.id for d in self.devices} | {self.pollers.synthetic.device_id}:
            raise ValueError(f"device id {host.device_id!r} is the host poller's device_id; pick another")
        object.__setattr__(self, "devices", tuple(self._merge_credentials()))

    def _merge_credentials(self) -> list[Device]:
        """Each device's `ssh.credentials` group merged into its `ssh:`; errors name the device's field."""
        devices = []
        for index, device in enumerate(self.devices):
            access = device.ssh
            if access is not None and access.credentials:
                group = self.ssh_credentials.get(access.credentials)
                if group is None:
                    known = ", ".join(sorted(self.ssh_credentials)) or "none are defined"
                    raise ValueError(
                        f"devices[{index}].ssh.credentials: no ssh_credentials entry named {access.credentials!r} ({known})"
                    )
                access = _with_credentials(access, group)
                try:
                    _check_login(access)
                except ValueError as exc:
                    raise ValueError(f"devices[{index}].ssh (with credentials {access.credentials!r}): {exc}") from None
                device = dataclasses.replace(device, ssh=access)
            devices.append(device)
        return devices


def load(path: str | Path) -> AgentConfig:
    """Read and validate the agent config in this process.

    `ConfigError` says which file, line and field is wrong. Relative paths in
    the file are relative to the file's folder, not to the working directory.
    """
    config = load_model(path, AgentConfig)
    base = Path(path).resolve().parent
    tls = config.collector.tls
    if tls is not None:
        tls = dataclasses.replace(
            tls, **{f.name: base / getattr(tls, f.name) for f in dataclasses.fields(tls) if isinstance(getattr(tls, f.name), Path)}
        )
    devices = tuple(
        dataclasses.replace(d, ssh=dataclasses.replace(d.ssh, private_key=base / d.ssh.private_key))
        if d.ssh is not None and d.ssh.private_key is not None else d
        for d in config.devices
    )
    ssh_credentials = {
        name: dataclasses.replace(group, private_key=base / group.private_key) if group.private_key else group
        for name, group in config.ssh_credentials.items()
    }
    p = config.pollers
    pollers = dataclasses.replace(
        p,
        snmp=dataclasses.replace(p.snmp, profiles_dir=base / p.snmp.profiles_dir if p.snmp.profiles_dir else None),
        ssh=dataclasses.replace(p.ssh, definitions_dir=base / p.ssh.definitions_dir if p.ssh.definitions_dir else None),
    )
    return dataclasses.replace(
        config, state_dir=base / config.state_dir, collector=dataclasses.replace(config.collector, tls=tls),
        devices=devices, ssh_credentials=ssh_credentials, pollers=pollers,
        playbooks=dataclasses.replace(config.playbooks, dirs=tuple(base / d for d in config.playbooks.dirs)),
    )


def load_isolated(path: str | Path) -> AgentConfig:
    """`load()` in a forked child, so pydantic never enters this (long-running) process.

    The child also builds what the pollers need validated (SNMP profiles,
    `agent.pollers.preload`) and the parent keeps it.

    Call it before any thread exists. The child sends back the validated
    config, or the error text, pickled over a pipe.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: validate, report, and leave without running any cleanup
        status = 0
        try:
            os.close(read_end)
            try:
                config = load(path)
                payload = pickle.dumps(("ok", (config, pollers.preload(config))))
            except ConfigError as exc:
                payload = pickle.dumps(("error", str(exc)))
            with os.fdopen(write_end, "wb") as out:
                out.write(payload)
        except BaseException:  # noqa: BLE001 - the parent reports a child that said nothing
            status = 1
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        payload = pipe.read()
    os.waitpid(pid, 0)
    if not payload:
        raise ConfigError(f"{path}: validating the config failed unexpectedly (run `vigil-agent check -c {path}`)")
    kind, value = pickle.loads(payload)  # noqa: S301 - our own child's output
    if kind == "error":
        raise ConfigError(value)
    config, preloaded = value
    pollers.keep_preloaded(preloaded)
    return config
