# ruff: noqa: E501
"""Sales order / shipment / invoice / receipt reconciliation, per order and per customer,
with every mismatch named: shipped not invoiced, returned not credited, invoiced not paid,
paid not invoiced (unapplied cash)."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from fincore import money
from sqlalchemy.ext.asyncio import AsyncSession

from ar.adapters.tables import CreditMemo, Invoice, Receipt, ReceiptApplication, SalesOrder, Shipment

ZERO = Decimal(0)



async def reconciliation(session: AsyncSession, company: str, customer: str | None = None) -> dict:
    q = sa.select(SalesOrder).where(SalesOrder.company_id == company, SalesOrder.status == "accepted")
    if customer:
        q = q.where(SalesOrder.customer_code == customer)
    orders = (await session.execute(q.order_by(SalesOrder.crm_order_id))).scalars().all()
    out, customers = [], {}
    for o in orders:
        ships = (await session.execute(sa.select(Shipment).where(
            Shipment.company_id == company, Shipment.order_ref == o.crm_order_id))).scalars().all()
        invs = (await session.execute(sa.select(Invoice).where(
            Invoice.company_id == company, Invoice.sales_order_ref == o.crm_order_id))).scalars().all()
        ids = [i.id for i in invs]
        credited = Decimal((await session.execute(sa.select(sa.func.coalesce(sa.func.sum(CreditMemo.gross_total), 0))
                                                  .where(CreditMemo.invoice_id.in_(ids)))).scalar_one()) if ids else ZERO
        paid = Decimal((await session.execute(sa.select(sa.func.coalesce(sa.func.sum(ReceiptApplication.amount), 0))
                                              .where(ReceiptApplication.invoice_id.in_(ids)))).scalar_one()) if ids else ZERO
        invoiced = sum((i.gross_total for i in invs), ZERO)
        outstanding = sum((i.gross_total - i.paid_amount for i in invs), ZERO)
        mismatches = [f"shipped not invoiced: {s.document_number}" for s in ships if s.kind == "issue" and not s.invoice_id]
        mismatches += [f"returned not credited: {s.document_number}" for s in ships
                       if s.kind == "return" and not s.credit_memo_id]
        mismatches += [f"invoiced not paid: {i.number} ({money.format_amount(i.gross_total - i.paid_amount, i.currency)})" for i in invs
                       if i.gross_total > i.paid_amount]
        cur = o.currency
        out.append({"order": o.crm_order_id, "customer": o.customer_code, "ordered": money.format_amount(o.amount, cur), "shipments": len([s for s in ships if s.kind == "issue"]),
                    "returns": len([s for s in ships if s.kind == "return"]), "invoiced": money.format_amount(invoiced, cur),
                    "credited": money.format_amount(credited, cur), "paid": money.format_amount(paid, cur),
                    "outstanding": money.format_amount(outstanding, cur), "mismatches": mismatches})
        customers.setdefault(o.customer_code, {"outstanding": ZERO, "currency": o.currency})["outstanding"] += outstanding
    rq = sa.select(Receipt.customer_code, Receipt.currency, sa.func.sum(Receipt.unapplied)).where(Receipt.company_id == company)
    if customer:
        rq = rq.where(Receipt.customer_code == customer)
    for cust, cur, unapplied in (await session.execute(rq.group_by(Receipt.customer_code, Receipt.currency))).all():
        customers.setdefault(cust, {"outstanding": ZERO, "currency": cur})["unapplied_cash"] = Decimal(unapplied)
    per_customer = []
    for cust, v in sorted(customers.items()):
        unapplied, cur = v.get("unapplied_cash", ZERO), v["currency"]
        per_customer.append({"customer": cust, "outstanding": money.format_amount(v["outstanding"], cur),
                             "unapplied_cash": money.format_amount(unapplied, cur),
                             "mismatches": [f"paid not invoiced: {money.format_amount(unapplied, cur)} unapplied cash"]
                             if unapplied else []})
    return {"company": company, "orders": out, "customers": per_customer}
