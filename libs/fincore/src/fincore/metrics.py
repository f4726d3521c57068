"""Metrics and health for the processes that serve no HTTP API (relay, consumer, gRPC).

Why this exists: Prometheus scrapes every process, and Kubernetes must be able to restart a
relay or a consumer that is alive but no longer making progress (a hung broker call, a lock
that is never granted). Each such process runs a small HTTP server on its metrics port:

- `GET /metrics`  Prometheus text (the process's registry);
- `GET /healthz`  200 while every loop of the process beat within `stall_after_s`, 503 once
  one of them is stuck (the liveness probe restarts the pod);
- `GET /readyz`   200 once every loop has started.

Metric names follow the OpenTelemetry semantic conventions as Prometheus spells them
(`db.client.connection.count` -> `db_client_connection_count`, units as suffixes).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import Awaitable, Callable, Iterator

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)


class Heartbeat:
    """A loop that must keep turning: it calls `beat()` on every iteration."""

    _all: weakref.WeakSet[Heartbeat] = weakref.WeakSet()

    def __init__(self, name: str) -> None:
        self.name = name
        self.last: float | None = None
        Heartbeat._all.add(self)

    def beat(self) -> None:
        self.last = time.monotonic()

    def age(self) -> float | None:
        return None if self.last is None else time.monotonic() - self.last

    @classmethod
    def report(cls, stall_after_s: float) -> tuple[bool, bool, dict[str, str]]:
        """-> (alive, started, detail per loop)."""
        alive, started, detail = True, True, {}
        for hb in list(cls._all):
            age = hb.age()
            if age is None:
                started = False
                detail[hb.name] = "not started"
            elif age > stall_after_s:
                alive = False
                detail[hb.name] = f"stuck: no progress for {age:.0f}s (limit {stall_after_s:.0f}s)"
            else:
                detail[hb.name] = f"ok ({age:.1f}s ago)"
        return alive, started, detail


class _PoolCollector(Collector):
    """Connection-pool use of every Database of the process, read at scrape time
    (OTel `db.client.connection.count` by state, and `db.client.connection.max`)."""

    def __init__(self) -> None:
        self.pools: weakref.WeakValueDictionary[str, object] = weakref.WeakValueDictionary()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        count = GaugeMetricFamily("db_client_connection_count", "Database connections by state",
                                  labels=["pool_name", "state"])
        limit = GaugeMetricFamily("db_client_connection_max", "Most connections the pool may open",
                                  labels=["pool_name"])
        for name, engine in list(self.pools.items()):
            pool = engine.pool
            if not hasattr(pool, "checkedout"):
                continue
            used = pool.checkedout()
            count.add_metric([name, "used"], used)
            count.add_metric([name, "idle"], pool.checkedin())
            size = getattr(pool, "size", None)
            overflow = getattr(pool, "_max_overflow", 0)
            if callable(size):
                limit.add_metric([name], size() + max(overflow, 0))
        yield count
        yield limit


_POOLS = _PoolCollector()
REGISTRY.register(_POOLS)


def watch_pool(name: str, engine) -> None:
    """Export the pool of `engine` (an AsyncEngine) as `db_client_connection_*{pool_name=name}`."""
    _POOLS.pools[name] = engine.sync_engine


Sampler = Callable[[], Awaitable[None]]


async def run_samplers(samplers: list[Sampler], stop: asyncio.Event, every_s: float = 5.0) -> None:
    """Refresh gauges that come from the database (outbox age, parked events) every few seconds."""
    while not stop.is_set():
        for sample in samplers:
            try:
                await sample()
            except Exception as exc:  # noqa: BLE001 - a failed sample leaves the last value, never the process
                log.warning("metrics sampler %s failed: %s", getattr(sample, "__name__", sample), exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_s)


def dead_letter_sampler(db) -> Sampler:
    """`dead_letters_pending{consumer}`: dead letters not yet replayed (the DLQ is not empty)."""
    from prometheus_client import Gauge
    from sqlalchemy import func, select

    from fincore.tables import DeadLetter

    global _DLQ_GAUGE
    if _DLQ_GAUGE is None:
        _DLQ_GAUGE = Gauge("dead_letters_pending", "Dead letters not yet replayed", ["consumer"])
    gauge = _DLQ_GAUGE

    async def dead_letters() -> None:
        async with db.sessions() as session:
            rows = (await session.execute(select(DeadLetter.consumer, func.count())
                                          .where(DeadLetter.replayed_at.is_(None))
                                          .group_by(DeadLetter.consumer))).all()
        gauge.clear()
        for consumer, n in rows:
            gauge.labels(consumer).set(n)

    return dead_letters


_DLQ_GAUGE = None


def metrics_app(stall_after_s: float):
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    async def metrics(_request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    async def healthz(_request) -> JSONResponse:
        alive, _, detail = Heartbeat.report(stall_after_s)
        return JSONResponse({"status": "ok" if alive else "stuck", "loops": detail}, status_code=200 if alive else 503)

    async def readyz(_request) -> JSONResponse:
        alive, started, detail = Heartbeat.report(stall_after_s)
        ok = alive and started
        return JSONResponse({"status": "ok" if ok else "unavailable", "loops": detail},
                            status_code=200 if ok else 503)

    return Starlette(routes=[Route("/metrics", metrics), Route("/healthz", healthz), Route("/readyz", readyz)])


async def serve_metrics(*, host: str, port: int, stall_after_s: float, stop: asyncio.Event) -> None:
    """Serve /metrics, /healthz and /readyz on `port` until `stop` is set (in the process's loop)."""
    import uvicorn

    class _Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self):  # the process's own handlers set `stop`; keep them
            yield

    server = _Server(uvicorn.Config(metrics_app(stall_after_s), host=host, port=port, log_level="warning",
                                    access_log=False, lifespan="off"))
    task = asyncio.create_task(server.serve())
    log.info("metrics and health on %s:%d (/metrics, /healthz, /readyz)", host, port)
    try:
        await stop.wait()
    finally:
        server.should_exit = True
        await task


def _grpc_interceptor():
    import grpc
    from prometheus_client import Histogram

    duration = Histogram(
        "rpc_server_call_duration_seconds", "gRPC server call latency (OTel rpc.server.call.duration)",
        ["rpc_system", "rpc_service", "rpc_method", "rpc_grpc_status_code"],
        buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    )

    def code_of(context, default: grpc.StatusCode) -> str:
        code = context.code()
        if code is None:
            code = default
        if isinstance(code, grpc.StatusCode):
            return str(code.value[0])
        return str(int(code))

    from fincore.grpc_server import UnaryWrapper

    class MetricsInterceptor(UnaryWrapper):
        @staticmethod
        def _wrap(handler, full_method: str):
            service, _, method = full_method.lstrip("/").rpartition("/")
            inner = handler.unary_unary

            async def timed(request, context):
                start = time.perf_counter()
                code = "0"
                try:
                    response = await inner(request, context)
                    code = code_of(context, grpc.StatusCode.OK)
                    return response
                except BaseException:
                    code = code_of(context, grpc.StatusCode.UNKNOWN)
                    raise
                finally:
                    duration.labels("grpc", service, method, code).observe(time.perf_counter() - start)

            return grpc.unary_unary_rpc_method_handler(timed, request_deserializer=handler.request_deserializer,
                                                       response_serializer=handler.response_serializer)

    return MetricsInterceptor


_interceptor_class = None


def grpc_metrics_interceptor():
    """A grpc.aio server interceptor timing every unary call by service, method and status code."""
    global _interceptor_class
    if _interceptor_class is None:
        _interceptor_class = _grpc_interceptor()
    return _interceptor_class()
