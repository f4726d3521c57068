"""Issue an invoice: the invoice, its lines and the InvoiceIssued event commit together.

An invoice is for a customer of its company (unknown customers are refused: they would
escape credit control); the customer's group and payment terms fill what the request leaves
out. An invoice that names a sales order (`sales_order_ref`, checked when the client sends
it) must be for that order's customer and currency and its items, for no more than the
order has left to invoice; the order row is locked while that is read, so two concurrent
invoices cannot together exceed it. Invoices issued from the warehouse's shipments bill what
was shipped (the reconciliation report names shipments beyond the order)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
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

from ar.adapters.tables import Customer, Invoice, InvoiceLine, SalesOrder
from ar.domain.invoice import InvoiceError, LineInput, PricedInvoice, price_invoice
from ar.service import quantities
from ar.service.credit import consume_for_invoice


def _n(v: Decimal) -> str:
    return format(v.normalize(), "f")


async def _check_against_order(session: AsyncSession, *, company_id: str, customer_code: str, currency: str,
                               order_ref: str, lines: list[LineInput]) -> None:
    q = locked(sa.select(SalesOrder).where(SalesOrder.company_id == company_id,
                                           SalesOrder.crm_order_id == order_ref))
    order = (await session.execute(q)).scalar_one_or_none()
    if order is None or order.status != "accepted":
        raise InvoiceError(f"no accepted sales order {order_ref!r} in company {company_id!r}")
    if order.customer_code != customer_code:
        raise InvoiceError(f"sales order {order_ref} is for customer {order.customer_code}, not {customer_code}")
    if order.currency != currency:
        raise InvoiceError(f"sales order {order_ref} is in {order.currency}, not {currency}")
    ordered = quantities.ordered(order)
    done = await quantities.invoiced_for_order(session, company_id, order_ref)
    asked: dict[str, Decimal] = defaultdict(Decimal)
    for ln in lines:
        asked[ln.item_code] += ln.quantity
    for item, qty in asked.items():
        if item not in ordered:
            raise InvoiceError(f"sales order {order_ref} has no line for item {item or '(none)'}")
        left = ordered[item] - done.get(item, Decimal(0))
        if qty > left:
            raise InvoiceError(f"sales order {order_ref}: invoicing {_n(qty)} of item {item or '(none)'}, but "
                               f"{_n(left)} of the {_n(ordered[item])} ordered {'is' if left == 1 else 'are'} "
                               "left to invoice")



async def issue_invoice(session: AsyncSession, *, company_id: str, customer_code: str, customer_group: str,
                        currency: str, issue_date: dt.date, due_date: dt.date | None, lines: list[LineInput],
                        sales_order_ref: str = "", dimensions: dict[str, str] | None = None,
                        idempotency_key: str | None = None, digest: str = "",
                        check_order: bool = True) -> tuple[Invoice, list[InvoiceLine]]:
    """`check_order=False`: the invoice bills a shipment of the order (AR's own consumer)."""
    priced: PricedInvoice = price_invoice(currency, lines)
    customer = await session.get(Customer, (company_id, customer_code))
    if customer is None:
        raise InvoiceError(f"no customer {customer_code!r} in company {company_id!r}: create it first "
                           f"(PUT /v1/customers/{customer_code}), so its credit is controlled")
    customer_group = customer_group or customer.customer_group
    due_date = due_date or issue_date + dt.timedelta(days=customer.payment_terms_days)
    if sales_order_ref and check_order:
        await _check_against_order(session, company_id=company_id, customer_code=customer_code, currency=currency,
                                   order_ref=sales_order_ref, lines=lines)
    seq = await allocate(session, f"invoice:{company_id}:{issue_date.year}")
    inv = Invoice(
        id=str(uuid7()), company_id=company_id, number=f"INV-{issue_date.year}-{seq:06d}",
        customer_code=customer_code, customer_group=customer_group, currency=currency,
        issue_date=issue_date, due_date=due_date,
        net_total=priced.net_total, tax_total=priced.tax_total, gross_total=priced.gross_total,
        status="open", sales_order_ref=sales_order_ref, idempotency_key=idempotency_key,
        request_hash=digest, dimensions=dimensions or {}, created_at=utcnow(),
    )
    session.add(inv)
    await session.flush()
    rows = []
    event = ar_events.InvoiceIssued(
        company_id=company_id, document_number=inv.number, occurrence_date=dates.to_proto(issue_date),
        invoice_id=inv.id, customer_code=customer_code, customer_group=customer_group, currency=currency,
        net_total=money.to_proto(inv.net_total, currency), tax_total=money.to_proto(inv.tax_total, currency),
        gross_total=money.to_proto(inv.gross_total, currency), due_date=dates.to_proto(inv.due_date),
        sales_order_ref=sales_order_ref, dimensions=types_pb2.Dimensions(**(dimensions or {})),
        intercompany_partner=customer.intercompany_partner,
    )
    for pl in priced.lines:
        src = pl.source
        row = InvoiceLine(invoice_id=inv.id, line_no=pl.line_no, item_code=src.item_code,
                          item_category=src.item_category, description=src.description, quantity=src.quantity,
                          unit_price=src.unit_price, discount=src.discount, net=pl.net, tax_code=src.tax_code,
                          tax=pl.tax, dimensions=src.dimensions)
        session.add(row)
        rows.append(row)
        event.lines.append(ar_events.InvoiceLine(
            line_no=pl.line_no, item_code=src.item_code, item_category=src.item_category,
            description=src.description, quantity=str(src.quantity),
            unit_price=money.to_proto(src.unit_price, currency), net=money.to_proto(pl.net, currency),
            tax_code=src.tax_code, tax=money.to_proto(pl.tax, currency),
            dimensions=types_pb2.Dimensions(**src.dimensions),
        ))
    add_event(session, event, source="ar")
    if sales_order_ref:  # the order's credit reservation becomes an open receivable
        await consume_for_invoice(session, company_id, f"SO:{sales_order_ref}", inv.gross_total, inv.currency)
    return inv, rows


def invoice_json(inv: Invoice, lines: list[InvoiceLine] | None = None) -> dict:
    cur = inv.currency
    out = {
        "id": inv.id, "company_id": inv.company_id, "number": inv.number, "customer_code": inv.customer_code,
        "customer_group": inv.customer_group, "currency": inv.currency, "issue_date": inv.issue_date.isoformat(),
        "due_date": inv.due_date.isoformat(), "net_total": money.format_amount(inv.net_total, cur),
        "tax_total": money.format_amount(inv.tax_total, cur), "gross_total": money.format_amount(inv.gross_total, cur),
        "paid_amount": money.format_amount(inv.paid_amount, cur),
        "outstanding": money.format_amount(inv.gross_total - inv.paid_amount, cur), "status": inv.status,
        "sales_order_ref": inv.sales_order_ref,
        "dimensions": inv.dimensions,
    }
    if lines is not None:
        out["lines"] = [{
            "line_no": ln.line_no, "item_code": ln.item_code, "item_category": ln.item_category,
            "description": ln.description, "quantity": format(ln.quantity.normalize(), "f"),
            "unit_price": money.format_price(ln.unit_price, cur), "discount": money.format_amount(ln.discount, cur),
            "net": money.format_amount(ln.net, cur),
            "tax_code": ln.tax_code, "tax": money.format_amount(ln.tax, cur), "dimensions": ln.dimensions,
        } for ln in sorted(lines, key=lambda x: x.line_no)]
    return out
