"""The check that runs after every e2e scenario (conftest: books_agree_after_each_scenario)
bites: when a sub-ledger and its control account disagree it fails the scenario and names
the difference, a declared difference passes only when it is there, and a declaration that
is not there fails as well.

The difference is made the only way the public surface allows: events published straight
to the topics, as their producing services would, for documents those services never had.
The ledger posts them; AR, AP and inventory have nothing. Hand computation below."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from finance.ap.v1 import events_pb2 as ap
from finance.ar.v1 import events_pb2 as ar
from finance.inventory.v1 import events_pb2 as inv
from fincore import dates, money

pytestmark = pytest.mark.e2e

REASON = "published straight to the topic: the sub-ledger never had the document (test_books_agree)"


def M(v: str):  # noqa: N802
    return money.to_proto(Decimal(v), "CNY")


def D(day: str):  # noqa: N802
    return dates.to_proto(dt.date.fromisoformat(day))


def test_a_sub_ledger_that_disagrees_with_its_control_account_fails_the_scenario(suite):
    company = suite.new_company("BITE")
    suite.publish(
        # Receivables 1122, customer K1: Dr 1,130.00 (net 1,000.00 + VAT 130.00); AR has no invoice.
        ar.InvoiceIssued(company_id=company, document_number="BITE-INV-1", occurrence_date=D("2026-11-02"),
                         invoice_id="bite-inv-1", customer_code="K1", gross_total=M("1130.00"),
                         lines=[ar.InvoiceLine(net=M("1000.00"), tax=M("130.00"))]),
        # Inventory 1405: Dr 500.00 (GRNI Cr 500.00); the item ledger has no receipt.
        inv.GoodsReceived(company_id=company, document_number="BITE-GR-1", occurrence_date=D("2026-11-03"),
                          movement_id="bite-gr-1", supplier_code="S1", total_cost=M("500.00"),
                          lines=[inv.MovementLine(item_code="P", total_cost=M("500.00"))]),
        # Payables 220201, supplier S1: Cr 565.00 (GRNI Dr 500.00, input VAT Dr 65.00); AP has no invoice.
        ap.InvoiceApproved(company_id=company, document_number="BITE-PI-1", occurrence_date=D("2026-11-04"),
                           invoice_id="bite-pi-1", supplier_code="S1", kind=ap.INVOICE_KIND_STOCK,
                           gross_total=M("565.00"), lines=[ap.PayableLine(net=M("500.00"), tax=M("65.00"))]))
    suite.wait_journals(company, 3)

    # Undeclared: the check fails and its report names each difference, sub-ledger 0 against the ledger.
    with pytest.raises(pytest.fail.Exception) as failed:
        suite.assert_books_agree([company], "the probe", settle_s=2)
    report = str(failed.value)
    assert f"the books of the probe do not agree ({company})" in report
    for line in (f"BREACH I7 {company} customer K1 CNY: AR open items - credit vs receivables: "
                 "sub-ledger 0 != ledger 1130.00 (difference -1130.00)",
                 f"BREACH I7 {company} supplier S1 CNY: AP open items vs payables: "
                 "sub-ledger 0 != ledger 565.00 (difference -565.00)",
                 f"BREACH I7 {company} inventory (1405): valuation vs inventory accounts: "
                 "sub-ledger 0 != ledger 500.00 (difference -500.00)"):
        assert line in report, report
    assert report.count("BREACH") == 3, report  # I1-I4 and I6 hold: the ledger itself is right

    # A declaration that names a difference which is not there fails too (a stale declaration).
    suite.expect_breach("I7", company, "customer K2 CNY", REASON)
    with pytest.raises(pytest.fail.Exception) as failed:
        suite.assert_books_agree([company], "the probe", settle_s=2)
    assert f"expected I7 {company} 'customer K2 CNY' ({REASON}): expected breach NOT found" in str(failed.value)
    suite.expected = [e for e in suite.expected if e.company != company]

    # Declared exactly: the check passes; the finaliser runs the same check after this test and
    # fails it unless these three are found again.
    suite.expect_breach("I7", company, "customer K1 CNY", REASON, detail="difference -1130.00")
    suite.expect_breach("I7", company, "supplier S1 CNY", REASON, detail="difference -565.00")
    suite.expect_breach("I7", company, "inventory (1405)", REASON, detail="difference -500.00")
    suite.assert_books_agree([company], "the probe", settle_s=2)


def test_a_posting_event_the_ledger_records_as_handled_without_a_journal_is_a_lost_posting(suite):
    """I2 (issue 15's chaos follow-up): the ledger's inbox says an invoice was handled, yet it
    has no journal, no parking and no dead letter, though the rules post it (16.95 to K02:
    15.00 + VAT 1.95). Made here by recording the event in the posting consumer's inbox before
    it is published, so the consumer skips it as a copy. The checker names it as a lost
    posting, from the rules (/v1/rules), and lets pass the same invoice at zero, which the
    rules have nothing to post for. Beside them an ordinary invoice posts: its 113.00 is in
    K02's receivables, which AR never had (I7, declared as the first test's)."""
    company = suite.new_company("LOST")

    def invoice(number: str, gross: str, net: str, tax: str):
        return ar.InvoiceIssued(company_id=company, document_number=number, occurrence_date=D("2026-11-29"),
                                invoice_id=number.lower(), customer_code="K02", gross_total=M(gross),
                                lines=[ar.InvoiceLine(net=M(net), tax=M(tax))])

    def handled_already(envelopes) -> None:
        for env in envelopes[:2]:
            suite.sql("gl", "INSERT INTO inbox (consumer, event_id, processed_at) VALUES ('gl-posting', %s, now())",
                      (env.id,))

    lost, zero, _ = suite.publish(invoice("LOST-1", "16.95", "15.00", "1.95"), invoice("LOST-0", "0", "0", "0"),
                                  invoice("LOST-2", "113.00", "100.00", "13.00"), before=handled_already)
    suite.wait_journals(company, 1)
    reason = "recorded in the ledger's inbox before it was published (test_books_agree)"

    with pytest.raises(pytest.fail.Exception) as failed:
        suite.assert_books_agree([company], "the probe", settle_s=2)
    report = str(failed.value)
    assert (f"BREACH I2 {company} event {lost.id} (InvoiceIssued, finance.ar.events.v1" in report
            and "handled without a journal, a parking or a dead letter, but rule ar.invoice_issued v1 posts it "
                "(lost posting)" in report), report
    assert zero.id not in report and report.count("BREACH") == 2, report  # and I7: K02's 113.00 AR never had
    suite.expect_breach("I2", company, lost.id, reason, detail="(lost posting)")
    suite.expect_breach("I7", company, "customer K02 CNY", REASON, detail="difference -113.00")
    suite.assert_books_agree([company], "the probe", settle_s=2)
