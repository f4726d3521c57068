"""Closing a month while another person reopens it: the close must see the reopen it waited
for (the period row's lock reads the row as locked, fincore.db.locked), not the row as its
own transaction read it before.

Known answers: period 2026-11 of a company is closed. Transaction A (a close through the API)
has read the company's periods (status closed), then closes 2026-11; transaction B reopens it
meanwhile and holds the row's lock. A waits, B commits. With the row as A first read it, A
finds the period "closed already", changes nothing and answers closed: the period stays open
(the close is lost) and no PeriodClosed is published. Read as locked, A closes it: status
closed, audit closed / reopened / closed, events PeriodClosed, PeriodReopened, PeriodClosed.

PostgreSQL only: SQLite serialises the two writers with its file lock (fincore.db)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import sqlalchemy as sa
from fincore.db import Database, migrate
from fincore.tables import OutboxRecord
from fincore.testing.rowlocks import scratch_database, waiting_for_a_row_lock
from gl.adapters.tables import Period, PeriodAudit
from gl.bootstrap import MIGRATIONS
from gl.service.posting import close_period, create_company, reopen_period

pytestmark = pytest.mark.integration
PERIOD = "2026-11"


@pytest.fixture
def pg_url():
    with scratch_database("t_glperiod") as url:
        yield url


def test_a_close_that_waited_for_a_reopen_closes_the_period(pg_url):
    async def go():
        migrate(MIGRATIONS, pg_url)
        db, co = Database(pg_url), f"P{uuid.uuid4().hex[:8]}"
        async with db.transaction() as s:
            await create_company(s, company_id=co, name="P", functional_currency="CNY", chart_template="cas")
            await close_period(s, company_id=co, period=PERIOD, actor="alice", reason="month end")

        async def close_after_reading() -> str:  # A: reads the periods (closed), then closes 2026-11
            async with db.transaction() as a:
                seen = (await a.execute(sa.select(Period).where(Period.company_id == co))).scalars().all()
                assert [p.status for p in seen] == ["closed"]
                have_read.set()
                await go_on.wait()
                state = await close_period(a, company_id=co, period=PERIOD, actor="carol", reason="again")
                return state.status

        have_read, go_on = asyncio.Event(), asyncio.Event()
        async with db.transaction() as b:  # B: reopens it and holds the row's lock
            await reopen_period(b, company_id=co, period=PERIOD, actor="bob", reason="late invoice")
            closing = asyncio.create_task(close_after_reading())
            await have_read.wait()
            go_on.set()
            await waiting_for_a_row_lock(db)  # A waits for the period's lock
        answered = await closing
        async with db.sessions() as s:
            status = (await s.execute(sa.select(Period.status).where(Period.company_id == co))).scalar_one()
            audit = (await s.execute(sa.select(PeriodAudit.action).where(PeriodAudit.company_id == co)
                                     .order_by(PeriodAudit.id))).scalars().all()
            events = (await s.execute(sa.select(OutboxRecord.ce_type).order_by(OutboxRecord.id))).scalars().all()
        await db.dispose()
        return answered, status, audit, [e.split(".")[-2] for e in events if "Period" in e]

    answered, status, audit, events = asyncio.run(go())
    assert (answered, status) == ("closed", "closed")  # the close is not lost
    assert audit == ["closed", "reopened", "closed"]
    assert events == ["PeriodClosed", "PeriodReopened", "PeriodClosed"]


def test_two_first_closes_of_a_month_close_it_once(pg_url):
    """A month never closed has no period row: two closes at once both found none and both
    inserted it, the second failing on the primary key (a 500 at the API). They now queue on
    the company's posting lock: one closes it, the other finds it closed (one audit row, one
    PeriodClosed)."""
    async def go():
        migrate(MIGRATIONS, pg_url)
        db, co = Database(pg_url), f"P{uuid.uuid4().hex[:8]}"
        async with db.transaction() as s:
            await create_company(s, company_id=co, name="P", functional_currency="CNY", chart_template="cas")

        async def close(actor: str) -> bool:
            async with db.transaction() as a:
                return (await close_period(a, company_id=co, period=PERIOD, actor=actor, reason="month end")).changed

        async with db.transaction() as b:  # B closes first and holds its locks
            assert (await close_period(b, company_id=co, period=PERIOD, actor="bob", reason="month end")).changed
            second = asyncio.create_task(close("carol"))
            await waiting_for_a_row_lock(db)  # the second close waits
        changed = await second
        async with db.sessions() as s:
            audit = (await s.execute(sa.select(PeriodAudit.actor).where(PeriodAudit.company_id == co))).scalars().all()
            events = (await s.execute(sa.select(OutboxRecord.ce_type).order_by(OutboxRecord.id))).scalars().all()
        await db.dispose()
        return changed, audit, [e.split(".")[-2] for e in events if "Period" in e]

    changed, audit, events = asyncio.run(go())
    assert changed is False  # the second found it closed
    assert audit == ["bob"]
    assert events == ["PeriodClosed"]
