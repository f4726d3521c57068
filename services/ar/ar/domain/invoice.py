"""Sales invoices: the arithmetic, pure. Line net = quantity x unit price - discount,
rounded to the currency's minor unit; tax per line from its tax code, rounded half up
(as the Golden Tax system does, line by line); totals are sums of rounded lines."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from fincore.money import MAX_DOCUMENT_AMOUNT, quantize
from fincore.tax import TAX_RATES, line_tax

__all__ = ["TAX_RATES", "InvoiceError", "LineInput", "PricedInvoice", "PricedLine", "price_invoice"]


class InvoiceError(ValueError):
    pass


@dataclass(frozen=True)
class LineInput:
    description: str
    quantity: Decimal
    unit_price: Decimal
    tax_code: str
    discount: Decimal = Decimal(0)
    item_code: str = ""
    item_category: str = ""
    dimensions: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PricedLine:
    line_no: int
    source: LineInput
    net: Decimal
    tax: Decimal

    @property
    def gross(self) -> Decimal:
        return self.net + self.tax


@dataclass(frozen=True)
class PricedInvoice:
    currency: str
    lines: tuple[PricedLine, ...]

    @property
    def net_total(self) -> Decimal:
        return sum((ln.net for ln in self.lines), Decimal(0)).quantize(self.lines[0].net)

    @property
    def tax_total(self) -> Decimal:
        return sum((ln.tax for ln in self.lines), Decimal(0)).quantize(self.lines[0].net)

    @property
    def gross_total(self) -> Decimal:
        return self.net_total + self.tax_total


def price_invoice(currency: str, lines: list[LineInput]) -> PricedInvoice:
    if not lines:
        raise InvoiceError("an invoice needs at least one line")
    priced = []
    for i, ln in enumerate(lines, start=1):
        if ln.tax_code not in TAX_RATES:
            raise InvoiceError(f"line {i}: unknown tax code {ln.tax_code!r} (one of {', '.join(TAX_RATES)})")
        if ln.quantity <= 0:
            raise InvoiceError(f"line {i}: quantity must be positive")
        if ln.unit_price < 0 or ln.discount < 0:
            raise InvoiceError(f"line {i}: unit price and discount must not be negative")
        gross_amount = ln.quantity * ln.unit_price
        if ln.discount > gross_amount:
            raise InvoiceError(f"line {i}: discount exceeds the line amount")
        net = quantize(gross_amount - ln.discount, currency)
        tax = line_tax(net, ln.tax_code, currency)
        priced.append(PricedLine(i, ln, net, tax))
    invoice = PricedInvoice(currency, tuple(priced))
    if invoice.gross_total <= 0:
        raise InvoiceError("an invoice must be for a positive amount (use a credit memo to reduce one)")
    if invoice.gross_total >= MAX_DOCUMENT_AMOUNT:
        raise InvoiceError(f"an invoice is for less than {MAX_DOCUMENT_AMOUNT:,} {currency} (the ledger's limit)")
    return invoice
