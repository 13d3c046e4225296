"""The agent's configuration: one YAML file on the customer's site.

Every model forbids unknown keys, because on a site a typo (`intervall: 10s`)
silently ignored is a device silently unwatched. Durations are written with
their unit (`30s`, `5m`); sizes too (`64MiB`). Anything secret that later
pollers add (SNMP communities, SSH passwords) is a `SecretStr`, so it prints
as `**********` and never reaches the collector: the Hello carries only
`Device.public_fields()`.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from agent.configfile import Duration, Size, load_model

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
DEVICE_KINDS = ("host", "server", "switch", "router", "firewall", "ups", "storage", "other")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_id(value: str) -> str:
    if not _ID.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a usable id: use 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return value


class Identity(Strict):
    id: str = Field(description="Stable agent id; must equal the CN of the agent's client certificate")
    customer: str
    site: str

    _id = field_validator("id")(_check_id)


class TLS(Strict):
    ca: Path = Field(description="CA that signed the collector's certificate")
    cert: Path | None = Field(None, description="The agent's client certificate (mutual TLS)")
    key: Path | None = None
    server_name: str | None = Field(None, description="Name to expect in the collector's certificate")

    @model_validator(mode="after")
    def _cert_and_key_together(self) -> TLS:
        if (self.cert is None) != (self.key is None):
            raise ValueError("give both cert and key for mutual TLS, or neither")
        return self


class Backoff(Strict):
    initial: Annotated[float, Duration] = 1.0
    max: Annotated[float, Duration] = 60.0
    multiplier: float = Field(2.0, ge=1.0)
    jitter: float = Field(0.2, ge=0.0, le=1.0, description="± share of each delay chosen at random")


class Collector(Strict):
    address: str = Field(description="host:port of the collector's gRPC endpoint")
    tls: TLS | None = None
    insecure: bool = Field(False, description="Plain text without TLS; only for lab use")
    compression: Literal["gzip", "none"] = "gzip"
    keepalive: Annotated[float, Duration] = 30.0
    keepalive_timeout: Annotated[float, Duration] = 10.0
    reconnect: Backoff = Field(default_factory=Backoff)
    max_in_flight_batches: int = Field(32, ge=1, le=10_000)

    @field_validator("address")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536:
            raise ValueError(f"{value!r} is not host:port")
        return value

    @model_validator(mode="after")
    def _tls_or_insecure(self) -> Collector:
        if self.tls is None and not self.insecure:
            raise ValueError("give tls (ca, and cert + key for mutual TLS), or insecure: true for plain text")
        if self.tls is not None and self.insecure:
            raise ValueError("tls and insecure: true contradict each other; remove one")
        return self


class HostPoller(Strict):
    enabled: bool = True
    interval: Annotated[float, Duration] = 30.0
    timeout: Annotated[float, Duration] = 10.0
    device_id: str = Field(default_factory=lambda: _safe_hostname())
    per_cpu: bool = True
    temperatures: bool = True
    ignore_fstypes: tuple[str, ...] = ()
    ignore_mounts: tuple[str, ...] = ()
    ignore_interfaces: tuple[str, ...] = ("lo",)

    _id = field_validator("device_id")(_check_id)

    @field_validator("interval")
    @classmethod
    def _not_too_fast(cls, value: float) -> float:
        if value < 0.1:
            raise ValueError("an interval below 100ms would poll in a busy loop")
        return value


class Pollers(Strict):
    host: HostPoller = Field(default_factory=HostPoller)
    jitter: float = Field(0.1, ge=0.0, le=0.5, description="Spread each poller's start by up to this share of its interval")


class Batching(Strict):
    max_points: int = Field(5000, ge=1, le=1_000_000)
    max_delay: Annotated[float, Duration] = 5.0
    max_buffered_batches: int = Field(10_000, ge=1)


class Device(Strict):
    id: str
    name: str = ""
    kind: Literal["host", "server", "switch", "router", "firewall", "ups", "storage", "other"]
    address: str = ""
    platform: str = ""
    labels: dict[str, str] = {}

    _id = field_validator("id")(_check_id)


class AgentConfig(Strict):
    agent: Identity
    collector: Collector
    state_dir: Path = Path("/var/lib/vigil-agent")
    pollers: Pollers = Field(default_factory=Pollers)
    batching: Batching = Field(default_factory=Batching)
    devices: tuple[Device, ...] = ()
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    max_message_bytes: Annotated[int, Size] = 4 * 1024 * 1024

    @field_validator("devices")
    @classmethod
    def _unique_devices(cls, devices: tuple[Device, ...]) -> tuple[Device, ...]:
        seen: set[str] = set()
        for device in devices:
            if device.id in seen:
                raise ValueError(f"device id {device.id!r} is given twice")
            seen.add(device.id)
        return devices

    @model_validator(mode="after")
    def _host_id_is_free(self) -> AgentConfig:
        if self.pollers.host.enabled and self.pollers.host.device_id in {d.id for d in self.devices}:
            raise ValueError(
                f"device id {self.pollers.host.device_id!r} is the host poller's device_id; pick another"
            )
        return self


def _safe_hostname() -> str:
    name = re.sub(r"[^A-Za-z0-9._-]", "-", socket.gethostname()) or "host"
    return name[:64].lstrip("._-") or "host"


def load(path: str | Path) -> AgentConfig:
    """Read the agent config; `ConfigError` says which file, line and field is wrong."""
    config = load_model(path, AgentConfig)
    # Relative paths are relative to the config file, not to the working directory.
    base = Path(path).resolve().parent
    tls = config.collector.tls
    if tls is not None:
        tls = tls.model_copy(
            update={name: base / value for name, value in tls if isinstance(value, Path)}
        )
    return config.model_copy(
        update={
            "state_dir": base / config.state_dir,
            "collector": config.collector.model_copy(update={"tls": tls}),
        }
    )
