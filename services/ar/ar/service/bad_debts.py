"""Bad debts: the allowance is set from the ageing by percentages per bucket (the entry
posts the change, so running it again is harmless), and a write-off takes an invoice's
outstanding amount out of receivables against the allowance."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from finance.ar.v1 import events_pb2 as ar_events
from fincore import dates, money
from fincore.outbox import add_event
from fincore.sequences import allocate
from fincore.tables import utcnow
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils import uuid7

from ar.adapters.tables import BadDebtEntry, Invoice
from ar.service.receipts import ageing

ZERO = Decimal(0)


class BadDebtError(ValueError):
    pass


async def allowance(session: AsyncSession, company: str) -> Decimal:
    rows = (await session.execute(sa.select(BadDebtEntry.kind, sa.func.sum(BadDebtEntry.amount)).where(
        BadDebtEntry.company_id == company).group_by(BadDebtEntry.kind))).all()
    by = {k: Decimal(v) for k, v in rows}
    return by.get("provision", ZERO) - by.get("write_off", ZERO)


async def provide(session: AsyncSession, company: str, as_of: dt.date, rates: dict[str, Decimal],
                  buckets: tuple[int, ...], currency: str = "CNY") -> BadDebtEntry | None:
    report = await ageing(session, company, as_of, buckets)
    unknown = set(rates) - set(report["buckets"])
    if unknown:
        raise BadDebtError(f"no ageing bucket {sorted(unknown)}; buckets are {report['buckets']}")
    # as before the ageing gave one total per currency: the buckets of every currency, added up
    required = money.quantize(sum((Decimal(t[b]) * rates.get(b, ZERO) for t in report["totals_by_currency"].values()
                                   for b in report["buckets"]), ZERO), currency)
    change = required - await allowance(session, company)
    if change == 0:
        return None
    seq = await allocate(session, f"bad_debt:{company}:{as_of.year}")
    entry = BadDebtEntry(id=str(uuid7()), company_id=company, number=f"BDP-{as_of.year}-{seq:06d}", kind="provision",
                         entry_date=as_of, customer_code="", amount=change,
                         detail={"required": str(required), "rates": {k: str(v) for k, v in rates.items()},
                                 "ageing": report["total"]}, created_at=utcnow())
    session.add(entry)
    add_event(session, ar_events.BadDebtProvisioned(
        company_id=company, document_number=entry.number, occurrence_date=dates.to_proto(as_of),
        provision_id=entry.id, amount=money.to_proto(change, currency)), source="ar")
    return entry


async def write_off(session: AsyncSession, invoice_id: str, on: dt.date, reason: str) -> BadDebtEntry:
    inv = await session.get(Invoice, invoice_id)
    if inv is None or inv.status != "open":
        raise BadDebtError(f"no open invoice {invoice_id}")
    amount = inv.gross_total - inv.paid_amount
    inv.paid_amount, inv.status = inv.gross_total, "written_off"
    seq = await allocate(session, f"bad_debt:{inv.company_id}:{on.year}")
    entry = BadDebtEntry(id=str(uuid7()), company_id=inv.company_id, number=f"BDW-{on.year}-{seq:06d}",
                         kind="write_off", entry_date=on, invoice_id=inv.id, customer_code=inv.customer_code,
                         amount=amount, detail={"reason": reason}, created_at=utcnow())
    session.add(entry)
    add_event(session, ar_events.BadDebtWrittenOff(
        company_id=inv.company_id, document_number=entry.number, occurrence_date=dates.to_proto(on),
        write_off_id=entry.id, invoice_id=inv.id, customer_code=inv.customer_code, customer_group=inv.customer_group,
        amount=money.to_proto(amount, inv.currency)), source="ar")
    return entry
