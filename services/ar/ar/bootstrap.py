"""Wiring: settings -> database, app. Nothing here runs at import."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fincore.db import Database
from fincore.http import create_service_app
from fincore.inbox import InboxConsumer
from fincore.rates import LedgerRatesConsumer

from ar.entrypoints.bank_receipts import BankReceipts
from ar.entrypoints.collections_http import build_collections_router
from ar.entrypoints.http import build_router
from ar.service.shipments import ShipmentInvoicer
from ar.settings import ARSettings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def build_consumers(settings: ARSettings, db: Database) -> list[InboxConsumer]:
    return [InboxConsumer(db, settings, name="ar-shipments", topics=["finance.inventory.events.v1"],
                          handler=ShipmentInvoicer()),
            # the ledger's exchange rates, for credit checks of orders in another currency than the limit's
            InboxConsumer(db, settings, name="ar-rates", topics=["finance.gl.events.v1"],
                          handler=LedgerRatesConsumer()),
            # receipts cash management identified on bank statements
            InboxConsumer(db, settings, name="ar-bank-receipts", topics=["finance.cashmgmt.events.v1"],
                          handler=BankReceipts())]


def create_app(settings: ARSettings) -> FastAPI:
    db = Database.for_settings(settings)
    app = create_service_app(
        settings=settings, db=db, title="Finance suite - Accounts receivable",
        description="Customer invoices; every change is published as an event on finance.ar.events.v1.",
        routers=[], consumers=build_consumers(settings, db),
    )
    app.include_router(build_router(db, app.state.auth))
    app.include_router(build_collections_router(db, app.state.auth))
    return app
