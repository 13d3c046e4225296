"""The collector's own health as Prometheus metrics on `/metrics` (prometheus-client).

Off unless `metrics_listen` is set (e.g. `127.0.0.1:9464`). Values are read
from the running objects when Prometheus scrapes — ingest's counters, the
gateway's open streams, each sink runner's counts and its last store status
— so nothing on the ingest path pays for them. The server is
prometheus-client's WSGI server on a daemon thread of its own.

The check engine's figures (points evaluated, time spent, findings, batches
it fell behind on) come from its service in the same way.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, start_wsgi_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from collector.checks.service import CheckService
    from collector.gateway import Gateway
    from collector.ingest import Ingest
    from collector.sinks.runner import SinkRunner


class _Ingest(Collector):
    def __init__(self, ingest: Ingest, gateway: Gateway | None) -> None:
        self.ingest = ingest
        self.gateway = gateway

    def collect(self) -> Iterable[CounterMetricFamily | GaugeMetricFamily]:
        ingest = self.ingest
        yield CounterMetricFamily("vigil_collector_points_stored", "Points stored (committed) since start", value=ingest.points_stored)
        yield CounterMetricFamily("vigil_collector_batches_stored", "Agent batches stored since start", value=ingest.batches_stored)
        yield CounterMetricFamily("vigil_collector_duplicate_batches", "Resent batches dropped as already stored", value=ingest.duplicates)
        yield CounterMetricFamily("vigil_collector_store_transactions", "Store transactions committed by ingest", value=ingest.transactions)
        queue = getattr(ingest, "_queue", None)  # asyncio.Queue; qsize() is a len() and safe to read here
        if queue is not None:
            yield GaugeMetricFamily("vigil_collector_ingest_queue_batches", "Batches waiting for the store", value=queue.qsize())
        if self.gateway is not None:
            yield GaugeMetricFamily("vigil_collector_agents_connected", "Agent streams open now", value=len(self.gateway.streams))


class _Sinks(Collector):
    def __init__(self, runners: Sequence[SinkRunner]) -> None:
        self.runners = runners

    def collect(self) -> Iterable[CounterMetricFamily | GaugeMetricFamily]:
        now_ms = int(time.time() * 1000)
        families = {
            "sent": CounterMetricFamily("vigil_sink_points_sent", "Points (and events) the server took, since start", labels=["sink"]),
            "requests": CounterMetricFamily("vigil_sink_requests", "Write requests the server took, since start", labels=["sink"]),
            "retries": CounterMetricFamily("vigil_sink_retries", "Failed write attempts that will be retried", labels=["sink"]),
            "skipped": CounterMetricFamily("vigil_sink_skipped_points", "Points the sink cannot represent (NaN, ±Inf)", labels=["sink"]),
            "lag": GaugeMetricFamily("vigil_sink_lag_seconds", "How long the oldest unsent point has waited since it was stored", labels=["sink"]),
            "unsent": GaugeMetricFamily("vigil_sink_unsent_points", "Stored points the sink has not sent yet", labels=["sink"]),
            "dead": GaugeMetricFamily("vigil_sink_dead_letter_points", "Points the sink gave up on (in sink_dead_letters)", labels=["sink"]),
            "success": GaugeMetricFamily("vigil_sink_last_success_timestamp_seconds", "When the server last took a request", labels=["sink"]),
            "failing": GaugeMetricFamily("vigil_sink_failing", "1 while the sink's last attempt failed", labels=["sink"]),
        }
        for runner in self.runners:
            name = [runner.name]
            families["sent"].add_metric(name, runner.points_sent)
            families["requests"].add_metric(name, runner.requests_sent)
            families["retries"].add_metric(name, runner.retries)
            families["skipped"].add_metric(name, runner.skipped)
            families["success"].add_metric(name, runner.last_success_ms / 1000)
            families["failing"].add_metric(name, 1.0 if runner.last_error else 0.0)
            if runner.status is not None:  # refreshed from the store every few seconds
                families["lag"].add_metric(name, runner.status.lag_seconds(now_ms))
                families["unsent"].add_metric(name, runner.status.unsent_points)
                families["dead"].add_metric(name, runner.status.dead_letter_points)
        yield from families.values()


class _Checks(Collector):
    def __init__(self, service: CheckService) -> None:
        self.service = service

    def collect(self) -> Iterable[CounterMetricFamily | GaugeMetricFamily]:
        service = self.service
        yield CounterMetricFamily("vigil_check_points_evaluated", "Stored points the check engine has judged", value=service.engine.points_evaluated)
        yield CounterMetricFamily("vigil_check_batches_evaluated", "Stored batches the check engine has judged", value=service.batches_evaluated)
        yield CounterMetricFamily("vigil_check_evaluation_seconds", "Time spent judging batches (divide by batches for the mean)", value=service.evaluation_seconds)
        yield CounterMetricFamily("vigil_check_findings", "Checks that fired or resolved", value=service.findings)
        yield CounterMetricFamily("vigil_check_batches_skipped", "Batches not judged because the engine was behind", value=service.dropped_batches)
        yield GaugeMetricFamily("vigil_check_queue_batches", "Stored batches waiting to be judged", value=service.queued)


class CollectorMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self._server = None
        self._thread = None
        self.port = 0

    def watch(self, ingest: Ingest, gateway: Gateway | None, runners: Sequence[SinkRunner],
              checks: CheckService | None = None) -> None:
        self.registry.register(_Ingest(ingest, gateway))
        if runners:
            self.registry.register(_Sinks(runners))
        if checks is not None:
            self.registry.register(_Checks(checks))

    def start(self, listen: str) -> int:
        """Serve `/metrics` on `host:port` (port 0: any free one); returns the port."""
        host, _, port = listen.rpartition(":")
        self._server, self._thread = start_wsgi_server(int(port), addr=host.strip("[]"), registry=self.registry)
        self.port = int(self._server.server_port)
        return self.port

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
