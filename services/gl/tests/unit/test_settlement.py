"""Realised exchange differences: the pure rule (settlement.relieve) and the default posting
rules that use it, with hand-computed known answers (CNY books, EUR documents)."""

import datetime as dt
from decimal import Decimal

import pytest
from finance.ap.v1 import events_pb2 as ap
from finance.ar.v1 import events_pb2 as ar
from fincore import dates, money
from gl.bootstrap import rulebook
from gl.domain.chart import load_chart
from gl.domain.settlement import OpenItem, relieve

CAS, IFRS = load_chart("cas"), load_chart("ifrs")
DAY = dates.to_proto(dt.date(2026, 12, 10))
H = dict(company_id="C1", document_number="DOC-1", occurrence_date=DAY)


def eur(v: str):
    return money.to_proto(Decimal(v), "EUR")


def draft(msg, rate: str, items: dict[str, OpenItem], chart=CAS):
    from fincore.events.registry import registry

    d = rulebook().draft(ce_type=registry.for_message(msg).ce_type, msg=msg, chart=chart, functional_currency="CNY",
                         rates={"EUR": Decimal(rate)}, open_items=items)
    assert d.total_debit == d.total_credit
    return [(ln.account_code, str(ln.debit), str(ln.credit), ln.open_item) for ln in d.lines]


# --- the pure rule ------------------------------------------------------------------------

def test_relieve_pro_rata_and_the_whole_remainder_last():
    # 2,000.00 EUR booked at 7.80 = 15,600.00 CNY.
    item = OpenItem("EUR", Decimal("2000.00"), Decimal("15600.00"))
    assert relieve(item, Decimal("500.00"), "CNY") == Decimal("3900.00")  # 15,600 x 500/2,000
    assert relieve(item, Decimal("2000.00"), "CNY") == Decimal("15600.00")
    # A credit item (unapplied cash, -500 EUR at 7.80) relieves with its own sign.
    credit = OpenItem("EUR", Decimal("-500.00"), Decimal("-3900.00"))
    assert relieve(credit, Decimal("200.00"), "CNY") == Decimal("-1560.00")


def test_three_thirds_leave_no_residue():
    # 100.00 EUR booked at 7.77 = 777.00; paid in three parts of 33.33, 33.33, 33.34.
    item = OpenItem("EUR", Decimal("100.00"), Decimal("777.00"))
    first = relieve(item, Decimal("33.33"), "CNY")  # 777 x 0.3333 = 258.9741 -> 258.97
    item = item.less(Decimal("33.33"), first)
    second = relieve(item, Decimal("33.33"), "CNY")  # 518.03 x 33.33/66.67 = 258.9767... -> 258.98
    item = item.less(Decimal("33.33"), second)
    last = relieve(item, Decimal("33.34"), "CNY")  # the rest: 259.05
    assert (first, second, last) == (Decimal("258.97"), Decimal("258.98"), Decimal("259.05"))
    assert item.less(Decimal("33.34"), last) == OpenItem("EUR", Decimal("0.00"), Decimal("0.00"))


def test_relieve_refuses_a_non_positive_amount():
    with pytest.raises(ValueError):
        relieve(OpenItem("EUR", Decimal(1), Decimal(7)), Decimal(0), "CNY")


# --- AR receipt ---------------------------------------------------------------------------

INVOICE = {"INV1": OpenItem("EUR", Decimal("2000.00"), Decimal("15600.00"))}  # 2,000 EUR at 7.80


def receipt(amount="2000.00", unapplied="0.00", applied="2000.00"):
    return ar.PaymentReceived(**H, customer_code="K", amount=eur(amount), unapplied=eur(unapplied),
                              applications=[ar.ReceiptApplication(invoice_id="INV1", amount=eur(applied))])


def test_receipt_at_a_lower_rate_realises_a_loss_on_cas_finance_costs():
    # The example: 2,000 EUR booked at 7.80 (15,600.00), paid at 7.75 (15,500.00):
    # the receivable is relieved at 15,600.00 and 100.00 is a realised loss on 660302.
    assert draft(receipt(), "7.75", INVOICE) == [
        ("1002", "15500.00", "0", ""), ("1122", "0", "15600.00", "INV1"), ("660302", "100.00", "0", "")]


def test_receipt_at_a_higher_rate_realises_a_gain_ifrs_account():
    # Paid at 7.85: 15,700.00 in the bank, 15,600.00 relieved, 100.00 gain on IFRS 4900.
    assert draft(receipt(), "7.85", INVOICE, IFRS) == [
        ("1010", "15700.00", "0", ""), ("1100", "0", "15600.00", "INV1"), ("4900", "0", "100.00", "")]


def test_partial_receipts_relieve_pro_rata_then_the_rest():
    # 1,000 EUR at 7.75: relieves 15,600 x 1,000/2,000 = 7,800.00; bank 7,750.00; loss 50.00.
    first = draft(receipt("1000.00", applied="1000.00"), "7.75", INVOICE)
    assert first == [("1002", "7750.00", "0", ""), ("1122", "0", "7800.00", "INV1"), ("660302", "50.00", "0", "")]
    # The remaining 1,000 EUR (7,800.00) paid at 7.90 = 7,900.00: gain 100.00; the item is 0/0.
    rest = {"INV1": INVOICE["INV1"].less(Decimal("1000.00"), Decimal("7800.00"))}
    assert draft(receipt("1000.00", applied="1000.00"), "7.90", rest) == [
        ("1002", "7900.00", "0", ""), ("1122", "0", "7800.00", "INV1"), ("660302", "0", "100.00", "")]


def test_overpayment_opens_unapplied_cash_at_the_days_rate():
    # 2,100 EUR at 7.75: 2,000 relieve the invoice (15,600.00); 100 EUR unapplied cash is a new
    # open item of the receipt at 7.75 = 775.00; bank 16,275.00; loss 15,600 - 15,500 = 100.00.
    msg = receipt("2100.00", unapplied="100.00")
    msg.receipt_id = "RC1"
    assert draft(msg, "7.75", INVOICE) == [
        ("1002", "16275.00", "0", ""), ("1122", "0", "15600.00", "INV1"), ("1122", "0", "775.00", "RC1"),
        ("660302", "100.00", "0", "")]


def test_a_document_the_ledger_does_not_track_is_relieved_at_the_days_rate():
    # An invoice posted before open items existed: no carrying amount known, so the receipt
    # relieves 2,000 x 7.75 = 15,500.00 as before, and there is no exchange line.
    assert draft(receipt(), "7.75", {}) == [("1002", "15500.00", "0", ""), ("1122", "0", "15500.00", "INV1")]


# --- AR credit memo, write-off, refund ----------------------------------------------------

def test_credit_memo_applied_to_an_fx_invoice():
    # Invoice 1,130 EUR at 7.80 = 8,814.00. Memo 100 + 13 VAT = 113 EUR at 7.75, all applied:
    # revenue 775.00 and VAT 100.75 reversed at the memo's rate; the invoice relieved at
    # 8,814 x 113/1,130 = 881.40; the 5.65 difference is a realised loss.
    memo = ar.CreditMemoIssued(**H, invoice_id="INV1", credit_memo_id="CM1", customer_code="K", currency="EUR",
                               gross_total=eur("113.00"), applied=eur("113.00"),
                               lines=[ar.InvoiceLine(net=eur("100.00"), tax=eur("13.00"))])
    items = {"INV1": OpenItem("EUR", Decimal("1130.00"), Decimal("8814.00"))}
    assert draft(memo, "7.75", items) == [
        ("6001", "775.00", "0", ""), ("22210102", "100.75", "0", ""), ("1122", "0", "881.40", "INV1"),
        ("660302", "5.65", "0", "")]


def test_write_off_relieves_the_carrying_amount():
    # 1,000 EUR booked at 7.80 = 7,800.00 written off at 7.60: the allowance takes 7,600.00,
    # the receivable goes at 7,800.00, and 200.00 is a realised loss.
    w = ar.BadDebtWrittenOff(**H, invoice_id="INV1", customer_code="K", amount=eur("1000.00"))
    items = {"INV1": OpenItem("EUR", Decimal("1000.00"), Decimal("7800.00"))}
    assert draft(w, "7.60", items) == [
        ("1231", "7600.00", "0", ""), ("1122", "0", "7800.00", "INV1"), ("660302", "200.00", "0", "")]


def test_refund_of_unapplied_cash_and_a_credit_memo():
    # Credit held: 300 EUR unapplied cash booked at 7.80 (-2,340.00) and 200 EUR of a credit
    # memo booked at 7.90 (-1,580.00). Refunding 500 EUR at 7.70 = 3,850.00 from the bank
    # relieves 2,340.00 + 1,580.00 = 3,920.00: a realised gain of 70.00.
    r = ar.RefundPaid(**H, customer_code="K", amount=eur("500.00"), sources=[
        ar.RefundSource(document_id="RC1", amount=eur("300.00")),
        ar.RefundSource(document_id="CM1", amount=eur("200.00"))])
    items = {"RC1": OpenItem("EUR", Decimal("-300.00"), Decimal("-2340.00")),
             "CM1": OpenItem("EUR", Decimal("-200.00"), Decimal("-1580.00"))}
    assert draft(r, "7.70", items) == [
        ("1122", "2340.00", "0", "RC1"), ("1122", "1580.00", "0", "CM1"), ("1002", "0", "3850.00", ""),
        ("660302", "0", "70.00", "")]


# --- AP payment ---------------------------------------------------------------------------

def test_ap_payment_with_a_discount_relieves_the_payable_at_its_booked_rate():
    # Payable 1,000 EUR booked at 7.80 = -7,800.00. Paid 980 EUR at 7.70 with a 20 EUR discount:
    # the payment relieves 7,800 x 980/1,000 = 7,644.00 and the discount the rest, 156.00;
    # bank 980 x 7.70 = 7,546.00; discount income 20 x 7.70 = 154.00; we paid 100.00 less
    # than booked: a realised gain of 7,800 - 7,546 - 154 = 100.00.
    pay = ap.PaymentMade(**H, supplier_code="S", amount=eur("980.00"), applications=[
        ap.PaymentApplication(invoice_id="PI1", amount=eur("980.00"), discount=eur("20.00"))])
    items = {"PI1": OpenItem("EUR", Decimal("-1000.00"), Decimal("-7800.00"))}
    assert draft(pay, "7.70", items) == [
        ("220201", "7644.00", "0", "PI1"), ("220201", "156.00", "0", "PI1"), ("6603", "0", "154.00", ""),
        ("1002", "0", "7546.00", ""), ("660302", "0", "100.00", "")]


def test_ap_payment_at_a_higher_rate_is_a_loss():
    # Payable 1,000 EUR at 7.80 paid at 7.95 = 7,950.00: relieved 7,800.00, loss 150.00.
    pay = ap.PaymentMade(**H, supplier_code="S", amount=eur("1000.00"), applications=[
        ap.PaymentApplication(invoice_id="PI1", amount=eur("1000.00"))])
    items = {"PI1": OpenItem("EUR", Decimal("-1000.00"), Decimal("-7800.00"))}
    assert draft(pay, "7.95", items) == [
        ("220201", "7800.00", "0", "PI1"), ("1002", "0", "7950.00", ""), ("660302", "150.00", "0", "")]


# --- documents booked before open items (gl.service.legacy) ------------------------------

def test_an_older_receipt_for_two_invoices_is_shared_by_its_transaction_amounts():
    from gl.domain.settlement import LegacyMismatch, itemise

    # A November receipt of 1,000 EUR posted at 7.77 (one 1122 line, 7,770.00): 600 EUR applied
    # to A, 300 to B, 100 unapplied. Shares: 7,770 x 600/1,000 = 4,662.00; x 300/1,000 = 2,331.00;
    # the last takes the rest, 777.00 (they add up to the posted line exactly).
    tagged = [("A", "1122", "EUR", Decimal("-600")), ("B", "1122", "EUR", Decimal("-300")),
              ("R", "1122", "EUR", Decimal("-100"))]
    posted = [("1122", "EUR", Decimal("-1000"), Decimal("-7770"))]
    assert itemise(tagged, posted, "CNY") == {
        ("A", "1122"): OpenItem("EUR", Decimal("-600"), Decimal("-4662.00")),
        ("B", "1122"): OpenItem("EUR", Decimal("-300"), Decimal("-2331.00")),
        ("R", "1122"): OpenItem("EUR", Decimal("-100"), Decimal("-777.00"))}
    # Rounding: 1,000.00 CNY over three equal parts -> 333.33, 333.33 and the rest 333.34.
    parts = itemise([(x, "1122", "EUR", Decimal("1")) for x in "XYZ"], [("1122", "EUR", Decimal("3"), Decimal("1000"))],
                    "CNY")
    assert [p.functional for p in parts.values()] == [Decimal("333.33"), Decimal("333.33"), Decimal("333.34")]
    # Lines that are not what the open-item rule would post do not itemise.
    with pytest.raises(LegacyMismatch):
        itemise(tagged, [("1122", "EUR", Decimal("-900"), Decimal("-7000"))], "CNY")


def test_the_first_open_item_version_itemises_an_older_event():
    book = rulebook()
    receipt = ar.PaymentReceived(**H, receipt_id="r1", customer_code="K", amount=eur("100"), unapplied=eur("0"),
                                 applications=[ar.ReceiptApplication(invoice_id="i1", amount=eur("100"))])
    rule = book.tracking_rule("finance.ar.PaymentReceived.v1", receipt)
    assert (rule.id, rule.version, rule.effective_from) == ("ar.payment_received", 2, dt.date(2026, 12, 1))
    # an AP payment without applications has no open-item version that matches it
    assert book.tracking_rule("finance.ap.PaymentMade.v1", ap.PaymentMade(**H, amount=eur("1"))) is None
