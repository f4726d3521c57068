# ruff: noqa: E501
"""Sales order / shipment / invoice / receipt reconciliation, per order and per customer,
with every mismatch named: shipped not invoiced, returned not credited, invoiced not paid,
shipped more than ordered, paid not invoiced (unapplied cash), credit held from credit
memos.

Per order line it gives the quantities: ordered, shipped (the warehouse's shipments of the
order), invoiced (net of cancellations) and returned (customer returns credited). Shipments,
invoices and returns name items, not order lines: where an order has an item on several
lines, the quantities fill its lines in line order and the last line takes any excess."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import sqlalchemy as sa
from fincore import money
from fincore.rates import RateUnavailable
from sqlalchemy.ext.asyncio import AsyncSession

from ar.adapters.tables import (
    CreditMemo,
    Customer,
    Invoice,
    InvoiceLine,
    Receipt,
    ReceiptApplication,
    SalesOrder,
    Shipment,
)
from ar.service import quantities
from ar.service.credit import position

ZERO = Decimal(0)



def _n(v: Decimal) -> str:
    return format(v.normalize(), "f") if v else "0"


def _fill(order_lines: list[dict], totals: dict[str, Decimal]) -> list[Decimal]:
    """Spread per-item quantities over the order's lines in line order (the last line of an item takes the excess)."""
    left = dict(totals)
    last = {ln.get("item_code", ""): i for i, ln in enumerate(order_lines)}
    out = []
    for i, ln in enumerate(order_lines):
        item = ln.get("item_code", "")
        take = left.get(item, ZERO) if last[item] == i else min(left.get(item, ZERO), Decimal(str(ln["quantity"])))
        left[item] = left.get(item, ZERO) - take
        out.append(take)
    return out


async def _order_quantities(session: AsyncSession, company: str, order: SalesOrder, ships: list[Shipment],
                            invs: list[Invoice]) -> tuple[list[dict], list[str]]:
    shipped_invoices = [s.invoice_id for s in ships if s.kind == "issue" and s.invoice_id]
    shipped: dict[str, Decimal] = defaultdict(Decimal)
    if shipped_invoices:  # an invoice AR issues from a shipment bills exactly what was shipped
        for item, qty in (await session.execute(sa.select(InvoiceLine.item_code, InvoiceLine.quantity).where(
                InvoiceLine.invoice_id.in_(shipped_invoices)))).all():
            shipped[item] += Decimal(qty)
    ids = [i.id for i in invs]
    invoiced = await quantities.invoiced_for_order(session, company, order.crm_order_id)
    returned = await quantities.returned(session, ids)
    for item, qty in returned.items():  # invoiced is net of returns and cancellations; show returns apart
        invoiced[item] = invoiced.get(item, ZERO) + qty
    lines, mismatches = [], []
    cols = {k: _fill(order.lines, v) for k, v in (("shipped", shipped), ("invoiced", invoiced), ("returned", returned))}
    for i, ln in enumerate(order.lines):
        ordered = Decimal(str(ln["quantity"]))
        row = {"line_no": i + 1, "item": ln.get("item_code", ""), "ordered": _n(ordered),
               **{k: _n(v[i]) for k, v in cols.items()}}
        lines.append(row)
        if cols["shipped"][i] > ordered:
            mismatches.append(f"shipped more than ordered: line {i + 1} ({row['item']}) {row['shipped']} of {row['ordered']}")
        if cols["invoiced"][i] > max(ordered, cols["shipped"][i]):
            mismatches.append(f"invoiced more than ordered: line {i + 1} ({row['item']}) {row['invoiced']} of {row['ordered']}")
    return lines, mismatches


async def reconciliation(session: AsyncSession, company: str, customer: str | None = None) -> dict:
    q = sa.select(SalesOrder).where(SalesOrder.company_id == company, SalesOrder.status == "accepted")
    if customer:
        q = q.where(SalesOrder.customer_code == customer)
    orders = (await session.execute(q.order_by(SalesOrder.crm_order_id))).scalars().all()
    out, customers = [], defaultdict(lambda: {"outstanding": ZERO})
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
        lines, qty_mismatches = await _order_quantities(session, company, o, ships, invs)
        mismatches = [f"shipped not invoiced: {s.document_number}" for s in ships if s.kind == "issue" and not s.invoice_id]
        mismatches += [f"returned not credited: {s.document_number}" for s in ships
                       if s.kind == "return" and not s.credit_memo_id]
        mismatches += [f"invoiced not paid: {i.number} ({money.format_amount(i.gross_total - i.paid_amount, i.currency)})" for i in invs
                       if i.gross_total > i.paid_amount]
        mismatches += qty_mismatches
        cur = o.currency
        out.append({"order": o.crm_order_id, "customer": o.customer_code, "ordered": money.format_amount(o.amount, cur),
                    "shipments": len([s for s in ships if s.kind == "issue"]),
                    "returns": len([s for s in ships if s.kind == "return"]), "invoiced": money.format_amount(invoiced, cur),
                    "credited": money.format_amount(credited, cur), "paid": money.format_amount(paid, cur),
                    "outstanding": money.format_amount(outstanding, cur), "lines": lines, "mismatches": mismatches})
        customers[o.customer_code]["outstanding"] += outstanding
    # Every customer with orders, or holding credit (a receipt or credit memo of its own).
    holders = sa.union(
        sa.select(Receipt.customer_code).where(Receipt.company_id == company, Receipt.unapplied > 0),
        sa.select(CreditMemo.customer_code).where(CreditMemo.company_id == company,
                                                  CreditMemo.gross_total > CreditMemo.applied))
    for (cust,) in (await session.execute(holders)).all():
        if not customer or cust == customer:
            customers[cust]  # noqa: B018 - creates the entry
    per_customer = []
    for cust, v in sorted(customers.items()):
        c = await session.get(Customer, (company, cust))
        cur = c.currency if c else "CNY"
        q = lambda amount, cur=cur: money.format_amount(amount, cur)  # noqa: E731
        try:
            pos = await position(session, company, cust, cur)
        except RateUnavailable as exc:  # open invoices in a currency without a rate: shown, not converted
            pos = None
            rate_missing = str(exc)
        if pos is None:
            per_customer.append({"customer": cust, "outstanding": q(v["outstanding"]), "unapplied_cash": None,
                                 "unapplied_credit_memos": None, "credit": None, "exposure": None,
                                 "mismatches": [f"credit position not computed: {rate_missing}"]})
            continue
        mismatches = [f"paid not invoiced: {q(pos.unapplied_cash)} unapplied cash"] if pos.unapplied_cash else []
        if pos.credit_memos:
            mismatches.append(f"credit held: {q(pos.credit_memos)} of credit memos not applied (refund or apply it)")
        per_customer.append({"customer": cust, "outstanding": q(v["outstanding"]),
                             "unapplied_cash": q(pos.unapplied_cash), "unapplied_credit_memos": q(pos.credit_memos),
                             "credit": q(pos.credit), "exposure": q(pos.exposure), "mismatches": mismatches})
    return {"company": company, "orders": out, "customers": per_customer}
