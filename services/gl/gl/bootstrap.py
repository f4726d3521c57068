"""Wiring: settings -> database, rules, consumers, app. Nothing here runs at import."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fincore.db import Database
from fincore.events.registry import registry
from fincore.http import create_service_app
from fincore.inbox import InboxConsumer

from gl.domain.chart import available_charts, load_chart
from gl.domain.rules import RuleBook, load_rules
from gl.entrypoints.http import build_router
from gl.entrypoints.integrity import build_integrity_router
from gl.service.posting import Poster
from gl.settings import GLSettings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def rulebook() -> RuleBook:
    """Rules are validated against every chart template at start-up: a bad rule stops the start."""
    return load_rules([load_chart(c) for c in available_charts()])


def posting_topics(settings: GLSettings, rules: RuleBook) -> list[str]:
    if settings.posting_topics.strip():
        return [t.strip() for t in settings.posting_topics.split(",") if t.strip()]
    return sorted({registry.by_type(t).topic for t in rules.event_types})


def build_consumers(settings: GLSettings, db: Database) -> list[InboxConsumer]:
    rules = rulebook()
    return [InboxConsumer(db, settings, name=settings.posting_group, topics=posting_topics(settings, rules),
                          handler=Poster(rules))]


def create_app(settings: GLSettings) -> FastAPI:
    db = Database.for_settings(settings)
    rules = rulebook()
    app = create_service_app(
        settings=settings, db=db, title="Finance suite - General ledger",
        description="Journals posted from every context's events by declarative rules; statements.",
        routers=[], consumers=build_consumers(settings, db),
    )
    app.include_router(build_router(db, app.state.auth, Poster(rules), segregate_duties=settings.segregate_duties,
                                    posting_group=settings.posting_group))
    app.include_router(build_integrity_router(db, app.state.auth, posting_consumer=settings.posting_group))
    return app
