from decimal import Decimal

import pytest
from ar.domain.invoice import InvoiceError, LineInput, price_invoice


def L(q, p, tax="VAT13", disc="0"):  # noqa: N802
    return LineInput("x", Decimal(q), Decimal(p), tax, Decimal(disc))


def test_tax_per_line_rounded_half_up_and_totals_are_sums():
    inv = price_invoice("CNY", [L("3", "33.33"), L("1", "0.05", "VAT9"), L("2", "10", "VAT6", "1.5")])
    assert [ln.net for ln in inv.lines] == [Decimal("99.99"), Decimal("0.05"), Decimal("18.50")]
    assert [ln.tax for ln in inv.lines] == [Decimal("13.00"), Decimal("0.00"), Decimal("1.11")]
    assert inv.net_total == Decimal("118.54") and inv.tax_total == Decimal("14.11")
    assert inv.gross_total == Decimal("132.65")


def test_zero_decimal_currency():
    inv = price_invoice("JPY", [L("3", "333.5")])
    assert inv.lines[0].net == Decimal("1001") and inv.lines[0].tax == Decimal("130")


@pytest.mark.parametrize("lines, msg", [
    ([], "at least one line"),
    ([L("1", "10", "VAT99")], "unknown tax code"),
    ([L("0", "10")], "quantity must be positive"),
    ([L("1", "10", disc="11")], "discount exceeds"),
    ([L("1", "0")], "positive amount"),
])
def test_bad_invoices_are_refused(lines, msg):
    with pytest.raises(InvoiceError, match=msg):
        price_invoice("CNY", lines)
