"""When the payment run would pay an open invoice (what the cash forecast asks AP), on
in-memory invoices: the run's own rule (payments._item over terms.early_discount)."""

import datetime as dt
from decimal import Decimal

from ap.adapters.tables import SupplierInvoice
from ap.service.outlook import expected_payment

D = dt.date.fromisoformat


def invoice(settled: str = "0", hold: str | None = None) -> SupplierInvoice:
    # 2/10 NET30 of 2027-01-02: discount until 01-12, due 02-01; 1,000.00 gross
    return SupplierInvoice(id="i", company_id="C", number="AP-1", kind="expense", supplier_code="S",
                           supplier_invoice_number="S-1", invoice_date=D("2027-01-02"), due_date=D("2027-02-01"),
                           discount_date=D("2027-01-12"), discount_pct=Decimal("2"), payment_terms="2/10 NET30",
                           currency="CNY", net_total=Decimal("1000"), tax_total=Decimal(0),
                           gross_total=Decimal("1000.00"), status="approved", reasons=[], budget=[],
                           settled=Decimal(settled), payment_hold_reason=hold)


def test_discount_open_pays_on_the_discount_date_less_the_discount():
    assert expected_payment(invoice(), D("2027-01-06"))[:3] == (D("2027-01-12"), Decimal("980.00"), Decimal("20.00"))
    assert expected_payment(invoice(), D("2027-01-12"))[:3] == (D("2027-01-12"), Decimal("980.00"), Decimal("20.00"))


def test_discount_passed_pays_in_full_on_the_due_date():
    assert expected_payment(invoice(), D("2027-01-13"))[:3] == (D("2027-02-01"), Decimal("1000.00"), Decimal(0))


def test_partly_paid_earns_no_discount_and_pays_what_is_left():
    assert expected_payment(invoice("400.00"), D("2027-01-06"))[:3] == (D("2027-02-01"), Decimal("600.00"),
                                                                         Decimal(0))


def test_on_hold_is_still_owed_on_the_due_date_without_discount():
    pay_on, amount, discount, why = expected_payment(invoice(hold="disputed"), D("2027-01-06"))
    assert (pay_on, amount, discount, why) == (D("2027-02-01"), Decimal("1000.00"), Decimal(0), "on hold: due date")
