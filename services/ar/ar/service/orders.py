"""Customers (master data, published as events) and CRM sales orders that reserve credit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from finance.ar.v1 import events_pb2 as ar_events
from fincore import dates, money
from fincore.outbox import add_event
from fincore.tables import utcnow
from opentelemetry import trace
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils import uuid7

from ar.adapters.tables import Customer, SalesOrder
from ar.domain.invoice import LineInput, price_invoice
from ar.service.credit import reserve_credit

tracer = trace.get_tracer("ar.orders")


async def upsert_customer(session: AsyncSession, *, company_id: str, code: str, name: str, customer_group: str,
                          currency: str, payment_terms_days: int, credit_limit: Decimal, credit_policy: str,
                          intercompany_partner: str) -> Customer:
    credit_limit = money.exact(credit_limit, currency)
    c = await session.get(Customer, (company_id, code))
    values = dict(name=name, customer_group=customer_group, currency=currency, payment_terms_days=payment_terms_days,
                  credit_limit=credit_limit, credit_policy=credit_policy, intercompany_partner=intercompany_partner,
                  updated_at=utcnow())
    if c is None:
        c = Customer(company_id=company_id, code=code, **values)
        session.add(c)
    else:
        for k, v in values.items():
            setattr(c, k, v)
    add_event(session, ar_events.CustomerUpserted(
        company_id=company_id, document_number=code, occurrence_date=dates.to_proto(dt.date.today()),
        customer_code=code, name=name, customer_group=customer_group, currency=currency,
        payment_terms=f"NET{payment_terms_days}", credit_limit=money.to_proto(credit_limit, currency),
        intercompany_partner=intercompany_partner), source="ar")
    return c


async def receive_sales_order(session: AsyncSession, *, company: str, crm_order_id: str, customer: str,
                              order_date: dt.date, lines: list[LineInput], raw_lines: list,
                              currency: str = "", expected_delivery_date: dt.date | None = None
                              ) -> tuple[SalesOrder, bool]:
    """Idempotent by the CRM's order id. The order's gross amount is reserved against the
    customer's credit; a refused order is recorded as refused (asking again gives the same answer).
    An order in another currency than the customer's limit (`currency`, default the customer's)
    is reserved at the ledger's rate of the day; with no rate it is refused and not recorded.
    `expected_delivery_date` (default: the order date) is when the goods are expected to ship
    and so to be invoiced; never before the order date."""
    expected = expected_delivery_date or order_date
    if expected < order_date:
        raise ValueError(f"expected_delivery_date {expected.isoformat()} is before the order date "
                         f"{order_date.isoformat()}")
    existing = (await session.execute(sa.select(SalesOrder).where(
        SalesOrder.company_id == company, SalesOrder.crm_order_id == crm_order_id))).scalar_one_or_none()
    if existing is not None:
        return existing, True
    c = await session.get(Customer, (company, customer))
    currency = currency or (c.currency if c else "CNY")
    gross = price_invoice(currency, lines).gross_total
    with tracer.start_as_current_span("ar.credit_check", attributes={
            "finance.company_id": company, "finance.customer": customer, "finance.order_ref": crm_order_id}) as span:
        decision = await reserve_credit(session, company, customer, gross, f"SO:{crm_order_id}", currency)
        span.set_attribute("finance.credit.approved", decision.approved)
    order = SalesOrder(id=str(uuid7()), company_id=company, crm_order_id=crm_order_id, customer_code=customer,
                       currency=currency, order_date=order_date, expected_delivery_date=expected, amount=gross,
                       status="accepted" if decision.approved else "refused", decision=decision.as_dict(),
                       lines=raw_lines, created_at=utcnow())
    session.add(order)
    return order, False
