"""Wiring: settings -> database, app, consumers. Nothing here runs at import."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fincore.db import Database
from fincore.http import create_service_app
from fincore.inbox import Handlers, InboxConsumer

from cashmgmt.adapters.forecast_sources import ForecastSources
from cashmgmt.domain.reconcile import load_rules
from cashmgmt.entrypoints.consumers import TOPICS, DocumentsFromAP, DocumentsFromAR
from cashmgmt.entrypoints.forecast_http import build_forecast_router
from cashmgmt.entrypoints.http import build_router
from cashmgmt.settings import CashmgmtSettings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def build_consumers(settings: CashmgmtSettings, db: Database) -> list[InboxConsumer]:
    rules = load_rules()
    # what reconciliation matches against: AR's and AP's documents, read once through the inbox
    return [InboxConsumer(db, settings, name="cashmgmt-documents", topics=list(TOPICS),
                          handler=Handlers(DocumentsFromAR(rules), DocumentsFromAP(rules)))]


def create_app(settings: CashmgmtSettings) -> FastAPI:
    db = Database.for_settings(settings)
    app = create_service_app(
        settings=settings, db=db, title="Finance suite - Cash management",
        description="Bank accounts, internal transfers, bank statement import (camt.053, MT940, CSV) "
                    "checked for duplicates and continuity, automatic reconciliation against what AR and AP "
                    "published with a review queue; publishes finance.cashmgmt.events.v1.",
        routers=[], consumers=build_consumers(settings, db),
    )
    rules = load_rules()  # a bad rule file stops the start
    app.include_router(build_router(db, app.state.auth, rules, settings.resolved_position_url()))
    app.include_router(build_forecast_router(db, app.state.auth, ForecastSources(
        ar_url=settings.ar_url, ap_url=settings.ap_url, budget_url=settings.budget_url, token=settings.forecast_token)))
    return app
