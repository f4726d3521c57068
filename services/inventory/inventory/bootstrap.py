"""Wiring: settings -> database, app. Nothing here runs at import."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fincore.db import Database
from fincore.http import create_service_app
from fincore.inbox import InboxConsumer

from inventory.entrypoints.consumers import PriceDifferences
from inventory.entrypoints.http import build_router
from inventory.settings import InventorySettings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def build_consumers(settings: InventorySettings, db: Database) -> list[InboxConsumer]:
    return [InboxConsumer(db, settings, name="inventory-price-differences", topics=["finance.ap.events.v1"],
                          handler=PriceDifferences())]


def create_app(settings: InventorySettings) -> FastAPI:
    db = Database.for_settings(settings)
    app = create_service_app(
        settings=settings, db=db, title="Finance suite - Inventory cost",
        description="Stock movements costed by moving average or FIFO; every cost is published on "
                    "finance.inventory.events.v1 for the ledger.",
        routers=[], consumers=build_consumers(settings, db),
    )
    app.include_router(build_router(db, app.state.auth))
    return app
