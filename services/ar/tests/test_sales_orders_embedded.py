"""A sales order's expected delivery date (the cash-flow forecast's date for what is not
invoiced yet): the CRM's, else the order date; never before the order date (embedded database)."""

import asyncio
import datetime as dt
from decimal import Decimal as D

import pytest
from ar.adapters.tables import Customer, SalesOrder
from ar.bootstrap import MIGRATIONS
from ar.domain.invoice import LineInput
from ar.service.collections import open_sales_orders
from ar.service.orders import receive_sales_order
from fincore.db import Database, migrate
from fincore.tables import utcnow

ON = dt.date(2027, 1, 4)


def test_expected_delivery_defaults_to_the_order_date_and_is_listed_for_the_forecast(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'ar.db'}"
    migrate(MIGRATIONS, url)
    db = Database(url)
    lines = [LineInput(description="Widget", quantity=D(2), unit_price=D("100.00"), tax_code="VAT13")]

    async def receive(crm: str, expected: dt.date | None):
        async with db.transaction() as s:
            return await receive_sales_order(s, company="C", crm_order_id=crm, customer="K", order_date=ON,
                                             lines=lines, raw_lines=[], expected_delivery_date=expected)

    async def go():
        async with db.transaction() as s:
            s.add(Customer(company_id="C", code="K", name="K", customer_group="", currency="CNY",
                           payment_terms_days=45, credit_limit=D("100000"), credit_policy="block",
                           intercompany_partner="", updated_at=utcnow()))
        await receive("LATER", dt.date(2027, 2, 15))
        await receive("NOW", None)
        with pytest.raises(ValueError, match="expected_delivery_date 2027-01-03 is before the order date 2027-01-04"):
            await receive("BEFORE", dt.date(2027, 1, 3))
        async with db.sessions() as s:
            listed = await open_sales_orders(s, "C")
            kept = len((await s.execute(SalesOrder.__table__.select())).all())
        await db.dispose()
        return listed, kept

    listed, kept = asyncio.run(go())
    assert kept == 2  # the refused one changed nothing
    assert [(o["crm_order_id"], o["order_date"], o["expected_delivery_date"], o["not_invoiced"],
             o["payment_terms_days"]) for o in listed] == [
        ("NOW", "2027-01-04", "2027-01-04", "226.00", 45),  # by expected delivery date
        ("LATER", "2027-01-04", "2027-02-15", "226.00", 45)]
