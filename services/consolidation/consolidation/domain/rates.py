"""Exchange rates for translation into the presentation currency, with the rate type named.

Rates are presentation-currency units per 1 unit of a currency. They come from the group's rate
table (entered as closing, average or historical rates) or, where the table has none, from the
ledger's daily rates of the company whose functional currency is the presentation currency (the
GL's ExchangeRatesSet events):
- closing on a day: the latest ledger rate dated on or before the day;
- average of a month: the mean of the ledger rate in force on each day of the month (days before
  the first rate are left out);
- historical on a day (equity, dividends, an acquisition): the ledger rate in force that day.

Every rate a run looks up is recorded (`used`), so a run is stored with the rates it used and can
be reproduced from them (`Rates.replay`).
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from fincore import dates

RATE_PLACES = Decimal("1e-10")
CLOSING, AVERAGE, HISTORICAL = "closing", "average", "historical"
RATE_TYPES = (CLOSING, AVERAGE, HISTORICAL)
ONE = Decimal(1)


class RateMissing(LookupError):
    def __init__(self, rate_type: str, currency: str, key: str, presentation: str) -> None:
        super().__init__(f"no {rate_type} rate {currency}/{presentation} for {key}: enter it in the group's rate "
                         f"table or the ledger's exchange rates")
        self.rate_type, self.currency, self.key = rate_type, currency, key


@dataclass
class Rates:
    presentation: str
    # Ledger rates: currency -> sorted [(date, rate)].
    ledger: Mapping[str, list[tuple[dt.date, Decimal]]] = field(default_factory=dict)
    # Group table: (rate type, currency, key) -> rate; key is a date (closing, historical) or a period (average).
    table: Mapping[tuple[str, str, str], Decimal] = field(default_factory=dict)
    used: dict[tuple[str, str, str], tuple[Decimal, str]] = field(default_factory=dict)

    @classmethod
    def replay(cls, presentation: str, used: Iterable[dict]) -> Rates:
        """The rates of a stored run, as a table: the same inputs give the same figures."""
        return cls(presentation, table={(u["type"], u["currency"], u["key"]): Decimal(u["rate"]) for u in used})

    def _record(self, key: tuple[str, str, str], rate: Decimal, source: str) -> Decimal:
        self.used[key] = (rate, source)
        return rate

    def _ledger_on(self, currency: str, on: dt.date) -> Decimal | None:
        series = self.ledger.get(currency) or []
        i = bisect.bisect_right(series, (on, Decimal("Infinity"))) - 1
        return series[i][1] if i >= 0 else None

    def _point(self, rate_type: str, currency: str, on: dt.date) -> Decimal:
        if currency == self.presentation:
            return ONE
        key = (rate_type, currency, on.isoformat())
        if key in self.used:
            return self.used[key][0]
        if key in self.table:
            return self._record(key, self.table[key], "group table")
        rate = self._ledger_on(currency, on)
        if rate is None:
            raise RateMissing(rate_type, currency, on.isoformat(), self.presentation)
        return self._record(key, rate, "ledger")

    def closing(self, currency: str, on: dt.date) -> Decimal:
        return self._point(CLOSING, currency, on)

    def historical(self, currency: str, on: dt.date) -> Decimal:
        return self._point(HISTORICAL, currency, on)

    def average(self, currency: str, period: str) -> Decimal:
        if currency == self.presentation:
            return ONE
        key = (AVERAGE, currency, period)
        if key in self.used:
            return self.used[key][0]
        if key in self.table:
            return self._record(key, self.table[key], "group table")
        day, end = dates.period_start(period), dates.period_end(period)
        total, n = Decimal(0), 0
        while day <= end:
            rate = self._ledger_on(currency, day)
            if rate is not None:
                total += rate
                n += 1
            day += dt.timedelta(days=1)
        if not n:
            raise RateMissing(AVERAGE, currency, period, self.presentation)
        return self._record(key, (total / n).quantize(RATE_PLACES, rounding=ROUND_HALF_UP), "ledger daily mean")

    def used_json(self) -> list[dict]:
        return [{"type": k[0], "currency": k[1], "key": k[2], "rate": f"{v[0].normalize():f}", "source": v[1]}
                for k, v in sorted(self.used.items())]
