"""The posting path with open items (inbox consumer + Poster + migrations, embedded SQLite):
a receipt read before its invoice in the same poll still relieves the invoice at its booked
amount, and a redelivered batch changes nothing."""

import asyncio
import datetime as dt
import uuid
from decimal import Decimal

import sqlalchemy as sa
from aiokafka import ConsumerRecord
from finance.ar.v1 import events_pb2 as ar
from fincore import dates, money
from fincore.db import Database, migrate
from fincore.events import new_envelope
from fincore.inbox import InboxConsumer
from gl.adapters.tables import ExchangeRate, JournalLine
from gl.bootstrap import MIGRATIONS, rulebook
from gl.service.posting import Poster, create_company
from gl.settings import GLSettings


def eur(v: str):
    return money.to_proto(Decimal(v), "EUR")


def test_receipt_before_its_invoice_in_one_batch(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'gl.db'}"
    migrate(MIGRATIONS, url)
    company = f"S{uuid.uuid4().hex[:8]}"
    invoice = ar.InvoiceIssued(company_id=company, document_number="INV-1", invoice_id="inv1", customer_code="K",
                               currency="EUR", occurrence_date=dates.to_proto(dt.date(2026, 12, 5)),
                               gross_total=eur("2000.00"), lines=[ar.InvoiceLine(net=eur("2000.00"))])
    receipt = ar.PaymentReceived(company_id=company, document_number="RC-1", receipt_id="rc1", customer_code="K",
                                 occurrence_date=dates.to_proto(dt.date(2026, 12, 20)), amount=eur("2000.00"),
                                 unapplied=eur("0"),
                                 applications=[ar.ReceiptApplication(invoice_id="inv1", amount=eur("2000.00"))])
    batch = [(ConsumerRecord("t", 0, 0, 0, 0, None, b"", None, 0, 0, []), new_envelope(m, source="test"))
             for m in (receipt, invoice)]  # the receipt first, as from another partition

    async def run():
        db = Database(url)
        try:
            async with db.transaction() as s:
                await create_company(s, company_id=company, name="S", functional_currency="CNY", chart_template="cas")
                s.add_all([ExchangeRate(company_id=company, currency="EUR", rate_date=dt.date(2026, 12, 1),
                                        rate=Decimal("7.80")),
                           ExchangeRate(company_id=company, currency="EUR", rate_date=dt.date(2026, 12, 20),
                                        rate=Decimal("7.75"))])
            consumer = InboxConsumer(db, GLSettings(database_url=url), name="gl-posting", topics=[],
                                     handler=Poster(rulebook()))
            await consumer._apply(batch)
            await consumer._apply(batch)  # redelivered: no second effect

            async with db.sessions() as s:
                jl = JournalLine.__table__
                lines = (await s.execute(sa.select(jl.c.account_code, jl.c.debit, jl.c.credit, jl.c.open_item)
                                         .where(jl.c.company_id == company).order_by(jl.c.id))).all()
                item = (await s.execute(sa.select(sa.func.sum(jl.c.txn_amount), sa.func.sum(jl.c.debit - jl.c.credit))
                                        .where(jl.c.company_id == company, jl.c.open_item == "inv1"))).one()
            return lines, item
        finally:
            await db.dispose()

    lines, item = asyncio.run(run())
    # Invoice: 2,000 EUR at 7.80 = 15,600.00. Receipt at 7.75 = 15,500.00 relieves the booked
    # 15,600.00 and realises a 100.00 loss; the invoice's item is 0.00 in EUR and in CNY.
    got = sorted((a, Decimal(d), Decimal(c), o) for a, d, c, o in lines)
    assert got == sorted([("1122", Decimal("15600"), Decimal(0), "inv1"), ("6001", Decimal(0), Decimal("15600"), ""),
                          ("1002", Decimal("15500"), Decimal(0), ""), ("1122", Decimal(0), Decimal("15600"), "inv1"),
                          ("660302", Decimal("100"), Decimal(0), "")])
    assert (Decimal(item[0]), Decimal(item[1])) == (Decimal(0), Decimal(0))
