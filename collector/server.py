"""Assemble and run the collector: store, ingest, gRPC server."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from pathlib import Path

import grpc

from collector.config import CollectorConfig
from collector.gateway import Gateway
from collector.ingest import Ingest
from collector.store import database, registry

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
    writer = asyncio.create_task(ingest.run(), name="ingest")
    await server.start()
    host = config.listen.rpartition(":")[0]
    mode = "mutual TLS" if gateway.require_identity else ("TLS" if credentials else "PLAIN TEXT")
    log.info("collector %s listening on %s:%d (%s), store %s", config.collector_id, host, port, mode, _safe_url(config.database))
    if ready_file is not None:
        tmp = ready_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"port": port, "pid": os.getpid()}))
        tmp.replace(ready_file)
    try:
        await stop.wait()
    finally:
        log.info("stopping: closing agent streams")
        await server.stop(grace=3)
        writer.cancel()
        await asyncio.gather(writer, return_exceptions=True)
        await ingest.roll_up_all()
        ingest.close()
        engine.dispose()
        log.info(
            "stopped: %d points in %d batches stored in %d transactions, %d duplicates dropped",
            ingest.points_stored, ingest.batches_stored, ingest.transactions, ingest.duplicates,
        )


def _safe_url(url: str) -> str:
    """The database URL without its password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
