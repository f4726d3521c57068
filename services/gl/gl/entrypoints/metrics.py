"""Gauges the GL exports from its database: events parked (a closed period, a missing rate)
and not yet decided, by company and period, and whether that period is closed (the
"period closed with parked events" alert). The relay process samples them every few seconds."""

from __future__ import annotations

import sqlalchemy as sa
from fincore.db import Database
from fincore.settings import ServiceSettings
from prometheus_client import Gauge

from gl.adapters.tables import ParkedEvent, Period

PARKED = Gauge("gl_parked_events", "Events parked and not yet posted or decided",
               ["company", "period", "period_state"])


def samplers(_settings: ServiceSettings, db: Database) -> list:
    async def parked_events() -> None:
        async with db.sessions() as session:
            rows = (await session.execute(
                sa.select(ParkedEvent.company_id, ParkedEvent.period, sa.func.coalesce(Period.status, "open"),
                          sa.func.count())
                .select_from(ParkedEvent)
                .outerjoin(Period, sa.and_(Period.company_id == ParkedEvent.company_id,
                                           Period.period == ParkedEvent.period))
                .where(ParkedEvent.resolved_at.is_(None))
                .group_by(ParkedEvent.company_id, ParkedEvent.period, Period.status)
            )).all()
        PARKED.clear()  # a decided event leaves the gauge, not a stale series
        for company, period, state, n in rows:
            PARKED.labels(company, period, state).set(n)

    return [parked_events]
