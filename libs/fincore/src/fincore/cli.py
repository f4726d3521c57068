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


def service_cli(
    *,
    settings_factory: Callable[[], ServiceSettings],
    name: str,
    migrations_dir: Path,
    create_app: Callable[[ServiceSettings], Any],
    build_consumers: Callable[[ServiceSettings, Database], list] | None = None,
    has_outbox: bool = True,
    grpc_register: Callable[[ServiceSettings, Database], Callable] | None = None,
) -> click.Group:
    @click.group(help=f"Run the {name} service's processes.")
    def cli() -> None:
        setup_logging()

    @cli.command(help="Apply database migrations (Alembic) up to head.")
    def migrate_cmd() -> None:
        settings = settings_factory()
        url = settings.resolved_database_url()
        migrate(migrations_dir, url)
        click.echo(f"{settings.service_name}: database migrated")

    migrate_cmd.name = "migrate"

    @cli.command(help="Serve the HTTP API.")
    @click.option("--host", default=None)
    @click.option("--port", type=int, default=None)
    def api(host: str | None, port: int | None) -> None:
        import uvicorn

        settings = settings_factory()
        configure_telemetry(f"{settings.service_name}")
        app = create_app(settings)
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
            configure_telemetry(f"{settings.service_name}")

            async def main(stop: asyncio.Event) -> None:
                db = Database(settings.resolved_database_url())
                relay = OutboxRelay(db, settings)
                await with_start_retries(relay.start, "outbox relay")
                log.info("%s outbox relay publishing to %s", settings.service_name, settings.kafka_bootstrap_servers)
                try:
                    await relay.run(stop)
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
            configure_telemetry(f"{settings.service_name}")

            async def main(stop: asyncio.Event) -> None:
                db = Database(settings.resolved_database_url())
                consumers = build_consumers(settings, db)
                for c in consumers:
                    await with_start_retries(c.start, c.name)
                    log.info("consumer %s reading %s", c.name, c.topics)
                try:
                    await asyncio.gather(*(c.run(stop) for c in consumers))
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
            configure_telemetry(f"{settings.service_name}")

            async def main(stop: asyncio.Event) -> None:
                db = Database(settings.resolved_database_url())
                import gc

                gc.collect()
                gc.freeze()  # what start-up loaded stays out of the collector's walks (shorter pauses)
                try:
                    await serve(host=settings.http_host, port=port or settings.grpc_port,
                                register=grpc_register(settings, db), stop=stop)
                finally:
                    await db.dispose()

            try:
                run_loop(run_until_signalled(main))
            finally:
                shutdown_telemetry()

    return cli
