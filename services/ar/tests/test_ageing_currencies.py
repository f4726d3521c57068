"""AR's ageing by customer and currency (embedded database): an invoice in another currency
than the customer's is its own row, never added to the customer's currency.

Known answers: customer K pays in CNY. Invoice 1: CNY 1 x 100.00 + VAT13 = 113.00. Invoice 2:
USD 3 x 150.00 + VAT13 = 508.50. Ageing as of the issue date: K CNY 113.00 and K USD 508.50, both
current; totals by currency CNY 113.00 and USD 508.50; no single total. Before, the USD invoice
was added to K's CNY row: 621.50 "CNY" (finance-verify's I7 saw AR 508.50 above the ledger's CNY
receivables and 508.50 below its USD ones)."""

import asyncio
import datetime as dt
from decimal import Decimal as D

from ar.adapters.tables import Customer
from ar.bootstrap import MIGRATIONS
from ar.domain.invoice import LineInput
from ar.service.invoicing import issue_invoice
from ar.service.receipts import ageing
from fincore.db import Database, migrate
from fincore.tables import utcnow

ON = dt.date(2026, 12, 4)


def test_an_invoice_in_another_currency_is_its_own_row(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'ar.db'}"
    migrate(MIGRATIONS, url)

    async def go():
        db = Database(url)
        async with db.transaction() as s:
            s.add(Customer(company_id="C", code="K", name="K", customer_group="", currency="CNY",
                           payment_terms_days=30, credit_limit=D("100000"), credit_policy="warn",
                           intercompany_partner="", updated_at=utcnow()))
        for currency, qty, price in (("CNY", 1, "100.00"), ("USD", 3, "150.00")):
            async with db.transaction() as s:
                await issue_invoice(s, company_id="C", customer_code="K", customer_group="", currency=currency,
                                    issue_date=ON, due_date=None, lines=[LineInput(
                                        description="Consulting", quantity=D(qty), unit_price=D(price),
                                        tax_code="VAT13")])
        async with db.sessions() as s:
            report = await ageing(s, "C", ON)
        await db.dispose()
        return report

    report = asyncio.run(go())
    assert [(r["customer"], r["currency"], r["current"], r["total"], r["net"]) for r in report["customers"]] == [
        ("K", "CNY", "113.00", "113.00", "113.00"), ("K", "USD", "508.50", "508.50", "508.50")]
    assert {c: t["total"] for c, t in report["totals_by_currency"].items()} == {"CNY": "113.00", "USD": "508.50"}
    assert report["total"] is None
