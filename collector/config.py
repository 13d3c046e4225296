"""The collector's configuration file, validated like the agent's (file:line: field: problem)."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from agent.configfile import Bounds, Check, Duration, Size, load_model

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerTLS(Strict):
    cert: Path = Field(description="The collector's certificate (PEM), with its chain")
    key: Path
    client_ca: Path | None = Field(None, description="CA of agent certificates; set it for mutual TLS")


class Retention(Strict):
    raw: Annotated[float, Duration] = 14 * 86400.0
    rollups: Annotated[float, Duration] = 800 * 86400.0

    @model_validator(mode="after")
    def _rollups_outlive_raw(self) -> Retention:
        if self.rollups < self.raw:
            raise ValueError("rollups are kept for reports: keep them at least as long as raw points")
        return self


def _host_port(value: str) -> str:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not (port.isascii() and port.isdigit()) or int(port) > 65535:
        raise ValueError(f"{value!r} is not host:port")
    return value


def _sink_name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValueError(f"{value!r} is not a usable name: use 1–64 letters, digits, '.', '_' or '-'")
    return value


def _http_url(value: str) -> str:
    if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
        raise ValueError(f"{value!r} is not an http:// or https:// URL")
    return value.rstrip("/")


class InfluxDBSink(Strict):
    """An InfluxDB v2 write API (or one that speaks it) that gets a copy of every stored point.

    `token` is a secret: it is masked in the collector's log and never shown in errors.
    """

    name: Annotated[str, Check(_sink_name)]
    kind: Literal["influxdb"]
    url: Annotated[str, Check(_http_url)]
    org: str
    bucket: str
    token: SecretStr = SecretStr("")
    precision: Literal["s", "ms", "us", "ns"] = "ms"   # Vigil's timestamps are ms; "s" drops the milliseconds
    batch_points: Annotated[int, Bounds(ge=1, le=100_000)] = 5000   # lines per write request
    gzip_level: Annotated[int, Bounds(ge=1, le=9)] = 1                # 1: least CPU; 9: ~25 % smaller, 5× the CPU
    timeout: Annotated[float, Duration, Bounds(ge=0.1)] = 10.0       # per write request
    flush_interval: Annotated[float, Duration, Bounds(ge=0.01, le=3600)] = 1.0  # longest a point waits for a fuller batch
    max_retry_interval: Annotated[float, Duration, Bounds(ge=0.1)] = 60.0     # cap of the exponential backoff
    ca: Path | None = None        # CA bundle for an https:// url with a private CA
    verify_tls: bool = True


class Checks(Strict):
    """The check engine (checks/): on by default; `overrides` is a YAML file of per customer/site/device thresholds."""

    enabled: bool = True
    overrides: Path | None = None


class CollectorConfig(Strict):
    collector_id: str = "collector-1"
    listen: str = "127.0.0.1:4317"
    tls: ServerTLS | None = None
    database: str = "sqlite:///vigil.db"
    retention: Retention = Field(default_factory=Retention)
    rollup_interval: Annotated[float, Duration] = 30.0
    heartbeat_interval: Annotated[float, Duration] = 30.0
    max_message_bytes: Annotated[int, Size] = 8 * 1024 * 1024
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # Extra copies of every stored point (the embedded store is always on); see README "InfluxDB and Grafana".
    sinks: tuple[InfluxDBSink, ...] = ()
    # The collector's own metrics for Prometheus (`/metrics`); off unless set, e.g. 127.0.0.1:9464.
    metrics_listen: Annotated[str, Check(_host_port)] | None = None
    checks: Checks = Field(default_factory=Checks)

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        return _host_port(value)

    @field_validator("sinks")
    @classmethod
    def _unique_sinks(cls, sinks: tuple[InfluxDBSink, ...]) -> tuple[InfluxDBSink, ...]:
        names = [sink.name for sink in sinks]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"sink name {name!r} is used twice: each sink keeps its own cursor by name")
        return sinks

    @field_validator("database")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite:///", "postgresql")):
            raise ValueError("use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB")
        return value

    @property
    def listens_on_loopback(self) -> bool:
        host = self.listen.rpartition(":")[0].strip("[]")
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False


def load(path: str | Path) -> CollectorConfig:
    config = load_model(path, CollectorConfig)
    base = Path(path).resolve().parent
    update: dict[str, object] = {}
    if config.database.startswith("sqlite:///") and not config.database.startswith("sqlite:////"):
        update["database"] = f"sqlite:///{base / config.database.removeprefix('sqlite:///')}"
    if config.tls is not None:
        update["tls"] = config.tls.model_copy(
            update={name: base / value for name, value in config.tls if isinstance(value, Path)}
        )
    if any(sink.ca is not None and not sink.ca.is_absolute() for sink in config.sinks):
        update["sinks"] = tuple(
            sink.model_copy(update={"ca": base / sink.ca}) if sink.ca is not None else sink for sink in config.sinks
        )
    if config.checks.overrides is not None:
        update["checks"] = config.checks.model_copy(update={"overrides": base / config.checks.overrides})
    return config.model_copy(update=update)
