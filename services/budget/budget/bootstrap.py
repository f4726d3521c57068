"""Wiring: settings -> database, app, consumers. Nothing here runs at import."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fincore.db import Database
from fincore.http import create_service_app
from fincore.inbox import Handlers, InboxConsumer
from fincore.rates import LedgerRatesConsumer

from budget.entrypoints.http import build_router
from budget.service.actuals import ActualsFromLedger
from budget.settings import BudgetSettings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def build_consumers(settings: BudgetSettings, db: Database) -> list[InboxConsumer]:
    # One read of the ledger's topic: actuals from JournalPosted, and the ledger's exchange rates
    # (ExchangeRatesSet) for checks of spend in another currency than the budget's.
    return [InboxConsumer(db, settings, name="budget-actuals", topics=["finance.gl.events.v1"],
                          handler=Handlers(ActualsFromLedger(), LedgerRatesConsumer()))]


def create_app(settings: BudgetSettings) -> FastAPI:
    db = Database.for_settings(settings)
    app = create_service_app(
        settings=settings, db=db, title="Finance suite - Budget",
        description="Budgets by company, cost centre, item and month; in-process control over gRPC "
                    "(finance.budget.v1.BudgetService); actuals from the ledger's JournalPosted events.",
        routers=[], consumers=build_consumers(settings, db),
    )
    app.include_router(build_router(db, app.state.auth))
    return app
