"""Bad debts: the allowance is set from the ageing by percentages per bucket (the entry
posts the change, so running it again is harmless), and a write-off takes an invoice's
outstanding amount out of receivables against the allowance.

Currencies (the accounting this follows): the allowance is one account in the ledger's
functional currency. The required allowance is computed per currency (each currency's
ageing buckets x the rates: amounts of different currencies are never added), and each
currency's requirement is translated at the ledger's rate of the provision date (the
closing rate, as the period-end revaluation translates the receivables themselves), then
summed. The allowance held is the provisions posted less the write-offs, a write-off valued
at the ledger's rate of its own date (what the GL debits the allowance with). The change
between the two is posted in the functional currency. A currency without a ledger rate is
refused (422 rate-unavailable), never added at par.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from finance.ar.v1 import events_pb2 as ar_events
from fincore import dates, money, rates
from fincore.outbox import add_event
from fincore.rates import LedgerRate
from fincore.sequences import allocate
from fincore.tables import utcnow
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils import uuid7

from ar.adapters.tables import BadDebtEntry, Customer, Invoice
from ar.service.receipts import ageing

ZERO = Decimal(0)


class BadDebtError(ValueError):
    pass


async def functional_currency(session: AsyncSession, company: str, seen: set[str]) -> str:
    """The ledger's functional currency of the company, as its published rates name it; without
    any rate yet, the one currency its receivables (or, with none, its customers) are in."""
    known = (await session.execute(sa.select(LedgerRate.functional_currency).where(
        LedgerRate.company_id == company).limit(1))).scalar()
    if known:
        return known
    if not seen:
        seen = set((await session.execute(sa.select(Customer.currency).distinct().where(
            Customer.company_id == company))).scalars())
    if len(seen) == 1:
        return next(iter(seen))
    raise BadDebtError(f"company {company} has receivables in {', '.join(sorted(seen)) or 'no currency'} and the "
                       "ledger has published no exchange rate yet: its functional currency is not known here")


async def allowance(session: AsyncSession, company: str, currency: str) -> Decimal:
    """The allowance held, in `currency` (functional): provisions less write-offs, each entry
    converted at the ledger's rate of its date when it is in another currency."""
    rows = (await session.execute(
        sa.select(BadDebtEntry.kind, BadDebtEntry.currency, BadDebtEntry.entry_date, sa.func.sum(BadDebtEntry.amount))
        .where(BadDebtEntry.company_id == company)
        .group_by(BadDebtEntry.kind, BadDebtEntry.currency, BadDebtEntry.entry_date))).all()
    total = ZERO
    for kind, cur, on, amount in rows:
        value = (await rates.convert(session, company, Decimal(amount), cur, currency, on)).amount
        total += value if kind == "provision" else -value
    return total


async def provide(session: AsyncSession, company: str, as_of: dt.date, pct: dict[str, Decimal],
                  buckets: tuple[int, ...]) -> tuple[BadDebtEntry | None, Decimal, str, dict]:
    """Set the allowance as of a date. Returns (the entry posted, or None when nothing changed;
    the allowance now; the functional currency; the requirement per currency)."""
    report = await ageing(session, company, as_of, buckets)
    unknown = set(pct) - set(report["buckets"])
    if unknown:
        raise BadDebtError(f"no ageing bucket {sorted(unknown)}; buckets are {report['buckets']}")
    by_currency = report["totals_by_currency"]
    functional = await functional_currency(session, company, set(by_currency))
    required, detail = ZERO, {}
    for cur, figures in sorted(by_currency.items()):
        owed = money.quantize(sum((Decimal(figures[b]) * pct.get(b, ZERO) for b in report["buckets"]), ZERO), cur)
        c = await rates.convert(session, company, owed, cur, functional, as_of)  # RateUnavailable: refused
        required += c.amount
        detail[cur] = {"required": money.format_amount(owed, cur),
                       "in_functional": money.format_amount(c.amount, functional)}
        if c.converted:
            detail[cur] |= {"rate": money.format_rate(c.rate), "rate_date": c.rate_date.isoformat()}
    held = await allowance(session, company, functional)
    change = required - held
    if change == 0:
        return None, required, functional, detail
    seq = await allocate(session, f"bad_debt:{company}:{as_of.year}")
    entry = BadDebtEntry(id=str(uuid7()), company_id=company, number=f"BDP-{as_of.year}-{seq:06d}", kind="provision",
                         entry_date=as_of, customer_code="", amount=change, currency=functional,
                         detail={"required": money.format_amount(required, functional),
                                 "rates": {k: str(v) for k, v in pct.items()}, "by_currency": detail},
                         created_at=utcnow())
    session.add(entry)
    add_event(session, ar_events.BadDebtProvisioned(
        company_id=company, document_number=entry.number, occurrence_date=dates.to_proto(as_of),
        provision_id=entry.id, amount=money.to_proto(change, functional)), source="ar")
    return entry, required, functional, detail


async def write_off(session: AsyncSession, invoice_id: str, on: dt.date, reason: str) -> BadDebtEntry:
    inv = await session.get(Invoice, invoice_id)
    if inv is None or inv.status != "open":
        raise BadDebtError(f"no open invoice {invoice_id}")
    amount = inv.gross_total - inv.paid_amount
    inv.paid_amount, inv.status = inv.gross_total, "written_off"
    seq = await allocate(session, f"bad_debt:{inv.company_id}:{on.year}")
    entry = BadDebtEntry(id=str(uuid7()), company_id=inv.company_id, number=f"BDW-{on.year}-{seq:06d}",
                         kind="write_off", entry_date=on, invoice_id=inv.id, customer_code=inv.customer_code,
                         amount=amount, currency=inv.currency, detail={"reason": reason}, created_at=utcnow())
    session.add(entry)
    add_event(session, ar_events.BadDebtWrittenOff(
        company_id=inv.company_id, document_number=entry.number, occurrence_date=dates.to_proto(on),
        write_off_id=entry.id, invoice_id=inv.id, customer_code=inv.customer_code, customer_group=inv.customer_group,
        amount=money.to_proto(amount, inv.currency)), source="ar")
    return entry
