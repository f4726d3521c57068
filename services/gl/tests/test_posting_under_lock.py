"""What the posting consumer reads under the companies' lock is read after the lock is held.

A statement that waits for a row lock reads every other table as of its start (PostgreSQL,
READ COMMITTED: the rest of the row is evaluated before the row is locked). Two races follow
when the lock and the reads are one statement, or when the reads come before the lock:

1. A receipt parked awaiting inv1 by the transaction B waited for: B posts INV-1 but reads
   "no settlement waits" and does not release the receipt, which would wait for ever.
   (An EUR invoice, 2,000.00 at 7.80, and its receipt at 7.75: a receipt in a foreign currency
   waits for its invoice's carrying amount.)
2. A month closed by the transaction the poster waited for (or committed after its drafts
   read the periods): the journal would be written into the closed month.

Known answers (company in CNY): INV-1 113.00 CNY in the closed-month case. PostgreSQL only:
SQLite serialises whole write transactions (fincore.db)."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa
from aiokafka import ConsumerRecord
from finance.ar.v1 import events_pb2 as ar
from fincore import dates, money
from fincore.db import Database, migrate
from fincore.events import new_envelope
from fincore.inbox import InboxConsumer
from fincore.testing.rowlocks import scratch_database, waiting_for_a_row_lock
from gl.adapters.tables import ExchangeRate, Journal, ParkedEvent
from gl.bootstrap import MIGRATIONS, rulebook
from gl.service import posting
from gl.service.posting import LedgerStateChanged, Poster, close_period, create_company
from gl.settings import GLSettings

pytestmark = pytest.mark.integration


def cny(v: str):
    return money.to_proto(Decimal(v), "CNY")


def invoice(company: str) -> ar.InvoiceIssued:
    return ar.InvoiceIssued(company_id=company, document_number="INV-1", invoice_id="inv1", customer_code="K",
                            currency="CNY", occurrence_date=dates.to_proto(dt.date(2026, 11, 5)),
                            gross_total=cny("113.00"), tax_total=cny("13.00"),
                            lines=[ar.InvoiceLine(net=cny("100.00"), tax=cny("13.00"))])


def eur(v: str):
    return money.to_proto(Decimal(v), "EUR")


def eur_invoice(company: str) -> ar.InvoiceIssued:
    return ar.InvoiceIssued(company_id=company, document_number="INV-1", invoice_id="inv1", customer_code="K",
                            currency="EUR", occurrence_date=dates.to_proto(dt.date(2026, 12, 5)),
                            gross_total=eur("2000.00"), lines=[ar.InvoiceLine(net=eur("2000.00"))])


def eur_receipt(company: str) -> ar.PaymentReceived:
    return ar.PaymentReceived(company_id=company, document_number="RC-1", receipt_id="rc1", customer_code="K",
                              occurrence_date=dates.to_proto(dt.date(2026, 12, 20)), amount=eur("2000.00"),
                              unapplied=eur("0"),
                              applications=[ar.ReceiptApplication(invoice_id="inv1", amount=eur("2000.00"))])


def batch(*msgs):
    return [(ConsumerRecord("t", 0, 0, 0, 0, None, b"", None, 0, 0, []), new_envelope(m, source="test"))
            for m in msgs]


@pytest.fixture
def ledger():
    with scratch_database("t_glunderlock") as url:
        migrate(MIGRATIONS, url)
        yield url


async def _setup(url: str):
    db, co = Database(url), f"L{uuid.uuid4().hex[:8]}"
    async with db.transaction() as s:
        await create_company(s, company_id=co, name="L", functional_currency="CNY", chart_template="cas")
        s.add_all([ExchangeRate(company_id=co, currency="EUR", rate_date=d, rate=Decimal(r))
                   for d, r in ((dt.date(2026, 12, 1), "7.80"), (dt.date(2026, 12, 20), "7.75"))])
    consumer = InboxConsumer(db, GLSettings(database_url=url), name="gl-posting", topics=[], handler=Poster(rulebook()))
    return db, co, consumer


async def _journals(db: Database, co: str) -> list[str]:
    async with db.sessions() as s:
        return sorted((await s.execute(sa.select(Journal.source_document).where(Journal.company_id == co)))
                      .scalars().all())


def test_a_settlement_parked_by_the_transaction_waited_for_is_seen_and_released(ledger, monkeypatch):
    async def go():
        db, co, consumer = await _setup(ledger)
        real, waited = posting.lock_documents, {}

        async def post_invoice_meanwhile(session, company_ids):
            out = await real(session, company_ids)
            if "task" not in waited:  # the receipt's transaction holds the lock: INV-1's waits for it
                async def invoice_lock():
                    async with db.transaction() as s:
                        return await real(s, {co})
                waited["task"] = asyncio.create_task(invoice_lock())
                await waiting_for_a_row_lock(db)
            return out

        monkeypatch.setattr(posting, "lock_documents", post_invoice_meanwhile)
        await consumer._apply(batch(eur_receipt(co)))  # parks RC-1 awaiting inv1, commits
        seen_waiting = await waited["task"]
        monkeypatch.setattr(posting, "lock_documents", real)
        await consumer._apply(batch(eur_invoice(co)))
        journals = await _journals(db, co)
        async with db.sessions() as s:
            parked = (await s.execute(sa.select(ParkedEvent.resolution).where(ParkedEvent.company_id == co))).all()
        await db.dispose()
        return seen_waiting, journals, parked

    seen_waiting, journals, parked = asyncio.run(go())
    assert seen_waiting  # the lock's reader sees the receipt the transaction it waited for parked
    assert journals == ["INV-1", "RC-1"]
    assert [p for (p,) in parked] == ["posted when inv1 posted"]


def test_a_month_closed_while_the_batch_was_drafted_gets_no_journal(ledger, monkeypatch):
    async def go():
        db, co, consumer = await _setup(ledger)
        real, closing = posting.lock_documents, []

        async def close_first(session, company_ids):  # the close commits before the lock is ours
            if not closing:  # (the close takes the same lock)
                closing.append(True)
                async with db.transaction() as s:
                    await close_period(s, company_id=co, period="2026-11", actor="alice", reason="month end")
            return await real(session, company_ids)

        monkeypatch.setattr(posting, "lock_documents", close_first)
        with pytest.raises(LedgerStateChanged):
            await consumer._apply(batch(invoice(co)))
        written = await _journals(db, co)
        monkeypatch.setattr(posting, "lock_documents", real)
        await consumer._apply(batch(invoice(co)))  # done again: parked for the closed month
        async with db.sessions() as s:
            parked = (await s.execute(sa.select(ParkedEvent.period, ParkedEvent.reason)
                                      .where(ParkedEvent.company_id == co))).all()
        after = await _journals(db, co)
        await db.dispose()
        return written, after, parked

    written, after, parked = asyncio.run(go())
    assert written == [] and after == []  # never into the closed month
    assert [p for p, _ in parked] == ["2026-11"]
    assert "closed" in parked[0][1]
