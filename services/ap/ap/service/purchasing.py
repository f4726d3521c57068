"""Purchase requisitions (budget checked and reserved when requested) and purchase orders."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from fincore import money
from fincore.sequences import allocate
from fincore.tables import utcnow
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils import uuid7

from ap.adapters.budget_client import BudgetClient
from ap.adapters.tables import OrderLine, PurchaseOrder, Requisition, Supplier
from ap.service.budgeting import SpendLine, budget_ref, group_spend, release_all, reserve_all


class PurchasingError(ValueError):
    pass


@dataclass(frozen=True)
class RequestedLine:
    description: str
    quantity: Decimal
    unit_price: Decimal
    tax_code: str
    cost_centre: str
    budget_item: str
    item_code: str = ""
    expense_category: str = ""


async def raise_requisition(db, budget: BudgetClient, *, company: str, requested_by: str, request_date: dt.date,
                            currency: str, lines: list[RequestedLine], idempotency_key: str | None,
                            token: str) -> Requisition:
    """Check and reserve the budget, then record the requisition. A refusal records nothing."""
    money.minor_units(currency)
    nets = [money.quantize(ln.quantity * ln.unit_price, currency) for ln in lines]
    groups = group_spend([SpendLine(ln.cost_centre, ln.budget_item, n) for ln, n in zip(lines, nets, strict=True)],
                         request_date)
    req_id = str(uuid7())
    decisions = await reserve_all(budget, company=company, currency=currency, document=f"PR:{req_id}",
                                  groups=groups, token=token)
    try:
        async with db.transaction() as s:
            # REQ-: payment runs number PAYRUN-; requisitions recorded before keep their PR- numbers
            number = f"REQ-{request_date.year}-{await allocate(s, f'requisition:{company}:{request_date.year}'):06d}"
            req = Requisition(
                id=req_id, company_id=company, number=number, requested_by=requested_by, request_date=request_date,
                currency=currency, status="approved", net_total=sum(nets, Decimal(0)), budget=decisions,
                idempotency_key=idempotency_key, created_at=utcnow(),
                lines=[{"line_no": i, "item_code": ln.item_code, "description": ln.description,
                        "quantity": str(ln.quantity), "unit_price": money.format_price(ln.unit_price, currency),
                        "tax_code": ln.tax_code,
                        "cost_centre": ln.cost_centre, "budget_item": ln.budget_item,
                        "expense_category": ln.expense_category, "net": money.format_amount(n, currency),
                        "budget_ref": budget_ref(f"PR:{req_id}", ln.cost_centre, ln.budget_item)}
                       for i, (ln, n) in enumerate(zip(lines, nets, strict=True), start=1)])
            s.add(req)
    except BaseException:
        await release_all(budget, company=company, refs=[d["document_ref"] for d in decisions], token=token)
        raise
    return req


async def cancel_requisition(db, budget: BudgetClient, req: Requisition, token: str) -> None:
    if req.status != "approved":
        raise PurchasingError(f"requisition {req.number} is {req.status}: only an approved one is cancelled")
    await release_all(budget, company=req.company_id, refs=sorted({ln["budget_ref"] for ln in req.lines}),
                      token=token)
    async with db.transaction() as s:
        r = await s.get(Requisition, req.id)
        r.status = "cancelled"


async def order(session: AsyncSession, *, requisition_id: str, supplier_code: str, order_date: dt.date,
                prices: dict[int, Decimal] | None = None,
                expected_receipt_date: dt.date | None = None) -> PurchaseOrder:
    """A purchase order for an approved requisition; its lines spend the requisition's reservations.
    `expected_receipt_date` (default: the order date) is when the goods are expected in; never
    before the order date."""
    expected = expected_receipt_date or order_date
    if expected < order_date:
        raise PurchasingError(f"expected_receipt_date {expected.isoformat()} is before the order date "
                              f"{order_date.isoformat()}")
    req = await session.get(Requisition, requisition_id)
    if req is None:
        raise LookupError(f"no requisition {requisition_id}")
    if req.status != "approved":
        raise PurchasingError(f"requisition {req.number} is {req.status}")
    sup = await session.get(Supplier, (req.company_id, supplier_code))
    if sup is None:
        raise PurchasingError(f"no supplier {supplier_code} in company {req.company_id}")
    if sup.currency != req.currency:
        raise PurchasingError(f"supplier {supplier_code} bills in {sup.currency}, the requisition is in {req.currency}")
    no_item = [ln for ln in req.lines if not ln["item_code"]]
    if no_item:
        raise PurchasingError(f"requisition line {no_item[0]['line_no']} has no item: expense purchases are invoiced "
                              "directly, orders are for stock items")
    number = f"PO-{order_date.year}-{await allocate(session, f'po:{req.company_id}:{order_date.year}'):06d}"
    po = PurchaseOrder(id=str(uuid7()), company_id=req.company_id, number=number, supplier_code=supplier_code,
                       requisition_id=req.id, order_date=order_date, expected_receipt_date=expected,
                       currency=req.currency, status="open",
                       created_at=utcnow())
    session.add(po)
    await session.flush()
    for ln in req.lines:
        price = (prices or {}).get(ln["line_no"], Decimal(ln["unit_price"]))
        session.add(OrderLine(po_id=po.id, line_no=ln["line_no"], item_code=ln["item_code"],
                              description=ln["description"], quantity=Decimal(ln["quantity"]), unit_price=price,
                              tax_code=ln["tax_code"], cost_centre=ln["cost_centre"], budget_item=ln["budget_item"],
                              budget_ref=ln["budget_ref"], received_qty=Decimal(0), received_value=Decimal(0)))
    req.status = "ordered"
    return po


async def close_order(db, budget: BudgetClient, po_id: str, token: str, *, reason: str = "closed") -> PurchaseOrder:
    """Close an order: nothing more is invoiced on it, and the budget its requisition still
    holds (what was ordered but not invoiced, or invoiced for less) is released."""
    async with db.sessions() as s:
        po = await s.get(PurchaseOrder, po_id)
        if po.status != "open":
            raise PurchasingError(f"order {po.number} is {po.status}")
        refs = sorted(set((await s.execute(sa.select(OrderLine.budget_ref).where(
            OrderLine.po_id == po_id))).scalars()))
    await release_all(budget, company=po.company_id, refs=refs, token=token)
    async with db.transaction() as s:
        po = await s.get(PurchaseOrder, po_id)
        po.status = "closed"
    return po
