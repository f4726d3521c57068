"""Wiring: settings -> database, app, consumers. Nothing here runs at import."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fincore.db import Database
from fincore.http import create_service_app
from fincore.inbox import Handlers, InboxConsumer
from fincore.rates import LedgerRatesConsumer

from consolidation.entrypoints.http import build_router
from consolidation.service.projection import LedgerProjection
from consolidation.settings import ConsolidationSettings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def build_consumers(settings: ConsolidationSettings, db: Database) -> list[InboxConsumer]:
    # One read of the ledger's topic: the entities' balances and period states (JournalPosted,
    # PeriodClosed, PeriodReopened) and the ledger's exchange rates (ExchangeRatesSet).
    return [InboxConsumer(db, settings, name="consolidation-ledger", topics=["finance.gl.events.v1"],
                          handler=Handlers(LedgerProjection(), LedgerRatesConsumer()))]


def create_app(settings: ConsolidationSettings) -> FastAPI:
    db = Database.for_settings(settings)
    app = create_service_app(
        settings=settings, db=db, title="Finance suite - Consolidation",
        description="Group statements from the entities' ledgers (a projection of finance.gl.events.v1): IAS 21 "
                    "translation, explained elimination journals, non-controlling interests, drill-down.",
        routers=[], consumers=build_consumers(settings, db),
    )
    app.include_router(build_router(db, app.state.auth, gl_url=settings.gl_url))
    return app
