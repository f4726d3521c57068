"""IAS 21 translation of one entity's ledger into the presentation currency.

An entity's figures are its ledger's movements (functional currency, debit positive) with the
account, the intercompany partner and the day. Translated as at a day:
- assets and liabilities: the balance at the closing rate of the day;
- income and expenses after the acquisition: each month's movements at the month's average rate
  (or, for accounts configured so, each day's at the rate of the day);
- equity at historical rates: what the subsidiary had at the acquisition (its equity and the
  profit or loss made before it) at the rate of the acquisition day; later equity movements
  (dividends) at the rate of their day.
The difference that leaves is the cumulative translation adjustment (CTA, in OCI). Each line is
rounded half up to the presentation currency's minor unit, and the CTA is whatever makes the
translated trial balance sum to zero exactly, so it balances to the cent by construction.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from fincore import dates, money

from consolidation.domain.rates import AVERAGE, CLOSING, HISTORICAL, Rates
from consolidation.domain.structure import ASSET, EQUITY, LIABILITY, TRANSACTION, Entity, role

ZERO = Decimal(0)
ONE = Decimal(1)
BS, PRE, EQ, PL = "bs", "pre", "equity", "pl"  # balance sheet; pre-acquisition equity; equity movements; P&L


class Movement(NamedTuple):
    """The net of an entity's ledger lines on one day for one account and partner (and, for
    intercompany lines, one document and transaction currency)."""

    entity: str
    on: dt.date
    account: str
    amount: Decimal  # functional currency, debit positive
    partner: str = ""
    txn_currency: str = ""  # empty: the functional currency
    txn_amount: Decimal = ZERO
    document: str = ""


class TLine(NamedTuple):
    entity: str
    account: str  # the entity's own account
    group: str  # group chart account
    partner: str
    bucket: str
    key: str  # the period (average), the day (historical, transaction) or "" (closing, pre-acquisition)
    segment: int  # ownership segment of P&L movements (0 before any ownership change)
    fc: Decimal
    rate: Decimal
    rate_type: str
    pc: Decimal


@dataclass
class Translated:
    entity: str
    currency: str
    as_of: dt.date
    lines: list[TLine] = field(default_factory=list)
    cta: Decimal = ZERO  # credit positive: a gain in OCI

    def net_assets(self) -> Decimal:
        return sum((ln.pc for ln in self.lines if ln.bucket == BS), ZERO)

    def profit(self, segment: int | None = None) -> Decimal:
        return -sum((ln.pc for ln in self.lines if ln.bucket == PL and (segment is None or ln.segment == segment)),
                    ZERO)


def q(amount: Decimal, currency: str) -> Decimal:
    """Half up to the currency's minor unit (the hot path: no checks beyond money.quantum's)."""
    return amount.quantize(money.quantum(currency), rounding=ROUND_HALF_UP)


_PERIODS: dict[dt.date, str] = {}


def _period(on: dt.date) -> str:
    p = _PERIODS.get(on)
    if p is None:
        p = _PERIODS[on] = dates.period_of(on)
    return p


class Prepared:
    """An entity's movements mapped to the group chart once, in date order, so that translating
    them as at several days (a run translates at its end, the day before its start, the
    acquisition and each ownership change) reads a prefix of one list."""

    __slots__ = ("days", "items")

    def __init__(self, entity: Entity, movements: list[Movement]) -> None:
        mapping = entity.mapping
        cached = mapping._cache.get  # the hot loop: one dict lookup per movement
        periods = _PERIODS
        items = []
        for m in sorted(movements, key=lambda x: x.on):
            g = cached(m.account) or mapping.group_account(m.account)
            if g.kind in (ASSET, LIABILITY):
                kind, when = BS, ""
            elif g.kind == EQUITY:
                kind, when = EQ, m.on.isoformat()
            elif g.rate == TRANSACTION:
                kind, when = PL, m.on.isoformat()
            else:
                kind, when = PL, periods.get(m.on) or _period(m.on)
            items.append((m.on, kind, m.account, g.code, m.partner, when, m.amount))
        self.items = items
        self.days = [it[0] for it in items]


def translate(entity: Entity, movements: list[Movement] | Prepared, *, as_of: dt.date,
              acquired_on: dt.date | None, rates: Rates, presentation: str,
              changes: list[dt.date] = ()) -> Translated:
    """The entity's translated trial balance as at `as_of` (acquired_on None: the parent, whose
    whole history counts). `changes`: days of ownership changes (segments of P&L)."""
    ccy = entity.functional_currency
    re_code = role("retained_earnings")
    prepared = movements if isinstance(movements, Prepared) else Prepared(entity, movements)
    sums: dict[tuple, Decimal] = {}
    get = sums.get
    for on, kind, account, group, partner, when, amount in prepared.items[:bisect_right(prepared.days, as_of)]:
        if kind == BS:
            key = (account, group, partner, BS, "", 0)
        elif acquired_on is not None and on <= acquired_on:
            key = (account, group if kind == EQ else re_code, "", PRE, "", 0)
        elif kind == EQ:
            key = (account, group, partner, EQ, when, 0)
        else:
            key = (account, group, partner, PL, when, sum(1 for c in changes if c < on) if changes else 0)
        sums[key] = get(key, ZERO) + amount
    out = Translated(entity.company_id, ccy, as_of)
    total = ZERO
    quantum = money.quantum(presentation)
    closing = rates.closing(ccy, as_of) if ccy != presentation else ONE
    memo: dict[str, tuple[Decimal, str]] = {}
    for (account, group, partner, bucket, key, seg), fc in sorted(sums.items()):
        if not fc:
            continue
        if bucket == BS:
            rate, rate_type = closing, CLOSING
        elif bucket == PRE:
            rate, rate_type = rates.historical(ccy, acquired_on), HISTORICAL
        elif (hit := memo.get(key)) is not None:
            rate, rate_type = hit
        elif bucket == EQ or len(key) == 10:
            rate, rate_type = memo[key] = rates.historical(ccy, dt.date.fromisoformat(key)), HISTORICAL
        else:
            rate, rate_type = memo[key] = rates.average(ccy, key), AVERAGE
        pc = (fc * rate).quantize(quantum, rounding=ROUND_HALF_UP)
        total += pc
        out.lines.append(TLine(entity.company_id, account, group, partner, bucket, key, seg, fc, rate, rate_type, pc))
    out.cta = total  # the CTA line (a credit of `total`) brings the sum to zero
    return out
