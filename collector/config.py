"""The collector's configuration file, validated like the agent's (file:line: field: problem)."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from agent.configfile import Duration, Size, load_model


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

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not (port.isascii() and port.isdigit()) or int(port) > 65535:
            raise ValueError(f"{value!r} is not host:port")
        return value

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
    return config.model_copy(update=update)
