"""Three-way match, pure: the purchase order (price, quantity), what was received (quantity,
cost), and the supplier's invoice.

Each invoice line is matched to the order line of its item that still has received,
uninvoiced quantity. A line passes when
- its item is on the order;
- its unit price is within the price tolerance of the order's (percent of the order price);
- the quantity invoiced so far, this line included, is within the quantity tolerance of the
  quantity received, and of the quantity ordered.
Every failed check is reported (an invoice is held with all its reasons, not the first one).

Amounts: net = quantity x invoice price, rounded per line; tax per line from its tax code.
The GRNI the line clears is the receipt's cost of the quantity invoiced (pro rata of the
received value; the invoice that completes the received quantity clears the exact remainder,
so a fully invoiced receipt leaves GRNI at zero); price variance = net - GRNI cleared."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from fincore.money import quantize
from fincore.tax import TAX_RATES, line_tax

ZERO = Decimal(0)


@dataclass(frozen=True)
class Tolerances:
    price_pct: Decimal = Decimal(2)
    quantity_pct: Decimal = Decimal(0)


@dataclass
class OrderLine:
    line_no: int
    item_code: str
    quantity: Decimal
    unit_price: Decimal
    received_qty: Decimal = ZERO
    received_value: Decimal = ZERO
    invoiced_qty: Decimal = ZERO  # by earlier invoices that matched
    grni_cleared: Decimal = ZERO


@dataclass(frozen=True)
class InvoiceLine:
    item_code: str
    quantity: Decimal
    unit_price: Decimal
    tax_code: str


@dataclass(frozen=True)
class MatchedLine:
    line_no: int
    order_line_no: int | None
    source: InvoiceLine
    net: Decimal
    tax: Decimal
    grni_cleared: Decimal
    price_variance: Decimal


@dataclass
class MatchResult:
    lines: list[MatchedLine] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    @property
    def matched(self) -> bool:
        return not self.reasons

    @property
    def net_total(self) -> Decimal:
        return sum((ln.net for ln in self.lines), ZERO)

    @property
    def tax_total(self) -> Decimal:
        return sum((ln.tax for ln in self.lines), ZERO)

    @property
    def gross_total(self) -> Decimal:
        return self.net_total + self.tax_total


def _n(v: Decimal) -> str:
    return format(v.normalize(), "f")


def _pct(v: Decimal) -> str:
    return f"{v.quantize(Decimal('0.01'))}%"


def three_way_match(order_lines: list[OrderLine], invoice: list[InvoiceLine], currency: str,
                    tol: Tolerances = Tolerances(), stated_gross: Decimal | None = None) -> MatchResult:
    """Match an invoice against its order; `order_lines` are not modified."""
    state = {ol.line_no: OrderLine(**vars(ol)) for ol in order_lines}
    by_item: dict[str, list[OrderLine]] = {}
    for ol in sorted(state.values(), key=lambda o: o.line_no):
        by_item.setdefault(ol.item_code, []).append(ol)
    res = MatchResult()
    qty_factor = 1 + tol.quantity_pct / 100
    for i, ln in enumerate(invoice, start=1):
        if ln.tax_code not in TAX_RATES:
            res.reasons.append(f"line {i}: unknown tax code {ln.tax_code!r}")
            continue
        if ln.quantity <= 0 or ln.unit_price < 0:
            res.reasons.append(f"line {i}: quantity must be positive and price not negative")
            continue
        net = quantize(ln.quantity * ln.unit_price, currency)
        tax = line_tax(net, ln.tax_code, currency)
        candidates = by_item.get(ln.item_code, [])
        if not candidates:
            res.reasons.append(f"line {i}: item {ln.item_code} is not on the purchase order")
            res.lines.append(MatchedLine(i, None, ln, net, tax, ZERO, net))
            continue
        ol = next((o for o in candidates if o.received_qty - o.invoiced_qty > 0), candidates[-1])
        if ol.unit_price:
            diff = (ln.unit_price - ol.unit_price) * 100 / ol.unit_price
            if abs(diff) > tol.price_pct:
                res.reasons.append(f"line {i}: price {_n(ln.unit_price)} differs from the order's "
                                   f"{_n(ol.unit_price)} by {_pct(diff)} (tolerance {_pct(tol.price_pct)})")
        elif ln.unit_price:
            res.reasons.append(f"line {i}: the order prices {ln.item_code} at zero")
        after = ol.invoiced_qty + ln.quantity
        if after > ol.received_qty * qty_factor:
            res.reasons.append(f"line {i}: {ln.item_code}: invoiced {_n(after)} (this invoice "
                               f"{_n(ln.quantity)}) exceeds received {_n(ol.received_qty)}")
        if after > ol.quantity * qty_factor:
            res.reasons.append(f"line {i}: {ln.item_code}: invoiced {_n(after)} exceeds ordered "
                               f"{_n(ol.quantity)}")
        if ol.received_qty > 0 and after >= ol.received_qty:
            cleared = ol.received_value - ol.grni_cleared
        elif ol.received_qty > 0:
            cleared = quantize(ol.received_value * ln.quantity / ol.received_qty, currency)
        else:
            cleared = ZERO
        ol.invoiced_qty, ol.grni_cleared = after, ol.grni_cleared + cleared
        res.lines.append(MatchedLine(i, ol.line_no, ln, net, tax, cleared, net - cleared))
    if stated_gross is not None and stated_gross != res.gross_total:
        res.reasons.append(f"stated total {stated_gross} differs from the computed {res.gross_total}")
    return res
