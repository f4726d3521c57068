"""Refunds: money paid back out of the customer's credit (unapplied cash first, then the
unapplied part of credit memos, oldest first). Refusing more than the credit is the point."""

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
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils import uuid7

from ar.adapters.tables import CreditMemo, Receipt
from ar.service.receipts import customer_and_amount

ZERO = Decimal(0)


class RefundError(ValueError):
    pass


async def customer_credit(session: AsyncSession, company: str, customer: str) -> tuple[list, Decimal]:
    rq = locked(sa.select(Receipt).where(Receipt.company_id == company, Receipt.customer_code == customer,
                                         Receipt.unapplied > 0).order_by(Receipt.receipt_date, Receipt.number))
    mq = locked(sa.select(CreditMemo).where(CreditMemo.company_id == company, CreditMemo.customer_code == customer,
                                            CreditMemo.gross_total > CreditMemo.applied)
                .order_by(CreditMemo.memo_date))
    sources = [*(await session.execute(rq)).scalars(), *(await session.execute(mq)).scalars()]
    total = sum((s.unapplied if isinstance(s, Receipt) else s.gross_total - s.applied for s in sources), ZERO)
    return sources, total


async def pay_refund(session: AsyncSession, *, company: str, customer: str, amount: Decimal, on: dt.date,
                     bank_account: str) -> tuple[str, str]:
    c, amount = await customer_and_amount(session, company, customer, amount, RefundError)
    currency = c.currency
    sources, credit = await customer_credit(session, company, customer)
    if amount <= 0 or amount > credit:
        raise RefundError(f"a refund must be between 0 and the customer's credit of {money.quantize(credit, currency)}")
    left, taken = amount, []
    for src in sources:
        if isinstance(src, Receipt):
            take = min(left, src.unapplied)
            src.unapplied -= take
        else:
            take = min(left, src.gross_total - src.applied)
            src.applied += take
        taken.append(ar_events.RefundSource(document_id=src.id, amount=money.to_proto(take, currency)))
        left -= take
        if not left:
            break
    seq = await allocate(session, f"refund:{company}:{on.year}")
    number, refund_id = f"RF-{on.year}-{seq:06d}", str(uuid7())
    add_event(session, ar_events.RefundPaid(
        company_id=company, document_number=number, occurrence_date=dates.to_proto(on), refund_id=refund_id,
        customer_code=customer, customer_group=c.customer_group, bank_account=bank_account,
        amount=money.to_proto(amount, currency), dimensions=types_pb2.Dimensions(customer=customer),
        sources=taken), source="ar")
    return number, refund_id
