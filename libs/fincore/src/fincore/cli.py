"""The command line every service shares: `finance-<svc> api | relay | consume | migrate`.

This is part of each service's main: the only place that reads the environment and sets up
the OpenTelemetry SDK.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import click
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_exponential

from fincore.db import Database, migrate
from fincore.metrics import Sampler, dead_letter_sampler, run_samplers, serve_metrics, watch_pool
from fincore.settings import ServiceSettings
from fincore.telemetry import configure_telemetry, shutdown_telemetry

log = logging.getLogger(__name__)


def setup_logging() -> None:
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("aiokafka", "alembic.runtime.plugins"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


# The youngest generation is collected every this many allocations (CPython's default: 700).
# A consumer's batch makes tens of thousands of short-lived objects (drafts, rows, messages)
# that reference counting frees; at 700 the collector walked them ~50 times per 1,000 events
# (~5% of the GL consumer's drafting and row building, measured in bench/README.md).
YOUNG_GC_THRESHOLD = 20_000


def freeze_startup_objects() -> None:
    """Move what start-up loaded (modules, rule books, charts, compiled statements: ~200,000
    objects) out of the garbage collector's walks: each full collection otherwise walks all of
    them again, which cost the GL consumer ~35 us per event (one full collection per ~3,000
    events, 0.1 s each). Objects made later are collected as before, the youngest generation
    every YOUNG_GC_THRESHOLD allocations."""
    import gc

    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GC_THRESHOLD, older, oldest)


def run_loop(main: Awaitable[None]) -> None:
    """asyncio.run on uvloop (libuv's event loop: less per-wakeup cost for every database and
    broker round trip; uvicorn picks it up by itself), the standard loop where it is absent."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - e.g. Windows
        asyncio.run(main)
    else:
        uvloop.run(main)


async def run_until_signalled(main: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await main(stop)


async def with_start_retries(start: Callable[[], Awaitable[Any]], what: str) -> None:
    """Kafka or the database may come up after us (Kubernetes starts pods in any order)."""
    async for attempt in AsyncRetrying(stop=stop_after_delay(120), wait=wait_exponential(max=5),
                                       retry=retry_if_exception_type(Exception), reraise=True):
        with attempt:
            if attempt.retry_state.attempt_number > 1:
                log.info("%s: retrying start (attempt %d)", what, attempt.retry_state.attempt_number)
            await start()


METRICS_PORT_OFFSET = {"relay": 1000, "consume": 2000, "grpc": 3000}


def metrics_port(settings: ServiceSettings, command: str) -> int:
    return settings.metrics_port or settings.http_port + METRICS_PORT_OFFSET[command]


async def with_metrics(settings: ServiceSettings, command: str, stop: asyncio.Event,
                       samplers: list[Sampler], work: Callable[[], Awaitable[None]]) -> None:
    """Run `work` beside the metrics/health server and the gauge samplers; stop both after it."""
    side_stop = asyncio.Event()
    side = [asyncio.create_task(serve_metrics(host=settings.http_host, port=metrics_port(settings, command),
                                              stall_after_s=settings.stall_after_s, stop=side_stop))]
    if samplers:
        side.append(asyncio.create_task(run_samplers(samplers, side_stop)))
    try:
        await work()
    finally:
        side_stop.set()
        await asyncio.gather(*side, return_exceptions=True)


def service_cli(
    *,
    settings_factory: Callable[[], ServiceSettings],
    name: str,
    migrations_dir: Path,
    create_app: Callable[[ServiceSettings], Any],
    build_consumers: Callable[[ServiceSettings, Database], list] | None = None,
    has_outbox: bool = True,
    grpc_register: Callable[[ServiceSettings, Database], Callable] | None = None,
    samplers: Callable[[ServiceSettings, Database], list[Sampler]] | None = None,
) -> click.Group:
    """`samplers` refresh the service's own database gauges (e.g. the GL's parked events); the
    relay process runs them, as every service with an outbox runs one."""
    @click.group(help=f"Run the {name} service's processes.")
    def cli() -> None:
        setup_logging()

    @cli.command(help="Apply database migrations (Alembic) up to head.")
    @click.option("--check", is_flag=True,
                  help="Change nothing; exit 1 unless the database is at head (pods wait on it before starting).")
    def migrate_cmd(check: bool) -> None:
        settings = settings_factory()
        url = settings.resolved_database_url()
        if check:
            from fincore.db import at_head

            if not at_head(migrations_dir, url):
                raise click.ClickException(f"{settings.service_name}: database not migrated to head")
            click.echo(f"{settings.service_name}: database at head")
            return
        migrate(migrations_dir, url)
        click.echo(f"{settings.service_name}: database migrated")

    migrate_cmd.name = "migrate"

    @cli.command(help="Serve the HTTP API.")
    @click.option("--host", default=None)
    @click.option("--port", type=int, default=None)
    def api(host: str | None, port: int | None) -> None:
        import uvicorn

        settings = settings_factory()
        configure_telemetry(settings.service_name, "api")
        app = create_app(settings)
        freeze_startup_objects()
        try:
            uvicorn.run(app, host=host or settings.http_host, port=port or settings.http_port,
                        log_level="warning", access_log=False)
        finally:
            shutdown_telemetry()

    if has_outbox:

        @cli.command(help="Publish the outbox to Kafka (run one or more).")
        def relay() -> None:
            from fincore.outbox.relay import OutboxRelay

            settings = settings_factory()
            configure_telemetry(settings.service_name, "relay")

            async def main(stop: asyncio.Event) -> None:
                db = Database.for_settings(settings)
                watch_pool(settings.service_name, db.engine)
                relay = OutboxRelay(db, settings)
                freeze_startup_objects()

                async def work() -> None:
                    await with_start_retries(relay.start, "outbox relay")
                    log.info("%s outbox relay publishing to %s", settings.service_name,
                             settings.kafka_bootstrap_servers)
                    await relay.run(stop)

                extra = samplers(settings, db) if samplers else []
                if build_consumers is not None:
                    extra.append(dead_letter_sampler(db))
                try:
                    await with_metrics(settings, "relay", stop, [relay.sample, *extra], work)
                finally:
                    await relay.stop()
                    await db.dispose()

            try:
                run_loop(run_until_signalled(main))
            finally:
                shutdown_telemetry()

    if build_consumers is not None:

        @cli.command(help="Consume events (idempotent inbox, DLQ on failure).")
        def consume() -> None:
            settings = settings_factory()
            configure_telemetry(settings.service_name, "consume")

            async def main(stop: asyncio.Event) -> None:
                db = Database.for_settings(settings)
                watch_pool(settings.service_name, db.engine)
                consumers = build_consumers(settings, db)
                freeze_startup_objects()

                async def work() -> None:
                    for c in consumers:
                        await with_start_retries(c.start, c.name)
                        log.info("consumer %s reading %s", c.name, c.topics)
                    await asyncio.gather(*(c.run(stop) for c in consumers))

                try:
                    await with_metrics(settings, "consume", stop, [], work)
                finally:
                    for c in consumers:
                        await c.stop()
                    await db.dispose()

            try:
                run_loop(run_until_signalled(main))
            finally:
                shutdown_telemetry()

    if grpc_register is not None:

        @cli.command("grpc", help="Serve the gRPC API (health and reflection included).")
        @click.option("--port", type=int, default=None)
        def grpc_cmd(port: int | None) -> None:
            from fincore.grpc_server import serve

            settings = settings_factory()
            configure_telemetry(settings.service_name, "grpc")

            async def main(stop: asyncio.Event) -> None:
                db = Database.for_settings(settings)
                watch_pool(settings.service_name, db.engine)
                freeze_startup_objects()

                async def work() -> None:
                    await serve(host=settings.http_host, port=port or settings.grpc_port,
                                register=grpc_register(settings, db), stop=stop)

                try:
                    await with_metrics(settings, "grpc", stop, [], work)
                finally:
                    await db.dispose()

            try:
                run_loop(run_until_signalled(main))
            finally:
                shutdown_telemetry()

    return cli
