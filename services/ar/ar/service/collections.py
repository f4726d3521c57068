"""What a cash-flow forecast needs from receivables, read from AR's own books: the open
invoices, how each customer has paid so far (each receipt applied to an invoice, beside the
invoice's due date), and the accepted sales orders not yet fully invoiced.

Cash management learns the customers' habits from the history; AR only tells the facts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from fincore import money
from sqlalchemy.ext.asyncio import AsyncSession

from ar.adapters.tables import Customer, Invoice, Receipt, ReceiptApplication, SalesOrder

ZERO = Decimal(0)


async def open_invoices(session: AsyncSession, company: str) -> list[dict]:
    rows = (await session.execute(
        sa.select(Invoice).where(Invoice.company_id == company, Invoice.status == "open",
                                 Invoice.gross_total != Invoice.paid_amount)
        .order_by(Invoice.due_date, Invoice.number))).scalars().all()
    return [{"id": i.id, "number": i.number, "customer_code": i.customer_code, "currency": i.currency,
             "issue_date": i.issue_date.isoformat(), "due_date": i.due_date.isoformat(),
             "gross_total": money.format_amount(i.gross_total, i.currency),
             "outstanding": money.format_amount(i.gross_total - i.paid_amount, i.currency)} for i in rows]


async def payment_history(session: AsyncSession, company: str, since: dt.date | None) -> list[dict]:
    """Each receipt's application to an invoice: the cash's date (the receipt's) beside the due date."""
    q = (sa.select(Invoice.customer_code, Invoice.number, Invoice.currency, Invoice.due_date, Receipt.number,
                   Receipt.receipt_date, ReceiptApplication.amount)
         .join(ReceiptApplication, ReceiptApplication.invoice_id == Invoice.id)
         .join(Receipt, Receipt.id == ReceiptApplication.receipt_id)
         .where(Invoice.company_id == company))
    if since:
        q = q.where(Receipt.receipt_date >= since)
    rows = (await session.execute(q.order_by(Invoice.customer_code, Receipt.receipt_date, Invoice.number))).all()
    return [{"customer_code": c, "invoice_number": n, "currency": cur, "due_date": due.isoformat(),
             "receipt_number": rn, "paid_on": paid.isoformat(), "amount": money.format_amount(amt, cur)}
            for c, n, cur, due, rn, paid, amt in rows]


async def open_sales_orders(session: AsyncSession, company: str) -> list[dict]:
    """Accepted orders with what is not invoiced yet (the order's gross less the gross of the
    invoices that name it), when they are expected to ship (and so to be invoiced), and the
    customer's payment terms."""
    invoiced = (sa.select(Invoice.sales_order_ref, sa.func.sum(Invoice.gross_total).label("gross"))
                .where(Invoice.company_id == company, Invoice.sales_order_ref != "")
                .group_by(Invoice.sales_order_ref).subquery())
    rows = (await session.execute(
        sa.select(SalesOrder, sa.func.coalesce(invoiced.c.gross, 0), Customer.payment_terms_days)
        .outerjoin(invoiced, invoiced.c.sales_order_ref == SalesOrder.crm_order_id)
        .outerjoin(Customer, sa.and_(Customer.company_id == SalesOrder.company_id,
                                     Customer.code == SalesOrder.customer_code))
        .where(SalesOrder.company_id == company, SalesOrder.status == "accepted")
        .order_by(SalesOrder.expected_delivery_date, SalesOrder.crm_order_id))).all()
    out = []
    for o, done, terms in rows:
        left = Decimal(o.amount) - Decimal(done)
        if left > ZERO:
            out.append({"id": o.id, "crm_order_id": o.crm_order_id, "customer_code": o.customer_code,
                        "currency": o.currency, "order_date": o.order_date.isoformat(),
                        "expected_delivery_date": o.expected_delivery_date.isoformat(),
                        "amount": money.format_amount(o.amount, o.currency),
                        "not_invoiced": money.format_amount(left, o.currency),
                        "payment_terms_days": terms or 0})
    return out
