"""Wiring: settings -> database, app. Nothing here runs at import."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fincore.db import Database
from fincore.http import create_service_app

from ar.entrypoints.http import build_router
from ar.settings import ARSettings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def create_app(settings: ARSettings) -> FastAPI:
    db = Database(settings.resolved_database_url())
    app = create_service_app(
        settings=settings, db=db, title="Finance suite - Accounts receivable",
        description="Customer invoices; every change is published as an event on finance.ar.events.v1.",
        routers=[],
    )
    app.include_router(build_router(db, app.state.auth))
    return app
