"""Gauges the GL exports from its database: events parked (a closed period, a missing rate,
a blocked account, a settlement awaiting its document) and not yet decided, by company,
period and reason, and whether that period is closed (the "period closed with parked
events" alert). The relay process samples them every few seconds."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from fincore.db import Database
from fincore.settings import ServiceSettings
from fincore.tables import utcnow
from prometheus_client import Gauge

from gl.adapters.tables import ParkedEvent, Period
from gl.domain.settlement import BANK_ACCOUNT

PARKED = Gauge("gl_parked_events", "Events parked and not yet posted or decided",
               ["company", "period", "period_state", "reason"])
AWAITING_AGE = Gauge("gl_awaiting_document_oldest_age_seconds",
                     "Age of the oldest settlement parked awaiting the document it settles (posts by itself when "
                     "the document posts, or an operator decides: GET /v1/admin/awaiting-documents)", ["company"])


def reason_kind(reason: str, awaiting: str | None) -> str:
    """A parked event's reason as a label value (the reason text names documents and rates)."""
    if awaiting:
        return "awaiting-bank-account" if awaiting.startswith(BANK_ACCOUNT) else "awaiting-document"
    for prefix, kind in (("no exchange rate", "missing-rate"), ("account ", "account-blocked"),
                         ("period ", "period-closed")):
        if reason.startswith(prefix):
            return kind
    return "other"


def samplers(_settings: ServiceSettings, db: Database) -> list:
    async def parked_events() -> None:
        async with db.sessions() as session:
            rows = (await session.execute(
                sa.select(ParkedEvent.company_id, ParkedEvent.period, sa.func.coalesce(Period.status, "open"),
                          ParkedEvent.reason, ParkedEvent.awaiting, ParkedEvent.parked_at)
                .select_from(ParkedEvent)
                .outerjoin(Period, sa.and_(Period.company_id == ParkedEvent.company_id,
                                           Period.period == ParkedEvent.period))
                .where(ParkedEvent.resolved_at.is_(None))
            )).all()  # few rows: parked events wait for a person or a document
        counts: dict[tuple[str, str, str, str], int] = {}
        oldest: dict[str, dt.datetime] = {}
        for company, period, state, reason, awaiting, parked_at in rows:
            key = (company, period, state, reason_kind(reason, awaiting))
            counts[key] = counts.get(key, 0) + 1
            if awaiting:
                oldest[company] = min(oldest.get(company, parked_at), parked_at)
        PARKED.clear()  # a decided event leaves the gauge, not a stale series
        for labels, n in counts.items():
            PARKED.labels(*labels).set(n)
        now = utcnow()
        AWAITING_AGE.clear()
        for company, parked_at in oldest.items():
            aware = parked_at if parked_at.tzinfo else parked_at.replace(tzinfo=dt.UTC)  # SQLite: naive
            AWAITING_AGE.labels(company).set((now - aware).total_seconds())

    return [parked_events]
