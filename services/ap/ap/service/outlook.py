"""What a cash-flow forecast needs from payables: when and how much each open invoice will be
paid, by the payment run's own rule, and the open purchase orders not yet received.

The rule is the payment run's (`payments._item`, `terms.early_discount`), not a copy of it: an
invoice already in an open run is paid on that run's date with that run's amount; one whose
early-payment discount is still open is paid on its discount date, less the discount, as a run
that takes discounts would; anything else on its due date, in full. An invoice on payment hold
is listed (it is still owed) but never earns a discount."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from fincore import money
from fincore.tax import line_tax
from sqlalchemy.ext.asyncio import AsyncSession

from ap.adapters.tables import OrderLine, PaymentRun, PaymentRunItem, PurchaseOrder, Supplier, SupplierInvoice
from ap.domain.terms import TermsError, parse_terms
from ap.service.payments import OPEN_RUN, _item

ZERO = Decimal(0)


def expected_payment(inv: SupplierInvoice, as_of: dt.date) -> tuple[dt.date, Decimal, Decimal, str]:
    """(pay on, cash, discount, why) for an approved invoice not in an open run."""
    if inv.payment_hold_reason is None and inv.discount_date is not None and inv.discount_date >= as_of:
        amount, discount = _item(inv, inv.discount_date)
        if discount:
            return inv.discount_date, amount, discount, "discount date (a payment run takes the discount)"
    amount, discount = _item(inv, max(inv.due_date, as_of))  # past the discount date: in full
    return inv.due_date, amount, discount, "on hold: due date" if inv.payment_hold_reason else "due date"


async def expected_payments(session: AsyncSession, company: str, as_of: dt.date) -> list[dict]:
    runs = {inv_id: (number, pay_on, amount, discount) for inv_id, number, pay_on, amount, discount in (
        await session.execute(sa.select(PaymentRunItem.invoice_id, PaymentRun.number, PaymentRun.payment_date,
                                        PaymentRunItem.amount, PaymentRunItem.discount)
                              .join(PaymentRun, PaymentRun.id == PaymentRunItem.run_id)
                              .where(PaymentRun.company_id == company, PaymentRun.status.in_(OPEN_RUN)))).all()}
    invoices = (await session.execute(
        sa.select(SupplierInvoice).where(SupplierInvoice.company_id == company, SupplierInvoice.status == "approved",
                                         SupplierInvoice.gross_total != SupplierInvoice.settled)
        .order_by(SupplierInvoice.due_date, SupplierInvoice.number))).scalars().all()
    out = []
    for inv in invoices:
        if inv.id in runs:
            number, pay_on, amount, discount = runs[inv.id]
            why, run = f"in payment run {number}", number
        else:
            (pay_on, amount, discount, why), run = expected_payment(inv, as_of), None
        cur = inv.currency
        out.append({"id": inv.id, "number": inv.number, "supplier_code": inv.supplier_code,
                    "supplier_invoice_number": inv.supplier_invoice_number, "currency": cur,
                    "due_date": inv.due_date.isoformat(),
                    "discount_date": inv.discount_date.isoformat() if inv.discount_date else None,
                    "outstanding": money.format_amount(Decimal(inv.gross_total) - Decimal(inv.settled), cur),
                    "pay_on": pay_on.isoformat(), "amount": money.format_amount(amount, cur),
                    "discount": money.format_amount(discount, cur), "payment_run": run,
                    "on_hold": inv.payment_hold_reason is not None, "basis": why})
    return out


async def open_purchase_orders(session: AsyncSession, company: str) -> list[dict]:
    """Open orders with the value not yet received (net plus its VAT, per line as invoices
    round it), when the goods are expected in, and the supplier's net payment days."""
    orders = (await session.execute(
        sa.select(PurchaseOrder, Supplier.payment_terms)
        .outerjoin(Supplier, sa.and_(Supplier.company_id == PurchaseOrder.company_id,
                                     Supplier.code == PurchaseOrder.supplier_code))
        .where(PurchaseOrder.company_id == company, PurchaseOrder.status == "open")
        .order_by(PurchaseOrder.expected_receipt_date, PurchaseOrder.number))).all()
    lines: dict[str, list[OrderLine]] = {}
    if orders:
        for ln in (await session.execute(sa.select(OrderLine).where(
                OrderLine.po_id.in_([po.id for po, _ in orders])))).scalars():
            lines.setdefault(ln.po_id, []).append(ln)
    out = []
    for po, terms in orders:
        cur, left = po.currency, ZERO
        for ln in lines.get(po.id, []):
            qty = Decimal(ln.quantity) - Decimal(ln.received_qty)
            if qty > 0:
                net = money.quantize(qty * Decimal(ln.unit_price), cur)
                left += net + line_tax(net, ln.tax_code, cur)
        if left <= ZERO:
            continue
        try:
            days = parse_terms(terms or "NET0").net_days
        except TermsError:
            days = 0
        out.append({"id": po.id, "number": po.number, "supplier_code": po.supplier_code, "currency": cur,
                    "order_date": po.order_date.isoformat(),
                    "expected_receipt_date": po.expected_receipt_date.isoformat(),
                    "not_received": money.format_amount(left, cur),
                    "payment_terms": terms or "", "net_days": days})
    return out
