"""The ledger's exchange rates, kept by the services that convert amounts while a caller waits.

Why a copy: CheckCredit and CheckBudget answer within a deadline and must not depend on the
GL being up. The GL publishes every rate it is given (`ExchangeRatesSet` on
finance.gl.events.v1); AR and budget keep them in their own `ledger_rate` table through an
inbox consumer (`LedgerRatesConsumer`), so a redelivered event changes nothing twice.

A conversion uses the ledger's rate of the day, as the GL's postings do: per currency, the
latest rate dated on or before the day. Rates are functional-currency units per unit of a
currency, per company; between two foreign currencies the conversion crosses through the
functional currency (USD -> EUR = rate(USD) / rate(EUR)), with the cross rate rounded to the
10 decimals a rate is stored with. The converted amount is rounded half up to the target
currency's minor unit. No rate, no answer: `RateUnavailable` names the pair and the date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

import sqlalchemy as sa
from finance.common.v1 import types_pb2
from finance.gl.v1 import events_pb2 as gl_events
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import Field, SQLModel

from fincore import dates, money
from fincore.events.envelope import Envelope
from fincore.tables import utcnow

RATE_PLACES = Decimal("1e-10")  # NUMERIC(20, 10), as the GL stores rates
# Trailing metadata of a gRPC FAILED_PRECONDITION for a missing rate, so a caller can tell it apart.
GRPC_PROBLEM = ("finance-problem", "rate-unavailable")


class LedgerRate(SQLModel, table=True):
    """A copy of one GL exchange rate (company, currency, date)."""

    __tablename__ = "ledger_rate"

    company_id: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    currency: str = Field(sa_column=sa.Column(sa.String(3), primary_key=True))
    rate_date: dt.date = Field(sa_column=sa.Column(sa.Date, primary_key=True))
    functional_currency: str = Field(sa_column=sa.Column(sa.String(3), nullable=False))
    rate: Decimal = Field(sa_column=sa.Column(sa.Numeric(20, 10), nullable=False))
    received_at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))


class ConvertedFrom(SQLModel):
    """Columns of a row kept in a limit's currency (a credit or budget reservation) that was asked
    in another currency: what it was converted from, and at which ledger rate. Empty when the
    currencies were the same."""

    original_amount: Decimal | None = Field(default=None, sa_type=sa.Numeric(20, 4), nullable=True)
    original_currency: str | None = Field(default=None, sa_type=sa.String(3), nullable=True)
    rate: Decimal | None = Field(default=None, sa_type=sa.Numeric(20, 10), nullable=True)
    rate_date: dt.date | None = Field(default=None, sa_type=sa.Date, nullable=True)


def create_rate_table(op) -> None:
    """Alembic: the `ledger_rate` table (a service's next migration calls this)."""
    op.create_table(
        "ledger_rate",
        sa.Column("company_id", sa.String(40), primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("rate_date", sa.Date, primary_key=True),
        sa.Column("functional_currency", sa.String(3), nullable=False),
        sa.Column("rate", sa.Numeric(20, 10), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )


def today() -> dt.date:
    """The day of a check, whose rate applies (UTC, as every service's clock)."""
    return dt.datetime.now(dt.UTC).date()


class RateUnavailable(money.MoneyError):
    """No ledger rate for a pair on a date: refuse (gRPC FAILED_PRECONDITION, HTTP 422 `rate-unavailable`)."""

    def __init__(self, company: str, from_currency: str, to_currency: str, on: dt.date) -> None:
        self.company, self.from_currency, self.to_currency, self.on = company, from_currency, to_currency, on
        super().__init__(f"no ledger exchange rate {from_currency}/{to_currency} on or before {on.isoformat()} "
                         f"in company {company}")

    def problem(self) -> dict:
        """Fields of the HTTP problem (type `rate-unavailable`)."""
        return {"from_currency": self.from_currency, "to_currency": self.to_currency, "date": self.on.isoformat()}


@dataclass(frozen=True)
class Conversion:
    """An amount converted into another currency, with what it was converted from and at."""

    amount: Decimal  # in `currency`, at its minor unit
    currency: str
    original_amount: Decimal
    original_currency: str
    rate: Decimal  # `currency` units per 1 `original_currency` (1 when the currencies are the same)
    rate_date: dt.date | None  # date of the (older) ledger rate used; None without conversion

    @property
    def converted(self) -> bool:
        return self.currency != self.original_currency

    def columns(self) -> dict:
        """Values of the ConvertedFrom columns (all None without a conversion)."""
        if not self.converted:
            return dict.fromkeys(("original_amount", "original_currency", "rate", "rate_date"))
        return {"original_amount": self.original_amount, "original_currency": self.original_currency,
                "rate": self.rate, "rate_date": self.rate_date}

    def as_dict(self) -> dict:
        """JSON: from what and at which rate (shown beside the converted amount)."""
        return converted_from_json(self.original_amount, self.original_currency, self.rate, self.rate_date)

    def describe(self) -> str:
        """For a decision's reason: "USD 15000.00 at 7.1 (ledger rate of 2026-11-01)"."""
        return (f"{self.original_currency} {money.format_amount(self.original_amount, self.original_currency)} at "
                f"{money.format_rate(self.rate)} (ledger rate of {self.rate_date.isoformat()})")


def converted_from_json(original_amount: Decimal | None, original_currency: str | None, rate: Decimal | None,
                        rate_date: dt.date | None) -> dict | None:
    """The ConvertedFrom columns as JSON; None when nothing was converted."""
    if not original_currency:
        return None
    return {"original_amount": money.format_amount(original_amount, original_currency),
            "original_currency": original_currency, "rate": money.format_rate(rate),
            "rate_date": rate_date.isoformat() if rate_date else None}


def cross_rate(from_currency: str, to_currency: str, functional: str, rates: Mapping[str, Decimal]) -> Decimal:
    """`to_currency` units per 1 `from_currency` from functional-currency rates (KeyError: missing)."""
    in_functional = {functional: Decimal(1), **rates}
    if to_currency == functional:
        return in_functional[from_currency]
    return (in_functional[from_currency] / in_functional[to_currency]).quantize(RATE_PLACES, rounding=ROUND_HALF_EVEN)


def convert_at(amount: Decimal, from_currency: str, to_currency: str, rate: Decimal,
               rate_date: dt.date | None) -> Conversion:
    return Conversion(money.quantize(amount * rate, to_currency), to_currency, amount, from_currency, rate, rate_date)


_LATEST = (sa.select(LedgerRate.rate, LedgerRate.rate_date)
           .where(LedgerRate.company_id == sa.bindparam("co"), LedgerRate.currency == sa.bindparam("cur"),
                  LedgerRate.rate_date <= sa.bindparam("on"))
           .order_by(LedgerRate.rate_date.desc()).limit(1))
_FUNCTIONAL = sa.select(LedgerRate.functional_currency).where(LedgerRate.company_id == sa.bindparam("co")).limit(1)


async def convert(session: AsyncSession | AsyncConnection, company: str, amount: Decimal, from_currency: str,
                  to_currency: str, on: dt.date) -> Conversion:
    """`amount` in `from_currency` expressed in `to_currency` at the ledger's rate of `on`."""
    if from_currency == to_currency:
        return Conversion(amount, to_currency, amount, from_currency, Decimal(1), None)
    conn = await session.connection() if isinstance(session, AsyncSession) else session
    functional = (await conn.execute(_FUNCTIONAL, {"co": company})).scalar()
    if functional is None:  # the ledger has published no rate of this company yet
        raise RateUnavailable(company, from_currency, to_currency, on)
    rates, used = {}, []
    for cur in sorted({from_currency, to_currency} - {functional}):
        row = (await conn.execute(_LATEST, {"co": company, "cur": cur, "on": on})).one_or_none()
        if row is None:
            raise RateUnavailable(company, from_currency, to_currency, on)
        rates[cur] = Decimal(row.rate)
        used.append(row.rate_date)
    return convert_at(amount, from_currency, to_currency, cross_rate(from_currency, to_currency, functional, rates),
                      min(used))


class LedgerRatesConsumer:
    """Inbox handler: keeps the `ledger_rate` copy from the GL's ExchangeRatesSet events (a rate
    entered again for the same day is a correction: the later event wins)."""

    async def __call__(self, session: AsyncSession, env: Envelope) -> None:
        msg = env.payload
        if not isinstance(msg, gl_events.ExchangeRatesSet):
            return
        for r in msg.rates:
            key = (msg.company_id, r.currency, dates.from_proto(r.rate_date))
            row = await session.get(LedgerRate, key)
            if row is None:
                session.add(LedgerRate(company_id=key[0], currency=key[1], rate_date=key[2],
                                       functional_currency=msg.functional_currency, rate=Decimal(r.rate),
                                       received_at=utcnow()))
            else:
                row.rate, row.functional_currency, row.received_at = Decimal(r.rate), msg.functional_currency, utcnow()
        await session.flush()


def conversion_pb(c: Conversion) -> types_pb2.Conversion:
    """The wire form of a conversion (set on decisions only when the currencies differed)."""
    return types_pb2.Conversion(original=money.to_proto(c.original_amount, c.original_currency),
                                rate=money.format_rate(c.rate),
                                rate_date=dates.to_proto(c.rate_date) if c.rate_date else None)
