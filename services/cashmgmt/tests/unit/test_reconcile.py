"""Reconciliation rules and scoring on hand-made books (no database)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from cashmgmt.domain.reconcile import Book, Line, OpenItem, Party, RuleError, decide, load_rules, parse_rules

D = dt.date(2026, 11, 20)
RULES = load_rules()
ACME_IBAN = "DE89370400440532013000"


def inv(n: str, party: str, amount: str, days: int = 0) -> OpenItem:
    return OpenItem(f"ar_invoice:{n}", "ar_invoice", n, n, party, "CNY", Decimal(amount), D - dt.timedelta(days=days))


def book(*items: OpenItem) -> Book:
    return Book(list(items), [Party("customer", "C-ACME", "ACME Trading Ltd", {ACME_IBAN}),
                              Party("customer", "C-BETA", "Beta Industries", set()),
                              Party("supplier", "S-PUMP", "Pump Works GmbH", {"FR1420041010050500013M02606"})])


def line(amount: str, ref: str = "", name: str = "", iban: str = "", code: str = "", text: str = "") -> Line:
    return Line(1, "MAIN", Decimal(amount), "CNY", D, ref, name, iban, text, code)


def test_one_to_one_by_reference_and_amount_is_accepted():
    d = decide(book(inv("INV-1", "C-ACME", "1130.00"), inv("INV-2", "C-ACME", "500.00")),
               line("1130.00", "INV-1", "ACME Trading Ltd", ACME_IBAN), RULES)
    assert (d.rule, d.action, d.status) == ("open_invoices", "receipt", "auto")
    (c,) = d.candidates
    assert (c.items, c.amounts, c.score, c.reasons) == (("ar_invoice:INV-1",), (Decimal("1130.00"),), 100,
                                                        ("reference", "amount", "iban"))


def test_one_transfer_paying_three_invoices():
    b = book(inv("INV-1", "C-ACME", "100.00"), inv("INV-2", "C-ACME", "200.00"), inv("INV-3", "C-ACME", "300.00"))
    d = decide(b, line("600.00", "INV-1 INV-2, INV-3", "ACME Trading"), RULES)
    assert d.status == "auto"
    assert d.candidates[0].items == ("ar_invoice:INV-1", "ar_invoice:INV-2", "ar_invoice:INV-3")


def test_partial_payment_and_the_rest_later_many_to_one():
    b = book(inv("INV-9", "C-ACME", "1000.00"))
    first = decide(b, line("400.00", "INV-9", iban=ACME_IBAN), RULES)
    assert first.status == "auto" and first.candidates[0].reasons == ("reference", "partial", "iban")
    b.settle("ar_invoice:INV-9", Decimal("400.00"))
    second = decide(b, line("600.00", "INV-9", iban=ACME_IBAN), RULES)
    assert second.status == "auto" and second.candidates[0].reasons == ("reference", "amount", "iban")


def test_two_open_invoices_of_one_amount_and_no_reference_go_to_review():
    d = decide(book(inv("INV-1", "C-ACME", "500.00"), inv("INV-2", "C-ACME", "500.00", 1)),
               line("500.00", "", "ACME Trading Ltd", ACME_IBAN), RULES)
    assert d.status == "review"
    assert {c.items for c in d.candidates} == {("ar_invoice:INV-1",), ("ar_invoice:INV-2",)}


def test_a_reference_naming_another_customers_invoice_is_never_accepted():
    # ACME's bank account pays 750.00 naming Beta's invoice; ACME has an open invoice of 750.00 too
    d = decide(book(inv("INV-5", "C-BETA", "750.00"), inv("INV-6", "C-ACME", "750.00")),
               line("750.00", "INV-5", "ACME Trading Ltd", ACME_IBAN), RULES)
    assert d.status == "review"
    flags = {c.items[0]: c.flags for c in d.candidates}
    assert flags == {"ar_invoice:INV-5": ("other-party",), "ar_invoice:INV-6": ("wrong-reference",)}


def test_charges_interest_and_a_known_customer_without_reference():
    b = book(inv("INV-1", "C-ACME", "999.00"))
    assert decide(b, line("-12.50", code="CHRG", text="Account fee"), RULES).action == "charge"
    assert decide(b, line("-3.00", text="SWIFT charges"), RULES).action == "charge"
    assert decide(b, line("8.20", code="INTR"), RULES).action == "interest"
    d = decide(b, line("321.00", "", "ACME TRADING LTD."), RULES)
    assert (d.action, d.status, d.party) == ("customer_receipt", "auto", "C-ACME")
    assert decide(b, line("321.00", "", "Somebody Else"), RULES).status == "none"


def test_a_supplier_payment_already_booked_matches_by_its_reference():
    pay = OpenItem("ap_payment:P1", "ap_payment", "P1", "PAY-2026-000007", "S-PUMP", "CNY", Decimal("-2500.00"), D,
                   ("PI-77",))
    d = decide(book(pay), line("-2500.00", "PAY-2026-000007", "Pump Works GmbH"), RULES)
    assert (d.rule, d.status) == ("settled_documents", "auto")


@pytest.mark.parametrize("text, word", [
    ("- {id: a, action: pay}", "action"),
    ("- {id: a, action: match}", "kinds"),
    ("- {id: a, action: charge}", "bank_codes"),
    ("- {id: a, action: match, kinds: [ar_invoice], auto_accept: 20, review_from: 50}", "review_from"),
    ("- {id: a, action: charge, text: '('}", "text"),
])
def test_bad_rules_are_refused(text, word):
    with pytest.raises(RuleError, match=word):
        parse_rules(text)


def test_a_known_customer_paying_in_another_currency_waits_in_review_with_the_reason():
    b = Book([], [Party("customer", "C-EUR", "Euro Buyer SA", {ACME_IBAN}, "EUR"),
                  Party("customer", "C-CNY", "Yuan Buyer Ltd", set(), "CNY")])
    d = decide(b, line("800.00", "", "Euro Buyer SA", ACME_IBAN), RULES)  # a CNY line
    assert (d.rule, d.action, d.status, d.party) == ("known_customer", "customer_receipt", "review", "C-EUR")
    (c,) = d.candidates
    assert (c.items, c.flags) == ((), ("other-currency",))
    assert c.reasons == ("customer C-EUR pays in EUR; this line is in CNY",)
    # the same customer in the line's currency: their receipt, on its own
    assert decide(b, line("800.00", "", "Yuan Buyer Ltd"), RULES).status == "auto"


def test_a_payments_references_are_the_document_numbers_in_its_remittance_text():
    """AP's remittance texts ("Invoices S1-4711, S1-4712"): the numbers are references, the words
    are not (else every line saying "Invoices" would name the payment)."""
    from cashmgmt.entrypoints.consumers import _words

    assert _words("Invoices S1-4711, S1-4712") == ["S1-4711", "S1-4712"]
    assert _words("Invoice S2-0815 (our ref PI-2026-000003)") == ["S2-0815", "PI-2026-000003"]
