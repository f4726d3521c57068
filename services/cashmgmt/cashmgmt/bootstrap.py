"""Wiring: settings -> database, app, consumers. Nothing here runs at import."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fincore.db import Database
from fincore.http import create_service_app
from fincore.inbox import InboxConsumer

from cashmgmt.entrypoints.http import build_router
from cashmgmt.settings import CashmgmtSettings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def build_consumers(settings: CashmgmtSettings, db: Database) -> list[InboxConsumer]:
    return []


def create_app(settings: CashmgmtSettings) -> FastAPI:
    db = Database(settings.resolved_database_url())
    app = create_service_app(
        settings=settings, db=db, title="Finance suite - Cash management",
        description="Bank accounts, internal transfers, bank statement import (camt.053, MT940, CSV) "
                    "checked for duplicates and continuity; publishes finance.cashmgmt.events.v1.",
        routers=[], consumers=build_consumers(settings, db),
    )
    app.include_router(build_router(db, app.state.auth))
    return app
