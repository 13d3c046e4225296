"""The collector's configuration file, validated like the agent's (file:line: field: problem)."""

from __future__ import annotations

import datetime as dt
import email.utils
import ipaddress
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from agent.configfile import Bounds, Check, Duration, Size, load_model
from checks.spec import Severity

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


# ---------------------------------------------------------------- mail, notifications, SLA (collector/mail, notify, sla)


def _address(value: str) -> str:
    """An e-mail address, bare or with a display name ("Vigil NOC <noc@example.com>")."""
    address = email.utils.parseaddr(value)[1]
    if not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+", address):
        raise ValueError(f"{value!r} is not an e-mail address")
    return value


Address = Annotated[str, Check(_address)]


class SmtpConfig(Strict):
    """The mail server every mail of the collector goes through (notifications, escalations, reports).

    `password` is a secret: masked in the log, never stored with an error.
    """

    host: str
    port: Annotated[int, Bounds(ge=1, le=65535)] = 587
    security: Literal["starttls", "ssl", "none"] = "starttls"   # ssl: implicit TLS (usually port 465)
    username: str = ""
    password: SecretStr = SecretStr("")
    sender: Address                                              # From:, e.g. "Vigil NOC <noc@example.com>"
    timeout: Annotated[float, Duration, Bounds(ge=0.1)] = 30.0   # per SMTP command
    ca: Path | None = None              # CA bundle for a server with a private or self-signed certificate
    verify_tls: bool = True
    retry_initial: Annotated[float, Duration, Bounds(ge=0.01)] = 30.0    # first backoff; doubles per failure
    retry_max: Annotated[float, Duration, Bounds(ge=0.01)] = 1800.0      # the backoff's cap
    give_up_after: Annotated[float, Duration, Bounds(ge=1)] = 2 * 86400.0  # from enqueue; then the delivery is failed
    poll_interval: Annotated[float, Duration, Bounds(ge=0.05)] = 5.0     # looks for due mail this often (and on enqueue)

    @model_validator(mode="after")
    def _credentials(self) -> SmtpConfig:
        if self.password.get_secret_value() and not self.username:
            raise ValueError("a password without a username: set smtp.username too")
        if self.username and self.security == "none" and self.host not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError("security: none would send the SMTP password in clear text; use starttls or ssl")
        return self


class BusinessCalendar(Strict):
    """Contract time that counts only within these hours (the customer's time zone), minus holidays."""

    timezone: str = "Asia/Shanghai"
    hours: tuple[str, ...] = ("mon-fri 09:00-18:00",)
    holidays: tuple[dt.date, ...] = ()      # e.g. 2026-10-01
    workdays: tuple[dt.date, ...] = ()      # make-up working days (调休) on a weekend: Monday's hours

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from collector.sla.calendar import zone

        zone(value)
        return value

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from collector.sla.calendar import parse_hours

        if not value:
            raise ValueError("give at least one range, e.g. 'mon-fri 09:00-18:00'")
        for text in value:
            parse_hours(text)
        return value


def _share(value: object) -> object:
    """0.75 or "75%"."""
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            return float(value.strip()[:-1]) / 100
        except ValueError:
            raise ValueError(f"{value!r} is not a percentage") from None
    return value


Share = Annotated[float, Check(_share, before=True), Bounds(ge=0.01, le=10)]


class SlaPolicy(Strict):
    """The contract's promises for one customer: response (acknowledged) and resolution plan, in contract time."""

    response: Annotated[float, Duration, Bounds(ge=60)] = 2 * 3600.0
    plan: Annotated[float, Duration, Bounds(ge=60)] = 48 * 3600.0
    severities: tuple[Severity, ...] = ("major", "critical")     # incidents the targets apply to
    # Each share of a target reached notifies the next level of the escalation chain;
    # the first share under 100 % is "at risk", 100 % is the breach.
    escalate_at: tuple[Share, ...] = (0.75, 1.0)
    calendar: Literal["24x7"] | BusinessCalendar = "24x7"

    @field_validator("escalate_at")
    @classmethod
    def _increasing(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if list(value) != sorted(set(value)):
            raise ValueError("list the shares once each, smallest first (e.g. [75%, 100%])")
        return value

    def build_calendar(self):  # type: ignore[no-untyped-def]  # -> collector.sla.calendar.Calendar
        from collector.sla.calendar import Always, BusinessHours

        if self.calendar == "24x7":
            return Always()
        c = self.calendar
        return BusinessHours.parse(c.timezone, c.hours, c.holidays, c.workdays)


def _levels(value: object) -> object:
    """Each level of an escalation chain is a list of addresses; one address alone is a level of one."""
    if isinstance(value, (list, tuple)):
        return tuple((entry,) if isinstance(entry, str) else entry for entry in value)
    return value


def _webhook_url(value: SecretStr) -> SecretStr:
    # The URL often carries the chat tool's token: never repeat it in an error.
    if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value.get_secret_value()):
        raise ValueError("not an http:// or https:// URL")
    return value


class CustomerConfig(Strict):
    """Who hears about one customer's incidents, in which language, and the customer's SLA.

    Keys of `customers:` are the customer names agents report; `"*"` applies
    to customers not listed.
    """

    language: Literal["zh", "en", "both"] = "both"
    on_call: tuple[Address, ...] = ()           # the provider's on-call engineers: every incident notice
    contacts: tuple[Address, ...] = ()          # the customer's own people: from contacts_min_severity up
    contacts_min_severity: Severity = "critical"
    min_severity: Severity = "warning"          # below it nobody is notified (the incident is still recorded)
    webhook: Annotated[SecretStr, Check(_webhook_url)] | None = None   # chat tool; a secret (it holds its token)
    webhook_format: Literal["vigil", "slack", "wecom", "dingtalk", "feishu"] = "vigil"
    escalation: Annotated[tuple[tuple[Address, ...], ...], Check(_levels, before=True)] = ()   # level 1 first
    sla: SlaPolicy = Field(default_factory=SlaPolicy)


class NotifyConfig(Strict):
    """The notification service: routes pending incident notices to mail and webhooks; sweeps the SLA clocks."""

    enabled: bool = True
    incident_url: str | None = None     # a link in every notice, e.g. https://noc.example.com/incidents/{id}
    poll_interval: Annotated[float, Duration, Bounds(ge=0.05)] = 2.0
    sla_sweep_interval: Annotated[float, Duration, Bounds(ge=0.05)] = 60.0
    # An opening notice waits this long at most for the incident's auto-diagnosis (playbook run) to finish,
    # so the first mail carries the device's answers; 0: never wait.
    diagnosis_wait: Annotated[float, Duration] = 60.0
    webhook_timeout: Annotated[float, Duration, Bounds(ge=0.1)] = 10.0
    webhook_retry_initial: Annotated[float, Duration, Bounds(ge=0.01)] = 30.0
    webhook_retry_max: Annotated[float, Duration, Bounds(ge=0.01)] = 1800.0
    webhook_give_up_after: Annotated[float, Duration, Bounds(ge=1)] = 86400.0

    @field_validator("incident_url")
    @classmethod
    def _link(cls, value: str | None) -> str | None:
        if value is not None:
            _http_url(value.replace("{id}", "0"))
        return value


def _cron(value: str) -> str:
    from croniter import croniter

    if not croniter.is_valid(value):
        raise ValueError(f"{value!r} is not a cron expression (minute hour day-of-month month day-of-week, e.g. '0 8 1 * *')")
    return value


def _time_zone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not a time zone name (e.g. Asia/Shanghai, UTC)") from None
    return value


class InspectionSchedule(Strict):
    """When a customer's inspection runs and which period it covers: the last complete one before the due time."""

    name: Annotated[str, Check(_sink_name)] = "monthly"
    cron: Annotated[str, Check(_cron)] = "0 8 1 * *"          # at 08:00 on the 1st of every month
    timezone: Annotated[str, Check(_time_zone)] | None = None  # of the cron and the period; default: the customer's
    period: Literal["month", "week", "day"] = "month"
    send: bool = True                                          # mail the report to the customer's contacts


class CustomerInspections(Strict):
    """One customer's inspection reports: when they run, in which languages, and who gets them.

    `customer` is the customer name the agents announce (agent.customer).
    The report goes to `recipients`, else to the customer's `contacts` (`customers:` above).
    """

    customer: str
    display_name: str = ""                       # on the report's cover; default: `customer`
    languages: tuple[Literal["zh", "en"], ...] = ("zh",)   # one report per language; the first is the mail's
    recipients: tuple[Address, ...] = ()
    timezone: Annotated[str, Check(_time_zone)] = "Asia/Shanghai"
    sites: tuple[str, ...] = ()                  # only these sites; empty: every site of the customer
    schedules: tuple[InspectionSchedule, ...] = ()

    @field_validator("schedules")
    @classmethod
    def _unique_schedules(cls, schedules: tuple[InspectionSchedule, ...]) -> tuple[InspectionSchedule, ...]:
        names = [s.name for s in schedules]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"schedule name {name!r} is used twice: each due time is claimed by its name")
        return schedules


class Inspections(Strict):
    """Periodic inspections (collector/inspections/) and their reports (collector/reports/)."""

    enabled: bool = True
    provider: str = "Vigil"                      # the service provider named on every report
    report_prefix: Annotated[str, Check(_sink_name)] = "VGL"   # report numbers: PREFIX-YYYYMM-NNNNN
    output_dir: Path | None = None               # also write every report here (PDF and HTML)
    check_interval: Annotated[float, Duration, Bounds(ge=1)] = 60.0   # how often due schedules are looked for
    customers: tuple[CustomerInspections, ...] = ()

    @field_validator("customers")
    @classmethod
    def _unique_customers(cls, customers: tuple[CustomerInspections, ...]) -> tuple[CustomerInspections, ...]:
        names = [c.customer for c in customers]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"customer {name!r} is listed twice")
        return customers

    def customer(self, name: str) -> CustomerInspections | None:
        return next((c for c in self.customers if c.customer == name), None)


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
    inspections: Inspections = Field(default_factory=Inspections)
    # Mail (collector/mail), incident notifications and SLA (collector/notify, collector/sla): see README "Notifications".
    smtp: SmtpConfig | None = None
    notify: NotifyConfig = Field(default_factory=NotifyConfig)
    customers: dict[str, CustomerConfig] = Field(default_factory=dict)

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

    def customer(self, name: str) -> CustomerConfig:
        """The routes and SLA of customer `name`: its own entry, else `"*"`, else the defaults."""
        return self.customers.get(name) or self.customers.get("*") or CustomerConfig()

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
    if config.smtp is not None and config.smtp.ca is not None and not config.smtp.ca.is_absolute():
        update["smtp"] = config.smtp.model_copy(update={"ca": base / config.smtp.ca})
    if config.inspections.output_dir is not None and not config.inspections.output_dir.is_absolute():
        update["inspections"] = config.inspections.model_copy(update={"output_dir": base / config.inspections.output_dir})
    return config.model_copy(update=update)
