"""A customer return credited while a receipt for the same invoice commits (issue 15, the
chaos suite's I7 of 16.95 for K02): AR's open items must stay what the ledger's receivables
get from the events AR published.

AR's shipments consumer credits a return in a transaction that reads the order's invoices
(`quantities.order_invoices`) and then locks the invoice it credits (the credit memo). A
receipt through the API that pays that invoice holds that lock meanwhile, and commits. The row lock's read is the
only one that sees the receipt; an ORM session hands back the instance it loaded before
unless told to refresh it (populate_existing), so the memo was computed on the invoice as it
was: it "applied" 16.95 to an invoice the receipt had settled, wrote the invoice's paid
amount back over the receipt's, and left the customer no credit. The ledger, posting the
three events, has receivables of -16.95 for K02; AR's ageing said 0.00: AR 16.95 above the
ledger, which no replay of the ledger can mend.

Known answers: order CRM-1, MA-1 at 15.00 + VAT13. Shipment S1 ships 2 units: invoice
33.90 (net 30.00, VAT 3.90). Receipt 33.90 pays it. A return of 1 unit: credit memo 16.95
(15.00 + 1.95) against a paid invoice applies 0.00; it is credit the customer holds. Ledger
(rules v1): receivables +33.90 - 33.90 - 16.95 = -16.95 = AR's net (open 0.00 - credit 16.95).

PostgreSQL only: SQLite has no row locks and serialises the two writers with its file lock
(fincore.db), so the interleaving cannot happen there."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal as D

import pytest
import sqlalchemy as sa
from ar.adapters.tables import CreditMemo, Invoice
from ar.service.receipts import ageing, receive_payment
from ar.service.shipments import ShipmentInvoicer
from finance.ar.v1 import events_pb2 as ar_events
from fincore import money
from fincore.events import new_envelope
from fincore.events.registry import registry
from fincore.tables import OutboxRecord
from fincore.testing.rowlocks import scratch_database, waiting_for_a_row_lock

from tests.integration.test_ar_return_before_shipment import CO, Books, customer_return, shipment

pytestmark = pytest.mark.integration


@pytest.fixture
def pg_url(request, tmp_path):
    with scratch_database("t_arrace") as url:
        yield url


def ledger_receivables(outbox: list[OutboxRecord]) -> D:
    """K02's receivables as the ledger posts AR's events (rules v1: invoice Dr gross, receipt
    Cr amount, credit memo Cr gross)."""
    total = D(0)
    for row in outbox:
        msg = registry.by_type(row.ce_type).message_class.FromString(row.payload)
        if isinstance(msg, ar_events.InvoiceIssued):
            total += money.from_proto(msg.gross_total)
        elif isinstance(msg, ar_events.PaymentReceived):
            total -= money.from_proto(msg.amount)
        elif isinstance(msg, ar_events.CreditMemoIssued):
            total -= money.from_proto(msg.gross_total)
    return total


def test_a_return_credited_while_a_receipt_pays_its_invoice_keeps_ar_equal_to_the_ledger(pg_url):
    async def go():
        b = Books(pg_url)
        await b.order()
        await b.deliver(new_envelope(shipment("S1", "2"), source="inventory"))  # invoice 33.90
        ret = new_envelope(customer_return("R1", "S1", "1"), source="inventory")

        async def credit_the_return() -> None:  # AR's shipments consumer: a credit memo of 16.95
            async with b.db.transaction() as consumer:
                await ShipmentInvoicer().apply(consumer, ret)

        async with b.db.transaction() as api:  # a receipt through the API: it pays (and locks) the invoice
            await receive_payment(api, company=CO, customer="K02", amount=D("33.90"), on=dt.date(2026, 11, 21),
                                  bank_account="BANK-1", method="transfer")
            credit = asyncio.create_task(credit_the_return())
            await waiting_for_a_row_lock(b.db)  # the return has read the invoices and waits for the lock
        await credit  # the receipt committed: the memo takes the lock
        async with b.db.sessions() as s:
            inv = (await s.execute(sa.select(Invoice))).scalar_one()
            memo = (await s.execute(sa.select(CreditMemo))).scalar_one()
            outbox = (await s.execute(sa.select(OutboxRecord).order_by(OutboxRecord.id))).scalars().all()
            aged = await ageing(s, CO, dt.date(2026, 12, 31))
        await b.db.dispose()
        return inv, memo, outbox, aged

    inv, memo, outbox, aged = asyncio.run(go())
    k02 = next((c for c in aged["customers"] if c["customer"] == "K02"),
               {"total": "0.00", "credit": "0.00", "net": "0.00"})  # a customer AR holds nothing for is not listed
    assert (ledger_receivables(outbox), D(k02["net"])) == (D("-16.95"), D("-16.95"))  # I7: AR = receivables
    assert (k02["total"], k02["credit"]) == ("0.00", "16.95")
    assert (memo.gross_total, memo.applied) == (D("16.95"), D("0.00"))  # nothing left on the invoice to apply to
    assert (inv.gross_total, inv.paid_amount, inv.status) == (D("33.90"), D("33.90"), "paid")  # the receipt's
