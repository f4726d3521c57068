"""Quantities along an order: ordered, shipped, invoiced and returned per item, the one
place that counts them. Invoicing against an order, returns against invoices and the
reconciliation report all read them from here, so they cannot disagree.

Invoiced quantities are net: what invoices billed less what RETURN and CANCELLATION credit
memos took back (a price adjustment moves money, not goods)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from ar.adapters.tables import CreditMemo, Invoice, InvoiceLine, SalesOrder

ZERO = Decimal(0)
GOODS_BACK = ("RETURN", "CANCELLATION")


def ordered(order: SalesOrder) -> dict[str, Decimal]:
    out: dict[str, Decimal] = defaultdict(Decimal)
    for ln in order.lines:
        out[ln.get("item_code", "")] += Decimal(str(ln["quantity"]))
    return dict(out)


async def billed(session: AsyncSession, invoice_ids: list[str]) -> dict[str, dict[str, Decimal]]:
    """Per invoice, per item: quantity invoiced less quantity credited back (returns, cancellations)."""
    out: dict[str, dict[str, Decimal]] = {i: defaultdict(Decimal) for i in invoice_ids}
    if not invoice_ids:
        return out
    for inv_id, item, qty in (await session.execute(
            sa.select(InvoiceLine.invoice_id, InvoiceLine.item_code, InvoiceLine.quantity)
            .where(InvoiceLine.invoice_id.in_(invoice_ids)))).all():
        out[inv_id][item] += Decimal(qty)
    for memo in (await session.execute(sa.select(CreditMemo).where(
            CreditMemo.invoice_id.in_(invoice_ids), CreditMemo.reason.in_(GOODS_BACK)))).scalars():
        for ln in memo.lines:
            out[memo.invoice_id][ln.get("item_code", "")] -= Decimal(ln["quantity"])
    return out


async def returned(session: AsyncSession, invoice_ids: list[str]) -> dict[str, Decimal]:
    """Per item: quantity credited by RETURN memos against these invoices."""
    out: dict[str, Decimal] = defaultdict(Decimal)
    if invoice_ids:
        for memo in (await session.execute(sa.select(CreditMemo).where(
                CreditMemo.invoice_id.in_(invoice_ids), CreditMemo.reason == "RETURN"))).scalars():
            for ln in memo.lines:
                out[ln.get("item_code", "")] += Decimal(ln["quantity"])
    return dict(out)


async def order_invoices(session: AsyncSession, company: str, order_ref: str) -> list[Invoice]:
    return list((await session.execute(sa.select(Invoice).where(
        Invoice.company_id == company, Invoice.sales_order_ref == order_ref)
        .order_by(Invoice.issue_date, Invoice.number))).scalars())


async def invoiced_for_order(session: AsyncSession, company: str, order_ref: str) -> dict[str, Decimal]:
    """Per item: net quantity invoiced so far against an order."""
    per_invoice = await billed(session, [i.id for i in await order_invoices(session, company, order_ref)])
    out: dict[str, Decimal] = defaultdict(Decimal)
    for items in per_invoice.values():
        for item, qty in items.items():
            out[item] += qty
    return dict(out)
