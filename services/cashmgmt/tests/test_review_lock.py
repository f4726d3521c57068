"""Two people decide one statement line at once: the second must see the first's decision it
waited for (the line's lock reads the line as locked, fincore.db.locked), not the line as its
own transaction read it before; otherwise the line is acted on twice and the ledger posts the
money twice.

Known answers: a statement of EUR account DE75..., line 1 +500.00 that no rule matches
(unmatched). Person B puts it on the suspense account and holds the line's lock. Person A's
transaction has read the line (unmatched), then decides suspense too; it waits, B commits.
Read as locked, A sees the line posted and is refused; one BankLineUnidentified (500.00).
With the line as A first read it, both decide: two BankLineUnidentified, 1,000.00 posted.

A reconciliation run decides the line again while a person waits for its lock: the person's
decision completes the run's decision (its rule and candidates), not the one the person's
statement read before the wait (test_a_decision_replaced_while_waiting_is_the_one_completed).

PostgreSQL only: SQLite serialises the two writers with its file lock (fincore.db)."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa
from cashmgmt.adapters import bankfiles
from cashmgmt.adapters.tables import Reconciliation, StatementLine
from cashmgmt.bootstrap import MIGRATIONS
from cashmgmt.domain.statements import ParsedLine, ParsedStatement
from cashmgmt.service.accounts import open_account
from cashmgmt.service.reconciliation import ReviewError, accept, reconcile
from cashmgmt.service.statements import import_file
from fincore.db import Database, locked, migrate
from fincore.tables import OutboxRecord, utcnow
from fincore.testing.rowlocks import scratch_database, waiting_for_a_row_lock

pytestmark = pytest.mark.integration
D = dt.date
IBAN = "DE75512108001245126199"
STATEMENT = ParsedStatement(
    "any", "STMT-1", "EUR", Decimal("1000.00"), Decimal("1500.00"), D(2026, 11, 1), D(2026, 11, 2),
    (ParsedLine(D(2026, 11, 2), D(2026, 11, 2), Decimal("500.00"), "", "Nobody Known", "", "?", "B1", "RCDT"),),
    iban=IBAN, sequence="1")


@pytest.fixture
def pg_url():
    with scratch_database("t_cashreview") as url:
        yield url


async def _unmatched_line(pg_url: str) -> tuple[Database, str, int]:
    """A new company's account, the statement imported, a first run: its one line unmatched."""
    migrate(MIGRATIONS, pg_url)
    db, co = Database(pg_url), f"C{uuid.uuid4().hex[:8]}"
    async with db.transaction() as s:
        await open_account(s, company_id=co, code="B1", name="B1", currency="EUR", iban=IBAN, bic="",
                           account_number="", gl_account="100201", opened_on=D(2026, 11, 1))
    async with db.transaction() as s:
        await import_file(s, company_id=co, data=bankfiles.write_camt053(STATEMENT), imported_by="t")
    async with db.transaction() as s:
        assert await reconcile(s, co, []) == {"unmatched": 1}
        line_id = (await s.execute(sa.select(StatementLine.id))).scalar_one()
    return db, co, line_id


def test_a_line_decided_by_two_people_at_once_is_acted_on_once(pg_url):
    async def go():
        db, co, line_id = await _unmatched_line(pg_url)

        async def decide_after_reading() -> str:  # A: reads the line (unmatched), then decides suspense
            async with db.transaction() as a:
                line = await a.get(StatementLine, line_id)  # held: the session keeps what is referenced
                assert line.status == "unmatched"
                have_read.set()
                await go_on.wait()
                try:
                    await accept(a, co, line_id, action="suspense", actor="alice")
                except ReviewError as exc:
                    return str(exc)
                return "accepted"

        have_read, go_on = asyncio.Event(), asyncio.Event()
        async with db.transaction() as b:  # B: decides suspense and holds the line's lock
            await accept(b, co, line_id, action="suspense", actor="bob")
            deciding = asyncio.create_task(decide_after_reading())
            await have_read.wait()
            go_on.set()
            await waiting_for_a_row_lock(db)  # A waits for the line's lock
        answered = await deciding
        async with db.sessions() as s:
            events = (await s.execute(sa.select(OutboxRecord.ce_type).order_by(OutboxRecord.id))).scalars().all()
        await db.dispose()
        return answered, [e.split(".")[-2] for e in events if "Unidentified" in e]

    answered, events = asyncio.run(go())
    assert "is posted: only a line in review or unmatched is decided" in answered
    assert events == ["BankLineUnidentified"]  # the money on the suspense account once


def test_a_decision_replaced_while_waiting_is_the_one_completed(pg_url):
    """Known answers: line 1 is unmatched by a first run (no candidates). A second run holds the
    line's lock and replaces the decision (delete and insert on the same key, as `reconcile`
    does) with one candidate: a receipt in another currency, which AR cannot book. Meanwhile a
    person accepts candidate 0; their statement began before the run committed. After the wait
    the choice is checked against the second run's decision: refused because of the candidate's
    currency. Reading the decision in the line's locked statement gave the first run's row (it
    answered "no candidate 0": the person decided on a decision that no longer existed)."""
    async def go():
        db, co, line_id = await _unmatched_line(pg_url)
        candidate = {"items": [{"key": "INV-1"}], "amounts": ["500.00"], "score": 0.9, "party": "K1",
                     "reasons": ["invoice INV-1 is in USD"], "flags": ["other-currency"]}

        async def person() -> str:
            async with db.transaction() as a:
                try:
                    await accept(a, co, line_id, candidate=0, actor="alice")
                except ReviewError as exc:
                    return str(exc)
                return "accepted"

        async with db.transaction() as run:  # the second run: the line locked, its decision replaced
            await run.execute(locked(sa.select(StatementLine).where(StatementLine.id == line_id),
                                     of=StatementLine))
            await run.execute(sa.delete(Reconciliation).where(Reconciliation.line_id == line_id))
            await run.execute(sa.insert(Reconciliation).values(
                line_id=line_id, company_id=co, rule="second-run", action="match", status="review",
                candidates=[candidate], chosen=None, party="", decided_by="auto", decided_at=utcnow()))
            await run.execute(sa.update(StatementLine).where(StatementLine.id == line_id).values(status="review"))
            deciding = asyncio.create_task(person())
            await waiting_for_a_row_lock(db)  # the person's statement began; it waits for the line
        answered = await deciding
        await db.dispose()
        return answered

    answered = asyncio.run(go())
    assert "invoice INV-1 is in USD: AR cannot book it" in answered, answered
