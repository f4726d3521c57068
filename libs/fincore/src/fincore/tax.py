"""Value-added tax codes shared by sales (AR) and purchases (AP): one table of rates, and the
rounding rule both sides use (per line, half up, to the currency's minor unit, as the Golden
Tax system does)."""

from __future__ import annotations

from decimal import Decimal

from fincore.money import quantize

# VAT rates in force in China (general taxpayer); EXEMPT and VAT0 carry no tax.
TAX_RATES: dict[str, Decimal] = {
    "VAT13": Decimal("0.13"), "VAT9": Decimal("0.09"), "VAT6": Decimal("0.06"),
    "VAT3": Decimal("0.03"), "VAT0": Decimal("0"), "EXEMPT": Decimal("0"),
}


class UnknownTaxCode(ValueError):
    pass


def line_tax(net: Decimal, tax_code: str, currency: str) -> Decimal:
    """Tax of one line's net amount."""
    try:
        rate = TAX_RATES[tax_code]
    except KeyError:
        raise UnknownTaxCode(f"unknown tax code {tax_code!r} (one of {', '.join(TAX_RATES)})") from None
    return quantize(net * rate, currency)
