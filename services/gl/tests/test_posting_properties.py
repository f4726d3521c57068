# ruff: noqa: E501
"""Property: for any sequence of valid events, every journal balances, the trial balance
sums to zero, and handling the whole sequence again (redelivery) changes nothing.

Runs the real posting path (inbox consumer + Poster + migrations) on the embedded SQLite."""

import asyncio
import datetime as dt
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa
from aiokafka import ConsumerRecord
from finance.ap.v1 import events_pb2 as ap
from finance.ar.v1 import events_pb2 as ar
from finance.cashmgmt.v1 import events_pb2 as cm
from finance.common.v1 import types_pb2
from finance.inventory.v1 import events_pb2 as inv
from fincore import dates, money
from fincore.db import Database, migrate
from fincore.events import new_envelope
from fincore.inbox import InboxConsumer
from gl.adapters.tables import Journal, JournalLine
from gl.bootstrap import MIGRATIONS, rulebook
from gl.service.posting import Poster, create_company
from gl.settings import GLSettings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

cents = st.integers(min_value=1, max_value=10_000_000).map(lambda c: Decimal(c).scaleb(-2))
days = st.integers(min_value=1, max_value=30).map(lambda d: dates.to_proto(dt.date(2026, 11, d)))
CC = types_pb2.Dimensions(cost_centre="CC1")


def M(v: Decimal) -> types_pb2.Money:  # noqa: N802
    return money.to_proto(v, "CNY")


@st.composite
def event(draw, company: str):
    n = str(uuid.uuid4())[:8]
    kind = draw(st.sampled_from(["invoice", "receipt", "payment", "received", "issued", "adjust", "charge", "expense"]))
    h = dict(company_id=company, document_number=f"{kind}-{n}", occurrence_date=draw(days))
    if kind == "invoice":
        lines = draw(st.lists(st.tuples(cents, st.sampled_from(["0.13", "0.09", "0.06", "0"])), min_size=1, max_size=4))
        msg = ar.InvoiceIssued(**h, invoice_id=n, customer_code="K")
        for net, rate in lines:
            msg.lines.append(ar.InvoiceLine(net=M(net), tax=M(money.quantize(net * Decimal(rate), "CNY"))))
        gross = sum((money.from_proto(x.net) + money.from_proto(x.tax) for x in msg.lines), Decimal(0))
        msg.gross_total.CopyFrom(M(gross))
        return msg
    amount = draw(cents)
    if kind == "receipt":
        return ar.PaymentReceived(**h, receipt_id=n, customer_code="K", amount=M(amount))
    if kind == "payment":
        return ap.PaymentMade(**h, payment_id=n, supplier_code="S", amount=M(amount))
    if kind == "received":
        return inv.GoodsReceived(**h, movement_id=n, total_cost=M(amount), lines=[inv.MovementLine(total_cost=M(amount))])
    if kind == "issued":
        return inv.GoodsIssued(**h, movement_id=n, total_cost=M(amount), lines=[inv.MovementLine(total_cost=M(amount))])
    if kind == "adjust":
        return inv.StockAdjusted(**h, movement_id=n, value_change=M(amount * draw(st.sampled_from([1, -1]))))
    if kind == "charge":
        return cm.BankChargeRecorded(**h, bank_account="B", amount=M(amount))
    tax = money.quantize(amount * Decimal("0.06"), "CNY")
    return ap.InvoiceApproved(**h, invoice_id=n, supplier_code="S", kind=ap.INVOICE_KIND_EXPENSE,
                              gross_total=M(amount + tax), lines=[ap.PayableLine(net=M(amount), tax=M(tax), dimensions=CC)])


@pytest.fixture(scope="module")
def ledger(tmp_path_factory):
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('gl') / 'gl.db'}"
    migrate(MIGRATIONS, url)
    return url


def record(env) -> ConsumerRecord:
    return ConsumerRecord(env.topic, 0, 0, 0, 0, None, b"", None, 0, 0, [])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_valid_sequence_balances_and_replaying_it_changes_nothing(ledger, data):
    company = f"P{uuid.uuid4().hex[:8]}"
    events = data.draw(st.lists(event(company), min_size=1, max_size=25))
    envs = [new_envelope(m, source="prop") for m in events]

    async def run() -> tuple:
        db = Database(ledger)
        try:
            async with db.transaction() as s:
                await create_company(s, company_id=company, name="P", functional_currency="CNY", chart_template="cas")
            consumer = InboxConsumer(db, GLSettings(database_url=ledger), name="gl-posting", topics=[],
                                     handler=Poster(rulebook()))
            batch = [(record(e), e) for e in envs]
            await consumer._apply(batch)

            async def snapshot():
                async with db.sessions() as s:
                    journals = (await s.execute(sa.select(Journal.id, Journal.total_debit, Journal.total_credit)
                                                .where(Journal.company_id == company))).all()
                    per_journal = (await s.execute(
                        sa.select(JournalLine.journal_id, sa.func.sum(JournalLine.debit), sa.func.sum(JournalLine.credit))
                        .where(JournalLine.company_id == company).group_by(JournalLine.journal_id))).all()
                    totals = (await s.execute(sa.select(sa.func.sum(JournalLine.debit), sa.func.sum(JournalLine.credit))
                                              .where(JournalLine.company_id == company))).one()
                return sorted(journals), sorted(per_journal), totals

            first = await snapshot()
            await consumer._apply(batch)  # the whole sequence redelivered
            await consumer._apply(list(reversed(batch)))  # and again, in another order
            return first, await snapshot()
        finally:
            await db.dispose()

    first, again = asyncio.run(run())
    journals, per_journal, (dr, cr) = first
    assert len(journals) == len(events)
    assert all(d == c for _, d, c in journals)
    assert all(d == c for _, d, c in per_journal)
    assert dr == cr  # the trial balance sums to zero
    assert again == first
