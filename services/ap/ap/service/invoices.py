"""Supplier invoices and employee expense claims: recorded, matched (stock) or budget-checked
(expense), approved -> InvoiceApproved (the GL posts GRNI, input VAT, price variance or the
expense, against payables) and the budget commitment made firm."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from finance.ap.v1 import events_pb2 as ap_events
from finance.common.v1 import types_pb2
from fincore import dates, money
from fincore.outbox import add_event
from fincore.sequences import allocate
from fincore.tables import utcnow
from fincore.tax import line_tax
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils import uuid7

from ap.adapters.budget_client import BudgetClient, decision_json
from ap.adapters.tables import OrderLine, PurchaseOrder, Supplier, SupplierInvoice, SupplierInvoiceLine
from ap.domain import matching
from ap.domain.terms import parse_terms
from ap.service.budgeting import BudgetRefused, SpendLine, budget_ref, group_spend, release_all, reserve_all
from ap.service.purchasing import close_order

ZERO = Decimal(0)
OPEN_MATCHED = ("matched", "approved", "paid")
KINDS = {"stock": ap_events.INVOICE_KIND_STOCK, "expense": ap_events.INVOICE_KIND_EXPENSE,
         "expense_claim": ap_events.INVOICE_KIND_EXPENSE_CLAIM}


class InvoiceError(ValueError):
    pass


class DuplicateInvoice(InvoiceError):
    pass


@dataclass(frozen=True)
class ExpenseLine:
    description: str
    amount: Decimal  # net
    tax_code: str
    cost_centre: str
    budget_item: str
    expense_category: str = ""


async def _supplier(session: AsyncSession, company: str, code: str) -> Supplier:
    sup = await session.get(Supplier, (company, code))
    if sup is None:
        raise InvoiceError(f"no supplier {code} in company {company}")
    return sup


async def _duplicate(session: AsyncSession, company: str, supplier: str, number: str) -> None:
    found = (await session.execute(sa.select(SupplierInvoice.number).where(
        SupplierInvoice.company_id == company, SupplierInvoice.supplier_code == supplier,
        SupplierInvoice.supplier_invoice_number == number))).scalar()
    if found:
        raise DuplicateInvoice(f"supplier {supplier} invoice {number} is already recorded as {found}")


def _header(sup: Supplier, *, kind: str, number: str, supplier_invoice_number: str, invoice_date: dt.date,
            currency: str, po_id: str | None, payment_terms: str | None = None) -> SupplierInvoice:
    """The invoice's terms are its own (payment_terms) or, when it states none, the supplier's."""
    text = (payment_terms or sup.payment_terms).strip().upper()
    terms = parse_terms(text)
    return SupplierInvoice(
        id=str(uuid7()), company_id=sup.company_id, number=number, kind=kind, supplier_code=sup.code,
        supplier_invoice_number=supplier_invoice_number, invoice_date=invoice_date,
        due_date=terms.due_date(invoice_date), discount_date=terms.discount_date(invoice_date),
        discount_pct=terms.discount_pct, payment_terms=text, currency=currency, po_id=po_id, net_total=ZERO,
        tax_total=ZERO,
        gross_total=ZERO, status="held", reasons=[], budget=[], settled=ZERO, created_at=utcnow())


async def _order_lines(session: AsyncSession, po_id: str) -> list[OrderLine]:
    return list((await session.execute(sa.select(OrderLine).where(OrderLine.po_id == po_id)
                                       .order_by(OrderLine.line_no))).scalars().all())


async def _invoiced(session: AsyncSession, po_id: str, statuses: tuple[str, ...],
                    exclude_invoice: str = "") -> dict[int, tuple[Decimal, Decimal]]:
    """Per order line: quantity invoiced and GRNI cleared by the order's invoices in `statuses`."""
    rows = (await session.execute(
        sa.select(SupplierInvoiceLine.po_line_no, sa.func.sum(SupplierInvoiceLine.quantity),
                  sa.func.sum(SupplierInvoiceLine.grni_cleared))
        .join(SupplierInvoice, SupplierInvoice.id == SupplierInvoiceLine.invoice_id)
        .where(SupplierInvoice.po_id == po_id, SupplierInvoice.status.in_(statuses),
               SupplierInvoice.id != exclude_invoice)
        .group_by(SupplierInvoiceLine.po_line_no))).all()
    return {n: (Decimal(q or 0), Decimal(v or 0)) for n, q, v in rows}


async def order_state(session: AsyncSession, po: PurchaseOrder, exclude_invoice: str | None = None
                      ) -> tuple[list[OrderLine], list[matching.OrderLine]]:
    """The order's lines, and the same with what was received and what earlier matched invoices took."""
    lines = await _order_lines(session, po.id)
    taken = await _invoiced(session, po.id, OPEN_MATCHED, exclude_invoice or "")
    zero = (ZERO, ZERO)
    return lines, [matching.OrderLine(ol.line_no, ol.item_code, Decimal(ol.quantity), Decimal(ol.unit_price),
                                      Decimal(ol.received_qty), Decimal(ol.received_value),
                                      *taken.get(ol.line_no, zero)) for ol in lines]


async def _apply_match(session: AsyncSession, inv: SupplierInvoice, po: PurchaseOrder,
                       invoice_lines: list[matching.InvoiceLine], tol: matching.Tolerances,
                       stated_gross: Decimal | None) -> matching.MatchResult:
    order_lines, state = await order_state(session, po, inv.id)
    result = matching.three_way_match(state, invoice_lines, inv.currency, tol, stated_gross)
    refs = {ol.line_no: ol for ol in order_lines}
    await session.execute(sa.delete(SupplierInvoiceLine).where(SupplierInvoiceLine.invoice_id == inv.id))
    for m in result.lines:
        ol = refs.get(m.order_line_no)
        session.add(SupplierInvoiceLine(
            invoice_id=inv.id, line_no=m.line_no, po_line_no=m.order_line_no, item_code=m.source.item_code,
            description=ol.description if ol else m.source.item_code, quantity=m.source.quantity,
            unit_price=m.source.unit_price, tax_code=m.source.tax_code, net=m.net, tax=m.tax,
            grni_cleared=m.grni_cleared, price_variance=m.price_variance, cost_centre=ol.cost_centre if ol else "",
            budget_item=ol.budget_item if ol else "", expense_category="", budget_ref=ol.budget_ref if ol else ""))
    inv.net_total, inv.tax_total, inv.gross_total = result.net_total, result.tax_total, result.gross_total
    inv.status, inv.reasons = ("matched", []) if result.matched else ("held", result.reasons)
    return result


async def record_stock_invoice(session: AsyncSession, *, company: str, supplier_code: str,
                               supplier_invoice_number: str, invoice_date: dt.date, purchase_order: str,
                               lines: list[matching.InvoiceLine], tol: matching.Tolerances,
                               stated_gross: Decimal | None = None, payment_terms: str | None = None
                               ) -> SupplierInvoice:
    sup = await _supplier(session, company, supplier_code)
    await _duplicate(session, company, supplier_code, supplier_invoice_number)
    po = (await session.execute(sa.select(PurchaseOrder).where(
        PurchaseOrder.company_id == company, PurchaseOrder.number == purchase_order))).scalar()
    if po is None:
        raise InvoiceError(f"no purchase order {purchase_order} in company {company}")
    if po.supplier_code != supplier_code:
        raise InvoiceError(f"order {purchase_order} is with supplier {po.supplier_code}, not {supplier_code}")
    if po.status != "open":
        raise InvoiceError(f"order {purchase_order} is {po.status}: it takes no more invoices")
    number = f"PI-{invoice_date.year}-{await allocate(session, f'pi:{company}:{invoice_date.year}'):06d}"
    inv = _header(sup, kind="stock", number=number, supplier_invoice_number=supplier_invoice_number,
                  invoice_date=invoice_date, currency=po.currency, po_id=po.id, payment_terms=payment_terms)
    session.add(inv)
    await session.flush()
    await _apply_match(session, inv, po, lines, tol, stated_gross)
    return inv


async def rematch(session: AsyncSession, inv: SupplierInvoice, tol: matching.Tolerances) -> SupplierInvoice:
    """Match a held stock invoice again (goods may have arrived since)."""
    if inv.kind != "stock" or inv.status != "held":
        raise InvoiceError(f"invoice {inv.number} is a {inv.kind} invoice in status {inv.status}: "
                           "only a held stock invoice is matched again")
    po = await session.get(PurchaseOrder, inv.po_id)
    lines = (await session.execute(sa.select(SupplierInvoiceLine).where(
        SupplierInvoiceLine.invoice_id == inv.id).order_by(SupplierInvoiceLine.line_no))).scalars().all()
    await _apply_match(session, inv, po, [matching.InvoiceLine(ln.item_code, Decimal(ln.quantity),
                                                               Decimal(ln.unit_price), ln.tax_code)
                                          for ln in lines], tol, None)
    return inv


def _expense_rows(inv: SupplierInvoice, lines: list[ExpenseLine], document: str) -> list[SupplierInvoiceLine]:
    rows = []
    for i, ln in enumerate(lines, start=1):
        net = money.quantize(ln.amount, inv.currency)
        rows.append(SupplierInvoiceLine(
            invoice_id=inv.id, line_no=i, po_line_no=None, item_code="", description=ln.description,
            quantity=Decimal(1), unit_price=net, tax_code=ln.tax_code, net=net,
            tax=line_tax(net, ln.tax_code, inv.currency), grni_cleared=ZERO, price_variance=ZERO,
            cost_centre=ln.cost_centre, budget_item=ln.budget_item, expense_category=ln.expense_category,
            budget_ref=budget_ref(document, ln.cost_centre, ln.budget_item)))
    return rows


async def record_expense(db, budget: BudgetClient, *, kind: str, company: str, supplier_code: str,
                         supplier_invoice_number: str, invoice_date: dt.date, lines: list[ExpenseLine],
                         token: str, payment_terms: str | None = None) -> SupplierInvoice:
    """An expense invoice (or an employee's claim): the budget is reserved per cost centre and
    item first. A claim over a BLOCK line is refused (BudgetRefused, nothing recorded); a
    supplier's invoice is a fact, so it is recorded and held with the budget's reasons."""
    async with db.sessions() as s:
        sup = await _supplier(s, company, supplier_code)
        await _duplicate(s, company, supplier_code, supplier_invoice_number)
    if kind == "expense_claim" and sup.supplier_group != "EMPLOYEE":
        raise InvoiceError(f"{supplier_code} is not an employee (supplier group EMPLOYEE)")
    if payment_terms:
        parse_terms(payment_terms)  # bad terms are refused before any budget is reserved
    for ln in lines:
        try:
            money.exact(ln.amount, sup.currency)
        except money.MoneyError as exc:
            raise InvoiceError(str(exc)) from None
    groups = group_spend([SpendLine(ln.cost_centre, ln.budget_item, money.quantize(ln.amount, sup.currency))
                          for ln in lines], invoice_date)
    inv_id = str(uuid7())
    document = f"{'EC' if kind == 'expense_claim' else 'PI'}:{inv_id}"
    reasons: list[str] = []
    try:
        decisions = await reserve_all(budget, company=company, currency=sup.currency, document=document,
                                      groups=groups, token=token)
    except BudgetRefused as exc:
        if kind == "expense_claim":
            raise
        decisions, reasons = exc.extra["budget"], [f"budget: {exc.detail}"]
    try:
        async with db.transaction() as s:
            prefix = "EC" if kind == "expense_claim" else "PI"
            seq = await allocate(s, f"{prefix.lower()}:{company}:{invoice_date.year}")
            inv = _header(sup, kind=kind, number=f"{prefix}-{invoice_date.year}-{seq:06d}",
                          supplier_invoice_number=supplier_invoice_number, invoice_date=invoice_date,
                          currency=sup.currency, po_id=None, payment_terms=payment_terms)
            inv.id = inv_id
            rows = _expense_rows(inv, lines, document)
            inv.net_total = sum((r.net for r in rows), ZERO)
            inv.tax_total = sum((r.tax for r in rows), ZERO)
            inv.gross_total = inv.net_total + inv.tax_total
            inv.budget = decisions
            inv.status, inv.reasons = ("held", reasons) if reasons else (
                "submitted" if kind == "expense_claim" else "matched", [])
            s.add(inv)
            await s.flush()
            s.add_all(rows)
    except BaseException:
        await release_all(budget, company=company, refs=[d["document_ref"] for d in decisions if d["allowed"]],
                          token=token)
        raise
    return inv


async def recheck_budget(db, budget: BudgetClient, inv: SupplierInvoice, token: str) -> SupplierInvoice:
    """A held expense invoice asks the budget again (after a revision or a release)."""
    if inv.kind != "expense" or inv.status != "held":
        raise InvoiceError(f"invoice {inv.number} is not a held expense invoice")
    async with db.sessions() as s:
        rows = (await s.execute(sa.select(SupplierInvoiceLine).where(
            SupplierInvoiceLine.invoice_id == inv.id))).scalars().all()
    groups = group_spend([SpendLine(r.cost_centre, r.budget_item, Decimal(r.net)) for r in rows], inv.invoice_date)
    try:
        decisions = await reserve_all(budget, company=inv.company_id, currency=inv.currency,
                                      document=f"PI:{inv.id}", groups=groups, token=token)
        status, reasons = "matched", []
    except BudgetRefused as exc:
        decisions, status, reasons = exc.extra["budget"], "held", [f"budget: {exc.detail}"]
    async with db.transaction() as s:
        inv = await s.get(SupplierInvoice, inv.id)
        inv.status, inv.reasons, inv.budget = status, reasons, decisions
    return inv


async def approve(db, budget: BudgetClient, inv: SupplierInvoice, *, approved_by: str, token: str) -> SupplierInvoice:
    """Commit the budget (reserved -> consumed) and publish InvoiceApproved, in that order: a
    commit is idempotent by (reservation, invoice), so a retry after a crash commits once."""
    ready = "submitted" if inv.kind == "expense_claim" else "matched"
    if inv.status != ready:
        raise InvoiceError(f"invoice {inv.number} is {inv.status}: only a {ready} one is approved"
                           + (f" ({'; '.join(inv.reasons)})" if inv.reasons else ""))
    async with db.sessions() as s:
        rows = (await s.execute(sa.select(SupplierInvoiceLine).where(SupplierInvoiceLine.invoice_id == inv.id)
                                .order_by(SupplierInvoiceLine.line_no))).scalars().all()
    per_ref: dict[str, Decimal] = {}
    for r in rows:
        per_ref[r.budget_ref] = per_ref.get(r.budget_ref, ZERO) + Decimal(r.net)
    commits = []
    for ref, amount in sorted(per_ref.items()):
        if amount <= 0:
            continue
        d = await budget.commit(company=inv.company_id, document_ref=ref, amount=amount, currency=inv.currency,
                                invoice_ref=inv.number, token=token)
        commits.append(decision_json(d, document_ref=ref, committed=money.format_amount(amount, inv.currency)))
        if not d.allowed:
            raise BudgetRefused(f"{ref}: {d.reason}", budget=commits)
    async with db.transaction() as s:
        inv = await s.get(SupplierInvoice, inv.id)
        if inv.status != ready:  # a concurrent approval won
            raise InvoiceError(f"invoice {inv.number} is {inv.status}")
        sup = await s.get(Supplier, (inv.company_id, inv.supplier_code))
        po = await s.get(PurchaseOrder, inv.po_id) if inv.po_id else None
        inv.status, inv.approved_by, inv.approved_at = "approved", approved_by, utcnow()
        inv.budget = [*inv.budget, *commits]
        add_event(s, approved_event(inv, sup, po, rows), source="ap")
    if po is not None and await fully_invoiced(db, po):
        await close_order(db, budget, po.id, token)  # releases what the order still holds
    return inv


async def fully_invoiced(db, po: PurchaseOrder) -> bool:
    """Every line of the order invoiced (by approved or paid invoices) to its ordered quantity."""
    async with db.sessions() as s:
        lines = await _order_lines(s, po.id)
        taken = await _invoiced(s, po.id, ("approved", "paid"))
    return po.status == "open" and all(taken.get(ln.line_no, (ZERO,))[0] >= ln.quantity for ln in lines)


def approved_event(inv: SupplierInvoice, sup: Supplier, po: PurchaseOrder | None,
                   rows: list[SupplierInvoiceLine]) -> ap_events.InvoiceApproved:
    cur = inv.currency
    lines = [ap_events.PayableLine(
        line_no=r.line_no, expense_category=r.expense_category, item_code=r.item_code, net=money.amount_pb(r.net, cur),
        price_variance=money.amount_pb(r.price_variance, cur), tax_code=r.tax_code, tax=money.amount_pb(r.tax, cur),
        dimensions=types_pb2.Dimensions(cost_centre=r.cost_centre if inv.kind != "stock" else "",
                                        supplier=inv.supplier_code, product=r.item_code)) for r in rows]
    ev = ap_events.InvoiceApproved(
        company_id=inv.company_id, document_number=inv.number, occurrence_date=dates.to_proto(inv.invoice_date),
        invoice_id=inv.id, supplier_code=inv.supplier_code, supplier_group=sup.supplier_group,
        intercompany_partner=sup.intercompany_partner, kind=KINDS[inv.kind], currency=inv.currency,
        purchase_order_ref=po.number if po else "", lines=lines, net_total=money.amount_pb(inv.net_total, cur),
        tax_total=money.amount_pb(inv.tax_total, cur), gross_total=money.amount_pb(inv.gross_total, cur),
        due_date=dates.to_proto(inv.due_date),
        supplier_invoice_number=inv.supplier_invoice_number)
    if inv.discount_date:
        ev.discount_date.CopyFrom(dates.to_proto(inv.discount_date))
    return ev


async def reject(db, budget: BudgetClient, inv: SupplierInvoice, token: str) -> SupplierInvoice:
    if inv.status not in ("held", "matched", "submitted"):
        raise InvoiceError(f"invoice {inv.number} is {inv.status}: an approved invoice is reversed by a credit note")
    if inv.kind != "stock":
        refs = sorted({d["document_ref"] for d in inv.budget if d.get("allowed") and "committed" not in d})
        await release_all(budget, company=inv.company_id, refs=refs, token=token)
    async with db.transaction() as s:
        inv = await s.get(SupplierInvoice, inv.id)
        inv.status = "rejected"
    return inv
