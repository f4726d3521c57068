"""Exchange rates of a company's ledger: entered or corrected, and published.

The GL converts foreign-currency events at these rates; AR's credit checks and the budget's
checks convert at the same rates, from their own copy of them. So every change is published as
`ExchangeRatesSet` on finance.gl.events.v1, in the transaction that writes the rates (outbox)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from finance.gl.v1 import events_pb2 as gl_events
from fincore import dates, money
from fincore.outbox import add_event
from sqlalchemy.ext.asyncio import AsyncSession

from gl.adapters.tables import Company, ExchangeRate


class RateError(ValueError):
    pass


@dataclass(frozen=True)
class RateInput:
    currency: str
    rate_date: dt.date
    rate: Decimal  # functional-currency units per 1 unit of `currency`


async def set_exchange_rates(session: AsyncSession, company: Company, rates: list[RateInput]) -> None:
    """Upsert the rates (a rate entered again for the same day corrects it) and publish them."""
    for r in rates:
        money.minor_units(r.currency)
        if r.currency == company.functional_currency:
            raise RateError(f"{r.currency} is the functional currency")
        if r.rate <= 0:
            raise RateError(f"a rate is positive, not {r.rate}")
        row = await session.get(ExchangeRate, (company.id, r.currency, r.rate_date))
        if row is None:
            session.add(ExchangeRate(company_id=company.id, currency=r.currency, rate_date=r.rate_date, rate=r.rate))
        else:
            row.rate = r.rate
    if rates:
        add_event(session, gl_events.ExchangeRatesSet(
            company_id=company.id, occurrence_date=dates.to_proto(dt.date.today()),
            functional_currency=company.functional_currency,
            rates=[gl_events.ExchangeRate(currency=r.currency, rate_date=dates.to_proto(r.rate_date),
                                          rate=money.format_rate(r.rate)) for r in rates]), source="gl")
