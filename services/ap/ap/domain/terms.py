"""Payment terms: "NET30" (due 30 days after the invoice date) or "2/10 NET30" (2 % off when
paid within 10 days, otherwise due in 30)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from fincore.money import quantize

_TERMS = re.compile(r"^(?:(?P<pct>\d+(?:\.\d+)?)/(?P<days>\d+)\s+)?NET\s?(?P<net>\d+)$")


class TermsError(ValueError):
    pass


@dataclass(frozen=True)
class Terms:
    net_days: int
    discount_pct: Decimal = Decimal(0)
    discount_days: int = 0

    def due_date(self, invoice_date: dt.date) -> dt.date:
        return invoice_date + dt.timedelta(days=self.net_days)

    def discount_date(self, invoice_date: dt.date) -> dt.date | None:
        return invoice_date + dt.timedelta(days=self.discount_days) if self.discount_pct else None


def parse_terms(text: str) -> Terms:
    m = _TERMS.match(text.strip().upper())
    if not m:
        raise TermsError(f"payment terms {text!r}: use NET<days> or <pct>/<days> NET<days>, e.g. 2/10 NET30")
    t = Terms(int(m["net"]), Decimal(m["pct"] or 0), int(m["days"] or 0))
    if t.discount_pct >= 100 or (t.discount_pct and t.discount_days > t.net_days):
        raise TermsError(f"payment terms {text!r}: discount must be under 100 % and due before the net date")
    return t


def early_discount(gross: Decimal, pct: Decimal, discount_date: dt.date | None, pay_date: dt.date,
                   currency: str) -> Decimal:
    """The discount a payment on `pay_date` earns (zero once the discount date has passed)."""
    if not pct or discount_date is None or pay_date > discount_date:
        return Decimal(0)
    return quantize(gross * pct / 100, currency)
