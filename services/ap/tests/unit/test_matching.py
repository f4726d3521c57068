"""Three-way match and payment terms (pure)."""

import datetime as dt
from decimal import Decimal as D

import pytest
from ap.domain.matching import InvoiceLine, OrderLine, Tolerances, three_way_match
from ap.domain.terms import TermsError, early_discount, parse_terms


def order(received="10", value="1000.00", invoiced="0", cleared="0"):
    return [OrderLine(1, "BOLT", D("10"), D("100"), D(received), D(value), D(invoiced), D(cleared))]


def test_exact_match_clears_grni_at_receipt_cost():
    r = three_way_match(order(), [InvoiceLine("BOLT", D("10"), D("100"), "VAT13")], "EUR")
    assert r.matched
    (ln,) = r.lines
    assert (ln.net, ln.tax, ln.grni_cleared, ln.price_variance) == (D("1000.00"), D("130.00"), D("1000.00"), 0)
    assert r.gross_total == D("1130.00")


def test_small_price_variance_within_tolerance_goes_to_variance():
    r = three_way_match(order(), [InvoiceLine("BOLT", D("10"), D("101.50"), "VAT13")], "EUR")
    assert r.matched, r.reasons
    (ln,) = r.lines
    assert (ln.net, ln.grni_cleared, ln.price_variance) == (D("1015.00"), D("1000.00"), D("15.00"))


def test_every_mismatch_is_listed():
    r = three_way_match(order(received="6", value="600.00"),
                        [InvoiceLine("BOLT", D("12"), D("110"), "VAT13"), InvoiceLine("NUT", D("1"), D("1"), "VAT13")],
                        "EUR")
    assert not r.matched
    text = " | ".join(r.reasons)
    assert "differs from the order's 100 by 10.00% (tolerance 2.00%)" in text
    assert "invoiced 12 (this invoice 12) exceeds received 6" in text
    assert "exceeds ordered 10" in text
    assert "item NUT is not on the purchase order" in text


def test_partial_invoices_clear_the_receipt_exactly():
    # 3 units received at a total of 100.00 (33.333... each): pro rata then the exact remainder
    lines = [OrderLine(1, "X", D("3"), D("33.3333"), D("3"), D("100.00"))]
    first = three_way_match(lines, [InvoiceLine("X", D("1"), D("33.3333"), "VAT0")], "EUR")
    assert first.lines[0].grni_cleared == D("33.33")
    lines2 = [OrderLine(1, "X", D("3"), D("33.3333"), D("3"), D("100.00"), D("1"), D("33.33"))]
    second = three_way_match(lines2, [InvoiceLine("X", D("2"), D("33.3333"), "VAT0")], "EUR")
    assert second.matched and second.lines[0].grni_cleared == D("66.67")


def test_quantity_tolerance_and_stated_total():
    r = three_way_match(order(received="10"), [InvoiceLine("BOLT", D("10.5"), D("100"), "VAT0")], "EUR",
                        Tolerances(quantity_pct=D(5)))
    assert r.matched, r.reasons
    r = three_way_match(order(), [InvoiceLine("BOLT", D("10"), D("100"), "VAT13")], "EUR", stated_gross=D("1130.01"))
    assert r.reasons == ["stated total 1130.01 differs from the computed 1130.00"]


def test_terms():
    t = parse_terms("2/10 NET30")
    d = dt.date(2026, 11, 5)
    assert (t.due_date(d), t.discount_date(d), t.discount_pct) == (dt.date(2026, 12, 5), dt.date(2026, 11, 15), D(2))
    assert early_discount(D("1130.00"), t.discount_pct, t.discount_date(d), dt.date(2026, 11, 15), "EUR") == D("22.60")
    assert early_discount(D("1130.00"), t.discount_pct, t.discount_date(d), dt.date(2026, 11, 16), "EUR") == 0
    assert parse_terms("net45").net_days == 45 and parse_terms("NET45").discount_date(d) is None
    for bad in ("30 days", "2/40 NET30", "100/5 NET30"):
        with pytest.raises(TermsError):
            parse_terms(bad)
