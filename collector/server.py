"""Assemble and run the collector: store, ingest, gRPC server; metric sinks and /metrics beside them."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import grpc
from sqlalchemy import Engine

from agent import logsetup
from collector.config import CollectorConfig
from collector.gateway import Gateway
from collector.ingest import Ingest
from collector.runs import records as runs_records
from collector.runs.dispatch import RunDispatcher
from collector.store import database, registry

if TYPE_CHECKING:
    from collector.checks.service import CheckService
    from collector.metrics_endpoint import CollectorMetrics
    from collector.notify.service import Notifications
    from collector.sinks.runner import SinkRunner

log = logging.getLogger("vigil.collector")


def server_credentials(config: CollectorConfig) -> grpc.ServerCredentials | None:
    tls = config.tls
    if tls is None:
        return None
    return grpc.ssl_server_credentials(
        [(tls.key.read_bytes(), tls.cert.read_bytes())],
        root_certificates=tls.client_ca.read_bytes() if tls.client_ca else None,
        require_client_auth=tls.client_ca is not None,
    )


def server_options(config: CollectorConfig) -> list[tuple[str, int]]:
    return [
        ("grpc.max_receive_message_length", config.max_message_bytes),
        ("grpc.max_send_message_length", 4 * 1024 * 1024),
        # Agents ping every 30 s by default; let them, and ping back to find dead peers.
        ("grpc.keepalive_time_ms", 60_000),
        ("grpc.keepalive_timeout_ms", 20_000),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.min_recv_ping_interval_without_data_ms", 5_000),
        ("grpc.http2.max_ping_strikes", 0),
    ]


async def serve(config: CollectorConfig, stop: asyncio.Event, ready_file: Path | None = None) -> None:
    engine = database.connect(config.database)
    await asyncio.to_thread(database.upgrade, engine)
    await asyncio.to_thread(registry.all_disconnected, engine)
    await asyncio.to_thread(runs_records.end_active, engine, "the collector restarted during the run")
    ingest = Ingest(
        engine,
        rollup_interval_s=config.rollup_interval,
        raw_retention_ms=int(config.retention.raw * 1000),
        rollup_retention_ms=int(config.retention.rollups * 1000),
    )
    credentials = server_credentials(config)
    gateway = Gateway(
        ingest,
        config.collector_id,
        require_identity=config.tls is not None and config.tls.client_ca is not None,
        heartbeat_interval_s=int(config.heartbeat_interval),
        max_message_bytes=config.max_message_bytes,
    )
    server = grpc.aio.server(options=server_options(config))
    server.add_generic_rpc_handlers([gateway.handler()])
    if credentials is None:
        port = server.add_insecure_port(config.listen)
    else:
        port = server.add_secure_port(config.listen, credentials)
    if port == 0:
        raise OSError(f"cannot listen on {config.listen} (address in use?)")
    extras = await _start_extras(config, engine, ingest, gateway)
    writer = asyncio.create_task(ingest.run(), name="ingest")
    await server.start()
    host = config.listen.rpartition(":")[0]
    mode = "mutual TLS" if gateway.require_identity else ("TLS" if credentials else "PLAIN TEXT")
    log.info("collector %s listening on %s:%d (%s), store %s", config.collector_id, host, port, mode, _safe_url(config.database))
    if ready_file is not None:
        tmp = ready_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"port": port, "pid": os.getpid(), "metrics_port": extras.metrics_port}))
        tmp.replace(ready_file)
    try:
        await stop.wait()
    finally:
        log.info("stopping: closing agent streams")
        await server.stop(grace=3)
        writer.cancel()
        await asyncio.gather(writer, return_exceptions=True)
        await extras.stop()
        await ingest.roll_up_all()
        ingest.close()
        engine.dispose()
        log.info(
            "stopped: %d points in %d batches stored in %d transactions, %d duplicates dropped",
            ingest.points_stored, ingest.batches_stored, ingest.transactions, ingest.duplicates,
        )


# ---------------------------------------------------------------- beside ingest: metric sinks, /metrics
# Each sink follows the store on its own task and threads (collector/sinks/); ingest
# and the agents' acks never wait for one. Later components (the check engine) start here too.


@dataclass
class Extras:
    checks: CheckService | None = None
    notifications: Notifications | None = None   # notices → mail/webhooks, the SLA sweep (collector/notify)
    sinks: list[SinkRunner] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    metrics: CollectorMetrics | None = None
    metrics_port: int | None = None

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for runner in self.sinks:
            await asyncio.to_thread(runner.close)
        if self.metrics is not None:
            self.metrics.stop()
        if self.checks is not None:
            await asyncio.to_thread(self.checks.stop)
        if self.notifications is not None:
            await asyncio.to_thread(self.notifications.stop)


async def _start_extras(config: CollectorConfig, engine: Engine, ingest: Ingest, gateway: Gateway) -> Extras:
    from collector import sinks
    from collector.sinks.outbox import forget_unconfigured
    from collector.sinks.runner import SinkRunner

    extras = Extras()
    if config.notify.enabled:
        from collector.notify.service import Notifications

        extras.notifications = Notifications(engine, config)
        extras.notifications.start()
    gateway.runs = RunDispatcher(engine, gateway.links)
    extras.tasks.append(asyncio.create_task(gateway.runs.run(), name="playbook-runs"))
    from collector.inspections import schedule

    if (inspections := schedule.start(engine, config)) is not None:
        extras.tasks.append(inspections)
    if config.checks.enabled:
        extras.checks = await asyncio.to_thread(_check_service, config, engine, extras.notifications)
        ingest.listeners.append(extras.checks.offer)
        extras.checks.start()
    forgotten = await asyncio.to_thread(forget_unconfigured, engine, [s.name for s in config.sinks])
    for name in forgotten:
        log.warning("sink %s is no longer configured: forgot its cursor (it no longer holds raw points back)", name)
    for sink_config in config.sinks:
        logsetup.register_secret(sink_config.token.get_secret_value())
        runner = SinkRunner(
            engine, sinks.build(sink_config),
            batch_points=sink_config.batch_points,
            flush_interval_s=sink_config.flush_interval,
            max_retry_interval_s=sink_config.max_retry_interval,
        )
        extras.sinks.append(runner)
        extras.tasks.append(asyncio.create_task(runner.run(), name=f"sink-{sink_config.name}"))
    if config.metrics_listen:
        from collector.metrics_endpoint import CollectorMetrics

        extras.metrics = CollectorMetrics()
        extras.metrics.watch(ingest, gateway, extras.sinks, extras.checks)
        try:
            extras.metrics_port = extras.metrics.start(config.metrics_listen)
        except OSError as exc:
            await extras.stop()
            raise OSError(f"cannot serve /metrics on {config.metrics_listen}: {exc.strerror or exc}") from None
        log.info("metrics for Prometheus on http://%s:%d/metrics", config.metrics_listen.rpartition(":")[0], extras.metrics_port)
    return extras


def _check_service(config: CollectorConfig, engine: Engine, notifications: Notifications | None = None) -> CheckService:
    """The check engine over the shipped library, with the thresholds of `checks.overrides` (if any)."""
    import checks
    from checks.overrides import Overrides
    from collector.checks.service import CheckService
    from collector.runs.autodiagnosis import AutoDiagnosis, fan_out
    from playbooks.library import load as playbook_library

    library = checks.library()
    overrides = Overrides.load(config.checks.overrides) if config.checks.overrides else Overrides()
    service = CheckService(
        engine, library,
        settings=lambda check, device, device_id, labels: overrides.effective(check, device.customer, device.site, device_id, labels),
        # The diagnosis is queued first, so the opening notice can wait for its findings.
        notify=fan_out(AutoDiagnosis(engine, playbook_library()).on_notice,
                       notifications.wake if notifications is not None else None),
    )
    log.info("checks: %d in the library%s", len(library), f", overrides from {config.checks.overrides}" if config.checks.overrides else "")
    return service


def _safe_url(url: str) -> str:
    """The database URL without its password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
