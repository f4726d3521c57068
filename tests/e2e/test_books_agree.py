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
