"""Operations: Prometheus metrics and operational monitoring — one structured JSON log line per
exchanged message with who called what, the outcome, sizes and durations, never payloads."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import Metric

from zistboom.core import exchange as xr
from zistboom.gateway.limits import Listener

operational = logging.getLogger("zistboom.gateway.operational")


class Monitor:
    """Per-gateway metrics registry and the operational record of each message."""

    def __init__(self, gateway_id: str, *, operational_log: bool = True) -> None:
        self.gateway_id = gateway_id
        self.operational_log = operational_log
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "zistboom_gateway_requests",
            "Messages handled, by side (client or server) and outcome",
            ("side", "outcome"),
            registry=self.registry,
        )
        self.duration = Histogram(
            "zistboom_gateway_request_seconds",
            "Time from receiving a message to answering it",
            ("side",),
            buckets=(0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.unstamped = Gauge(
            "zistboom_messagelog_oldest_unstamped_seconds",
            "Age of the oldest message-log record not yet timestamped",
            registry=self.registry,
        )
        self.conf_age = Gauge(
            "zistboom_global_conf_seconds_to_expiry",
            "Seconds until the held global configuration expires",
            registry=self.registry,
        )

    def watch_limits(self, listeners: Sequence[Listener]) -> None:
        """Expose the listeners' connections, refusals and the body budget (read when scraped:
        nothing is added to the message path)."""
        self.registry.register(LimitsCollector(listeners))

    def record(
        self,
        side: str,
        error_type: str | None,
        started: float,
        request: web.Request,
        response: web.Response,
    ) -> None:
        elapsed = time.perf_counter() - started
        outcome = error_type or response.headers.get(xr.X_ROAD_ERROR) or "ok"
        self.requests.labels(side, outcome).inc()
        self.duration.labels(side).observe(elapsed)
        if self.operational_log and operational.isEnabledFor(logging.INFO):
            operational.info(
                {
                    "gateway": self.gateway_id,
                    "side": side,
                    "message_id": response.headers.get(xr.X_ROAD_ID),
                    "client": request.headers.get(xr.X_ROAD_CLIENT),
                    "method": request.method,
                    "target": request.rel_url.raw_path[:300],
                    "status": response.status,
                    "outcome": outcome,
                    "request_bytes": request.content_length or 0,
                    "response_bytes": response.content_length or 0,
                    "duration_ms": round(elapsed * 1000, 3),
                }
            )

    async def metrics(self, _request: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(self.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )


class LimitsCollector:
    """The resource limits' counters (gateway/limits.py) as Prometheus metrics."""

    def __init__(self, listeners: Sequence[Listener]) -> None:
        self.listeners = listeners

    def collect(self) -> Iterator[Metric]:
        budget = self.listeners[0].budget
        yield GaugeMetricFamily(
            "zistboom_gateway_body_bytes_in_flight",
            "Bytes of request bodies held now (reserved in the body budget), both ports",
            value=budget.in_flight,
        )
        yield GaugeMetricFamily(
            "zistboom_gateway_body_bytes_in_flight_peak",
            "The most bytes of request bodies held at once since the gateway started",
            value=budget.peak,
        )
        yield GaugeMetricFamily(
            "zistboom_gateway_body_budget_bytes",
            "The body budget: bytes of request bodies the gateway holds at most",
            value=budget.limit,
        )
        connections = GaugeMetricFamily(
            "zistboom_gateway_connections",
            "Connections held now, by listener (client or peer port)",
            labels=("listener",),
        )
        refusals = CounterMetricFamily(
            "zistboom_gateway_refusals",
            "Connections and requests refused by a resource limit, by listener and reason "
            "(connections: the cap; body_budget: 503 Busy; body_timeout: 408)",
            labels=("listener", "reason"),
        )
        for listener in self.listeners:
            connections.add_metric((listener.name,), listener.connections)
            refusals.add_metric((listener.name, "connections"), listener.refused_connections)
            refusals.add_metric((listener.name, "body_budget"), listener.refused_bodies)
            refusals.add_metric((listener.name, "body_timeout"), listener.body_timeouts)
        yield connections
        yield refusals
