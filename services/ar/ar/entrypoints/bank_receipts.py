"""Receipts cash management identified on the bank statement (BankReceiptIdentified): AR
books each as a receipt, applied to the invoices cash management found, or oldest-first
when it found none or they are no longer open as found (paid meanwhile). The receipt's
idempotency key is the statement line, and its PaymentReceived names the line, so cash
management knows the line's receipt is booked."""

from __future__ import annotations

import sqlalchemy as sa
from finance.cashmgmt.v1 import events_pb2 as cash
from fincore import dates, money
from fincore.events.envelope import Envelope
from fincore.inbox import PermanentError
from sqlalchemy.ext.asyncio import AsyncSession

from ar.adapters.tables import Customer, Receipt
from ar.service.receipts import Instruction, ReceiptError, receive_payment


class BankReceipts:
    async def __call__(self, session: AsyncSession, env: Envelope) -> None:
        m = env.payload
        if not isinstance(m, cash.BankReceiptIdentified):
            return
        key = f"cashmgmt:{m.line_id}"
        if (await session.execute(sa.select(Receipt.id).where(
                Receipt.company_id == m.company_id, Receipt.idempotency_key == key))).scalar() is not None:
            return  # booked already (the event published again)
        customer = await session.get(Customer, (m.company_id, m.customer_code))
        if customer is None:
            raise PermanentError(f"no customer {m.customer_code!r} in company {m.company_id!r}")
        if m.amount.currency_code != customer.currency:
            raise PermanentError(f"line {m.document_number} is in {m.amount.currency_code}; customer "
                                 f"{m.customer_code} pays in {customer.currency}")
        args = dict(company=m.company_id, customer=m.customer_code, amount=money.from_proto(m.amount),
                    on=dates.from_proto(m.occurrence_date), bank_account=m.bank_account, method="BANK_TRANSFER",
                    idempotency_key=key, bank_line_id=m.line_id)
        instructions = [Instruction(a.invoice_id, money.from_proto(a.amount)) for a in m.applications]
        try:
            async with session.begin_nested():
                await receive_payment(session, instructions=instructions or None, **args)
        except ReceiptError:
            if not instructions:
                raise
            await receive_payment(session, instructions=None, **args)  # as found no longer holds: oldest-first
