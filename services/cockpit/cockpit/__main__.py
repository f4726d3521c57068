"""`finance-cockpit api`: the web UI (HTTP 8000). This is the only place that reads the environment."""

from __future__ import annotations

import logging

import click
from fincore.cli import setup_logging
from fincore.telemetry import configure_telemetry, shutdown_telemetry

from cockpit.settings import CockpitSettings


@click.group(help="Run the cockpit (web UI).")
def cli() -> None:
    setup_logging()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per API call is noise here


@cli.command(help="Serve the web UI.")
@click.option("--host", default=None)
@click.option("--port", type=int, default=None)
def api(host: str | None, port: int | None) -> None:
    import uvicorn

    from cockpit.bootstrap import create_app

    settings = CockpitSettings()
    configure_telemetry(settings.service_name, "api")
    app = create_app(settings)
    try:
        uvicorn.run(app, host=host or settings.http_host, port=port or settings.http_port, log_level="warning",
                    access_log=False)
    finally:
        shutdown_telemetry()


if __name__ == "__main__":
    cli()
