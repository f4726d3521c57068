# ruff: noqa: E501
"""Credit memos: an invoice is never edited or deleted; returns, price adjustments and
cancellations are credit memos against it (CreditMemoIssued: the GL reverses revenue, VAT
and the receivable). The memo first reduces what the invoice still owes; anything beyond
that (the invoice was already paid) is credit the customer holds.

A memo names an invoice of its company (the API checks the token's company), never a
written-off one (its receivable is gone: a memo would make credit out of nothing); its items
are the invoice's, a RETURN takes back no more of an item than the invoice billed less what
earlier returns and cancellations took, and all memos together never exceed the invoice.
The invoice row is locked while this is read, so concurrent memos cannot together exceed it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from finance.ar.v1 import events_pb2 as ar_events
from finance.common.v1 import types_pb2
from fincore import dates, money
from fincore.db import locked
from fincore.outbox import add_event
from fincore.sequences import allocate
from fincore.tables import utcnow
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils import uuid7

from ar.adapters.tables import CreditMemo, Customer, Invoice, InvoiceLine
from ar.domain.invoice import InvoiceError, LineInput, price_invoice
from ar.service import quantities

REASONS = {"RETURN": ar_events.CREDIT_MEMO_REASON_RETURN,
           "PRICE_ADJUSTMENT": ar_events.CREDIT_MEMO_REASON_PRICE_ADJUSTMENT,
           "CANCELLATION": ar_events.CREDIT_MEMO_REASON_CANCELLATION}


async def issue_credit_memo(session: AsyncSession, *, invoice_id: str, reason: str, on: dt.date,
                            lines: list[LineInput] | None = None, source_ref: str | None = None) -> CreditMemo:
    if reason not in REASONS:
        raise InvoiceError(f"reason must be one of {', '.join(REASONS)}")
    q = locked(sa.select(Invoice).where(Invoice.id == invoice_id))  # refreshed: a receipt may just have paid it
    inv = (await session.execute(q)).scalar_one_or_none()
    if inv is None:
        raise InvoiceError(f"no invoice {invoice_id}")
    if inv.status == "written_off":
        raise InvoiceError(f"invoice {inv.number} was written off: there is no receivable left to credit")
    credited = (await session.execute(sa.select(sa.func.coalesce(sa.func.sum(CreditMemo.gross_total), 0)).where(
        CreditMemo.invoice_id == invoice_id))).scalar_one()
    if reason == "CANCELLATION":
        if Decimal(credited):
            raise InvoiceError("an invoice with credit memos is cancelled by crediting what is left, not in full")
        rows = (await session.execute(sa.select(InvoiceLine).where(InvoiceLine.invoice_id == invoice_id)
                                      .order_by(InvoiceLine.line_no))).scalars().all()
        lines = [LineInput(r.description, r.quantity, r.unit_price, r.tax_code, r.discount, r.item_code,
                           r.item_category) for r in rows]
    if not lines:
        raise InvoiceError("a credit memo needs lines")
    if reason != "CANCELLATION":
        left = (await quantities.billed(session, [inv.id]))[inv.id]
        for i, ln in enumerate(lines, 1):
            if ln.item_code and ln.item_code not in left:
                raise InvoiceError(f"line {i}: invoice {inv.number} did not bill item {ln.item_code}")
            if reason == "RETURN":
                if ln.quantity > left.get(ln.item_code, Decimal(0)):
                    raise InvoiceError(f"line {i}: returning {format(ln.quantity.normalize(), 'f')} of "
                                       f"{ln.item_code or '(no item)'} against invoice {inv.number}, which has "
                                       f"{format(left.get(ln.item_code, Decimal(0)).normalize(), 'f')} left to return")
                left[ln.item_code] -= ln.quantity
    priced = price_invoice(inv.currency, lines)
    if priced.gross_total + Decimal(credited) > inv.gross_total:
        raise InvoiceError(f"credit memos would exceed invoice {inv.number} ({inv.gross_total})")
    if on < inv.issue_date:
        raise InvoiceError("a credit memo cannot predate its invoice")
    applied = min(priced.gross_total, inv.gross_total - inv.paid_amount)
    inv.paid_amount += applied
    if inv.paid_amount >= inv.gross_total:
        inv.status = "cancelled" if reason == "CANCELLATION" else "paid"
    seq = await allocate(session, f"credit_memo:{inv.company_id}:{on.year}")
    memo = CreditMemo(id=str(uuid7()), company_id=inv.company_id, number=f"CM-{on.year}-{seq:06d}",
                      invoice_id=inv.id, customer_code=inv.customer_code, memo_date=on, reason=reason,
                      currency=inv.currency, net_total=priced.net_total, tax_total=priced.tax_total,
                      gross_total=priced.gross_total, applied=applied,
                      lines=[{"item_code": p.source.item_code, "description": p.source.description,
                              "quantity": str(p.source.quantity),
                              "unit_price": money.format_price(p.source.unit_price, inv.currency),
                              "tax_code": p.source.tax_code, "net": money.format_amount(p.net, inv.currency),
                              "tax": money.format_amount(p.tax, inv.currency)}
                             for p in priced.lines],
                      source_ref=source_ref, created_at=utcnow())
    session.add(memo)
    m = lambda v: money.to_proto(v, inv.currency)  # noqa: E731
    add_event(session, ar_events.CreditMemoIssued(
        company_id=inv.company_id, document_number=memo.number, occurrence_date=dates.to_proto(on),
        credit_memo_id=memo.id, invoice_id=inv.id, customer_code=inv.customer_code,
        customer_group=inv.customer_group, currency=inv.currency, reason=REASONS[reason],
        lines=[ar_events.InvoiceLine(line_no=p.line_no, item_code=p.source.item_code, description=p.source.description,
                                     quantity=str(p.source.quantity), unit_price=m(p.source.unit_price), net=m(p.net),
                                     tax_code=p.source.tax_code, tax=m(p.tax)) for p in priced.lines],
        net_total=m(priced.net_total), tax_total=m(priced.tax_total), gross_total=m(priced.gross_total),
        applied=m(applied), dimensions=types_pb2.Dimensions(
            customer=inv.customer_code, intercompany_partner=await _partner(session, inv.company_id,
                                                                            inv.customer_code))), source="ar")
    return memo


async def _partner(session, company_id: str, customer_code: str) -> str:
    """The customer's intercompany partner (the GL puts it on the memo's lines, as on the invoice's)."""
    c = await session.get(Customer, (company_id, customer_code))
    return c.intercompany_partner if c is not None else ""
