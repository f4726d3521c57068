"""Wiring: settings -> database, budget client, app, consumers. Nothing here runs at import."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fincore.db import Database
from fincore.http import create_service_app
from fincore.inbox import InboxConsumer

from ap.adapters.budget_client import BudgetClient
from ap.domain.matching import Tolerances
from ap.entrypoints.http import build_router
from ap.entrypoints.outlook_http import build_outlook_router
from ap.service.receipts import ReceiptRecorder
from ap.settings import APSettings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def build_consumers(settings: APSettings, db: Database) -> list[InboxConsumer]:
    return [InboxConsumer(db, settings, name="ap-receipts", topics=["finance.inventory.events.v1"],
                          handler=ReceiptRecorder())]


def create_app(settings: APSettings) -> FastAPI:
    db = Database.for_settings(settings)
    budget = BudgetClient(settings.budget_grpc_target, settings.budget_timeout_s, settings.budget_token)
    app = create_service_app(
        settings=settings, db=db, title="Finance suite - Accounts payable",
        description="Purchasing with in-process budget control, three-way match, supplier invoices and "
                    "expense claims, payment runs; events on finance.ap.events.v1.",
        routers=[], consumers=build_consumers(settings, db),
    )
    app.include_router(build_router(db, app.state.auth, budget,
                                    Tolerances(settings.price_tolerance_pct, settings.quantity_tolerance_pct),
                                    segregate_duties=settings.segregate_duties))
    app.include_router(build_outlook_router(db, app.state.auth))
    return app
