"""A receipt read before the bank account it names (cash management's BankAccountOpened travels
on another topic: no order between the two). The posting consumer (inbox + Poster +
migrations) on PostgreSQL and embedded SQLite: the receipt never posts to the chart's bank
account 1002; it waits (parked, awaiting bank-account:B1) and posts to the account's
sub-account 100201 in the transaction that learns the account; a redelivery changes nothing.

Known answers: customer K pays 113.00 on account into B1 (100201): Dr 100201 113.00 / Cr 1122
113.00. A receipt naming no bank account posts to 1002 at once, as before."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa
from aiokafka import ConsumerRecord
from finance.ar.v1 import events_pb2 as ar
from finance.cashmgmt.v1 import events_pb2 as cash
from fincore import dates, money
from fincore.db import Database, migrate
from fincore.events import new_envelope
from fincore.inbox import InboxConsumer
from fincore.testing.rowlocks import scratch_url
from gl.adapters.tables import JournalLine, ParkedEvent
from gl.bootstrap import MIGRATIONS, rulebook
from gl.service.awaiting import awaiting_settlements, decide
from gl.service.posting import Poster, create_company
from gl.settings import GLSettings

DAY = dates.to_proto(dt.date(2026, 12, 5))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def url(request, tmp_path):
    """A fresh GL database: embedded SQLite, or PostgreSQL (dropped afterwards)."""
    with scratch_url(request.param, tmp_path, "t_glbank") as url:
        yield url


def receipt(company: str, number: str, bank_account: str) -> ar.PaymentReceived:
    return ar.PaymentReceived(company_id=company, document_number=number, receipt_id=number.lower(),
                              customer_code="K", occurrence_date=DAY, amount=money.to_proto(Decimal("113.00"), "CNY"),
                              unapplied=money.to_proto(Decimal("113.00"), "CNY"), bank_account=bank_account)


def opened(company: str, code: str, gl_account: str) -> cash.BankAccountOpened:
    return cash.BankAccountOpened(company_id=company, document_number=code, occurrence_date=DAY, bank_account=code,
                                  name=code, currency="CNY", account_number=f"6222{code}", gl_account=gl_account)


def batch(*envs):
    return [(ConsumerRecord("t", 0, 0, 0, 0, None, b"", None, 0, 0, []), env) for env in envs]


class Ledger:
    def __init__(self, url: str) -> None:
        migrate(MIGRATIONS, url)
        self.db = Database(url)
        self.company = f"B{uuid.uuid4().hex[:8]}"
        self.poster = Poster(rulebook())
        self.consumer = InboxConsumer(self.db, GLSettings(database_url=url), name="gl-posting", topics=[],
                                      handler=self.poster)

    async def setup(self) -> None:
        async with self.db.transaction() as s:
            await create_company(s, company_id=self.company, name="B", functional_currency="CNY",
                                 chart_template="cas")

    async def state(self) -> tuple[list, list]:
        """(document, account, debit, credit) of the journal lines; (document, awaiting, resolution) parked."""
        async with self.db.sessions() as s:
            jl = JournalLine.__table__
            from gl.adapters.tables import Journal, SourceEvent

            lines = (await s.execute(sa.select(Journal.source_document, jl.c.account_code, jl.c.debit, jl.c.credit)
                                     .join(Journal, Journal.id == jl.c.journal_id)
                                     .where(jl.c.company_id == self.company)
                                     .order_by(Journal.source_document, jl.c.line_no))).all()
            parked = (await s.execute(sa.select(SourceEvent.document_number, ParkedEvent.awaiting,
                                                ParkedEvent.resolution)
                                      .join(SourceEvent, SourceEvent.event_id == ParkedEvent.event_id)
                                      .where(ParkedEvent.company_id == self.company)
                                      .order_by(SourceEvent.document_number))).all()
        return ([(d, a, Decimal(dr), Decimal(cr)) for d, a, dr, cr in lines], [tuple(p) for p in parked])


def posted(number: str, bank: str) -> list[tuple]:
    return [(number, bank, Decimal("113.00"), Decimal(0)), (number, "1122", Decimal(0), Decimal("113.00"))]


def test_a_receipt_read_before_its_bank_account_waits_and_posts_to_the_accounts_sub_account(url):
    async def go():
        g = Ledger(url)
        await g.setup()
        rc = new_envelope(receipt(g.company, "RC-1", "B1"), source="ar")
        acct = new_envelope(opened(g.company, "B1", "100201"), source="cashmgmt")
        await g.consumer._apply(batch(rc))  # the receipt first: the ledger does not know B1 yet
        await g.consumer._apply(batch(rc))  # redelivered: still one parked event
        waiting = await g.state()
        async with g.db.sessions() as s:
            listed = await awaiting_settlements(s, g.company)
        await g.consumer._apply(batch(acct))  # cash management opens B1: the receipt posts with it
        await g.consumer._apply(batch(acct, rc))  # both again (a rebalance): nothing more
        done = await g.state()
        await g.db.dispose()
        return waiting, listed, done

    (lines0, parked0), listed, (lines, parked) = asyncio.run(go())
    assert lines0 == []  # never on 1002
    assert parked0 == [("RC-1", "bank-account:B1", None)]
    assert [(x["document"], x["awaiting"]) for x in listed] == [("RC-1", "bank-account:B1")]
    assert lines == posted("RC-1", "100201")
    assert parked == [("RC-1", "bank-account:B1", "posted when bank-account:B1 posted")]


def test_in_one_poll_either_order_posts_to_the_sub_account_and_no_account_named_posts_to_the_bank(url):
    async def go():
        g = Ledger(url)
        await g.setup()
        await g.consumer._apply(batch(new_envelope(receipt(g.company, "RC-1", "B1"), source="ar"),
                                      new_envelope(opened(g.company, "B1", "100201"), source="cashmgmt"),
                                      new_envelope(receipt(g.company, "RC-2", "B1"), source="ar"),
                                      new_envelope(receipt(g.company, "RC-3", ""), source="ar")))
        done = await g.state()
        await g.db.dispose()
        return done

    lines, parked = asyncio.run(go())
    assert lines == posted("RC-1", "100201") + posted("RC-2", "100201") + posted("RC-3", "1002")
    assert parked == []  # the account was learned before the batch committed: nothing waited


def test_an_account_cash_management_never_opens_is_an_operators_decision(url):
    async def go():
        g = Ledger(url)
        await g.setup()
        rc = new_envelope(receipt(g.company, "RC-9", "B9"), source="ar")
        await g.consumer._apply(batch(rc))
        async with g.db.transaction() as s:
            await decide(s, g.poster, rc.id, action="post", reason="B9 is not managed in cash management",
                         actor="ops", consumer="gl-posting")
        done = await g.state()
        await g.db.dispose()
        return done

    lines, parked = asyncio.run(go())
    assert lines == posted("RC-9", "1002")
    assert [(d, a) for d, a, _ in parked] == [("RC-9", "bank-account:B9")] and parked[0][2] is not None
