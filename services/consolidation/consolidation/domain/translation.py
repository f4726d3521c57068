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
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from fincore import dates, money

from consolidation.domain.rates import AVERAGE, CLOSING, HISTORICAL, Rates
from consolidation.domain.structure import ASSET, EQUITY, LIABILITY, TRANSACTION, Entity, role

ZERO = Decimal(0)
BS, PRE, EQ, PL = "bs", "pre", "equity", "pl"  # balance sheet; pre-acquisition equity; equity movements; P&L


@dataclass(frozen=True, slots=True)
class Movement:
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


@dataclass(frozen=True, slots=True)
class TLine:
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
    return money.quantize(amount, currency, rounding=ROUND_HALF_UP)


def translate(entity: Entity, movements: list[Movement], *, as_of: dt.date, acquired_on: dt.date | None,
              rates: Rates, presentation: str, changes: list[dt.date] = ()) -> Translated:
    """The entity's translated trial balance as at `as_of` (acquired_on None: the parent, whose
    whole history counts). `changes`: days of ownership changes (segments of P&L)."""
    mapping, ccy = entity.mapping, entity.functional_currency
    re_code = role("retained_earnings")
    sums: dict[tuple, Decimal] = {}
    for m in movements:
        if m.on > as_of:
            continue
        g = mapping.group_account(m.account)
        if g.kind in (ASSET, LIABILITY):
            key = (m.account, g.code, m.partner, BS, "", 0)
        elif acquired_on is not None and m.on <= acquired_on:
            key = (m.account, g.code if g.kind == EQUITY else re_code, "", PRE, "", 0)
        elif g.kind == EQUITY:
            key = (m.account, g.code, m.partner, EQ, m.on.isoformat(), 0)
        else:
            seg = sum(1 for c in changes if c < m.on)
            when = m.on.isoformat() if g.rate == TRANSACTION else dates.period_of(m.on)
            key = (m.account, g.code, m.partner, PL, when, seg)
        sums[key] = sums.get(key, ZERO) + m.amount
    out = Translated(entity.company_id, ccy, as_of)
    total = ZERO
    for (account, group, partner, bucket, key, seg), fc in sorted(sums.items()):
        if not fc:
            continue
        if bucket == BS:
            rate, rate_type = rates.closing(ccy, as_of), CLOSING
        elif bucket == PRE:
            rate, rate_type = rates.historical(ccy, acquired_on), HISTORICAL
        elif bucket == EQ or len(key) == 10:
            rate, rate_type = rates.historical(ccy, dt.date.fromisoformat(key)), HISTORICAL
        else:
            rate, rate_type = rates.average(ccy, key), AVERAGE
        pc = q(fc * rate, presentation)
        total += pc
        out.lines.append(TLine(entity.company_id, account, group, partner, bucket, key, seg, fc, rate, rate_type, pc))
    out.cta = total  # the CTA line (a credit of `total`) brings the sum to zero
    return out
