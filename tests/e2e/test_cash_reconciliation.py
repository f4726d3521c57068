"""Reconciliation end to end: a month's bank statement (camt.053 built here and validated against
the official XSD; the same content as MT940 and as CSV) against what AR and AP published.

The statement (20 lines) holds receipts paying one invoice, three invoices at once, one invoice
in two parts, two invoices at once of which the second only in part, two invoices of the same
amount with no reference (twice: ambiguous, both to review), a reference naming another
customer's invoice (the trap: review, never matched), a bank charge by its code and one by its
text, interest (both posted by the rules), the two transfers of an AP payment run (real AP
documents: supplier invoices, a run proposed by one person, approved by another, its pain.001
file, executed), an AR receipt already booked, a known customer paying without reference (AR
applies it oldest-first), transfers to and from another own account, a refund AR paid, and a
line nobody knows (suspense, by a person's decision). Afterwards the ledger's bank sub-account
of the account (every receipt, payment and refund posted there by the bank account it names)
equals the statement's closing balance (hledger checks the assertion the GL's export
carries), and AR's and AP's open items are what a hand computation says."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from cashmgmt.adapters import bankfiles
from cashmgmt.domain.statements import ParsedLine, ParsedStatement
from lxml import etree

pytestmark = pytest.mark.e2e

D = dt.date
IBAN_C001 = "DE89370400440532013000"
IBAN_OURS = "DE44500105175407324931"  # BANK-1: the account AP pays from (pain.001) and the statement's
IBAN_S1 = "FR1420041010050500013M02606"
IBAN_S2 = "GB29NWBK60161331926819"
CSV_MAPPING = {"columns": {"booking_date": "Date", "amount": "Amount", "reference": "Reference",
                           "counterparty_name": "Name", "counterparty_iban": "IBAN", "description": "Text",
                           "bank_reference": "Ref", "bank_code": "Code"}}
PAIN = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"


def ok(r, status=200):
    assert r.status_code == status, r.text
    return r.json()


def wait_for(what, check, timeout=180.0):
    deadline = time.monotonic() + timeout
    while not (got := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s (last: {got!r})")
        time.sleep(0.5)
    return got


def invoice(suite, company: str, customer: str, net: str, day: int) -> dict:
    body = {"company_id": company, "customer_code": customer, "currency": "CNY",
            "issue_date": D(2026, 11, day).isoformat(),
            "lines": [{"description": "Service", "quantity": "1", "unit_price": net, "tax_code": "VAT13"}]}
    return ok(suite.http.post(f"{suite.ar_url}/v1/invoices", json=body), 201)


def supplier_invoice(suite, company: str, supplier: str, number: str, amount: str, day: int) -> dict:
    """An approved expense invoice (VAT0: gross = net) on the supplier's terms."""
    h, ap = suite.http, suite.ap_url
    inv = ok(h.post(f"{ap}/v1/supplier-invoices", json={
        "company_id": company, "kind": "expense", "supplier_code": supplier, "supplier_invoice_number": number,
        "invoice_date": D(2026, 11, day).isoformat(),
        "expense_lines": [{"description": "Maintenance", "amount": amount, "tax_code": "VAT0",
                           "cost_centre": "ADMIN", "budget_item": "OFFICE"}]}), 201)
    return ok(h.post(f"{ap}/v1/supplier-invoices/{inv['id']}/approve"))


def pain001(suite, run_id: str) -> list[tuple[str, str, str, str, str]]:
    """The run's bank file, validated against the pain.001.001.09 XSD sepaxml ships: per transfer
    (end-to-end id, amount, creditor name, creditor IBAN, remittance text)."""
    import sepaxml

    r = suite.http.get(f"{suite.ap_url}/v1/payment-runs/{run_id}/pain.001")
    assert r.status_code == 200, r.text
    xsd = etree.XMLSchema(etree.parse(str(Path(sepaxml.__file__).parent / "schemas" / "pain.001.001.09.xsd")))
    doc = etree.fromstring(r.content)
    assert xsd.validate(doc), xsd.error_log
    ns = {"p": PAIN}
    assert doc.findtext(".//p:DbtrAcct/p:Id/p:IBAN", namespaces=ns) == IBAN_OURS
    return [(t.findtext("p:PmtId/p:EndToEndId", namespaces=ns), t.findtext("p:Amt/p:InstdAmt", namespaces=ns),
             t.findtext("p:Cdtr/p:Nm", namespaces=ns), t.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=ns),
             t.findtext("p:RmtInf/p:Ustrd", namespaces=ns)) for t in doc.iterfind(".//p:CdtTrfTxInf", ns)]


def payables(suite, company: str) -> dict:
    """AP's side: a budget for the expenses, two suppliers, four approved invoices, and a payment
    run for 14 November from BANK-1, proposed by e2e and approved by e2e-treasurer (duties are
    separated), whose pain.001 file the bank executes and which AP then executes.

    Hand computation: S1 (NET30): P1 1,200.00 and P2 800.00, due 2 and 3 December, proposed
    because due by 10 December: one transfer of 2,000.00. S2 (2/10 NET30): P3 500.00 of 6
    November, 2 % off until 16 November: 490.00 paid, 10.00 discount; P4 300.00 on payment hold
    (disputed): not proposed, 300.00 stays open."""
    h, ap, b = suite.http, suite.ap_url, suite.budget_url
    ok(h.put(f"{b}/v1/budget-items/OFFICE", json={"company_id": company, "name": "Office", "accounts": ["6602"]}))
    v = ok(h.post(f"{b}/v1/budget-versions", json={"company_id": company, "code": "FY2026", "currency": "CNY"}), 201)
    ok(h.post(f"{b}/v1/budget-versions/{v['id']}/lines.csv", headers={"Content-Type": "text/csv"},
              content="cost_centre,budget_item,period,amount,control_mode,tolerance_pct\n"
                      "ADMIN,OFFICE,2026-11,100000.00,warn,0\n"))
    ok(h.post(f"{b}/v1/budget-versions/{v['id']}/approve"))
    ok(h.put(f"{ap}/v1/suppliers/S1", json={"company_id": company, "name": "Pump Works GmbH", "currency": "CNY",
                                            "payment_terms": "NET30", "iban": IBAN_S1}))
    ok(h.put(f"{ap}/v1/suppliers/S2", json={"company_id": company, "name": "Valve Trading Ltd", "currency": "CNY",
                                            "payment_terms": "2/10 NET30", "iban": IBAN_S2}))
    # AP's record of BANK-1 (the debtor account of its bank files): cash management's code and IBAN
    ok(h.put(f"{ap}/v1/bank-accounts/BANK-1", json={"company_id": company, "name": f"Company {company}",
                                                     "iban": IBAN_OURS, "currency": "CNY"}))
    docs = {"P1": supplier_invoice(suite, company, "S1", "S1-4711", "1200.00", 2),
            "P2": supplier_invoice(suite, company, "S1", "S1-4712", "800.00", 3),
            "P3": supplier_invoice(suite, company, "S2", "S2-0815", "500.00", 6),
            "P4": supplier_invoice(suite, company, "S2", "S2-0816", "300.00", 8)}
    assert (docs["P3"]["discount_date"], docs["P3"]["due_date"]) == ("2026-11-16", "2026-12-06")
    ok(h.post(f"{ap}/v1/supplier-invoices/{docs['P4']['id']}/payment-hold",
              json={"reason": "disputed: the delivery was incomplete"}))
    run = ok(h.post(f"{ap}/v1/payment-runs", json={"company_id": company, "payment_date": "2026-11-14",
                                                    "due_by": "2026-12-10", "bank_account": "BANK-1"}), 201)
    n = {k: d["number"] for k, d in docs.items()}
    assert sorted((i["invoice"], i["amount"], i["discount"]) for i in run["items"]) == sorted([
        (n["P1"], "1200.00", "0.00"), (n["P2"], "800.00", "0.00"), (n["P3"], "490.00", "10.00")])
    assert run["total"] == "2490.00"
    refused = h.post(f"{ap}/v1/payment-runs/{run['id']}/approve")  # its proposer cannot approve it
    assert refused.status_code == 403 and refused.json()["type"].endswith("/segregation-of-duties"), refused.text
    with suite.client("e2e-treasurer") as treasurer:
        assert ok(treasurer.post(f"{ap}/v1/payment-runs/{run['id']}/approve"))["approved_by"] == "e2e-treasurer"
    transfers = pain001(suite, run["id"])
    assert transfers == [
        (f"{run['number']}-S1", "2000.00", "Pump Works GmbH", IBAN_S1, "Invoices S1-4711, S1-4712"),
        (f"{run['number']}-S2", "490.00", "Valve Trading Ltd", IBAN_S2, f"Invoice S2-0815 (our ref {n['P3']})")]
    done = ok(h.post(f"{ap}/v1/payment-runs/{run['id']}/execute"))
    paid = {p["supplier_code"]: p for p in done["payments"]}
    assert {k: p["amount"] for k, p in paid.items()} == {"S1": "2000.00", "S2": "490.00"}
    return {**docs, "run": run, "PAY-S1": paid["S1"], "PAY-S2": paid["S2"]}, transfers


def setup(suite, fmt: str) -> tuple[str, ParsedStatement, dict]:
    """A company with its documents in AR/AP and its bank statement for November."""
    h, c = suite.http, suite.new_company(f"REC{fmt[:3].upper()}")
    ok(h.post(f"{suite.cash_url}/v1/bank-accounts", json={
        "company_id": c, "code": "BANK-1", "name": "Main account", "currency": "CNY", "iban": IBAN_OURS,
        "gl_account": "100201", "opened_on": "2026-11-01"}), 201)
    ok(h.post(f"{suite.cash_url}/v1/bank-accounts", json={
        "company_id": c, "code": "BANK-2", "name": "Payroll account", "currency": "CNY",
        "account_number": f"6223{uuid.uuid4().int % 10**12:012d}", "gl_account": "100202",
        "opened_on": "2026-11-01"}), 201)
    # No waiting for the ledger to learn the accounts (BankAccountOpened): a receipt or payment it
    # reads first waits for its account and posts to the account's sub-account when it learns it.
    inv = {
        "I1": invoice(suite, c, "C001", "1000.00", 2),   # 1130.00, paid by reference
        "I2": invoice(suite, c, "C002", "500.00", 3),    # 565.00  \
        "I3": invoice(suite, c, "C002", "200.00", 3),    # 226.00   > one transfer of 1130.00
        "I4": invoice(suite, c, "C002", "300.00", 4),    # 339.00  /
        "I5": invoice(suite, c, "C003", "2000.00", 4),   # 2260.00: 1000.00 then 1260.00
        "I6": invoice(suite, c, "C004", "400.00", 5),    # 452.00  \ same amount, no reference:
        "I7": invoice(suite, c, "C004", "400.00", 6),    # 452.00  / ambiguous (paid twice so)
        "I8": invoice(suite, c, "C005", "700.00", 6),    # 791.00: named by C001's trap line
        "I9": invoice(suite, c, "C000", "800.00", 7),    # 904.00: C000 pays 500.00 without reference
        "I10": invoice(suite, c, "C005", "600.00", 8),   # 678.00, paid by reference (name, no IBAN)
        "I11": invoice(suite, c, "C999", "1000.00", 9),  # 1130.00 \ one transfer of 1500.00 naming both:
        "I12": invoice(suite, c, "C999", "500.00", 9),   # 565.00  / I11 in full, 370.00 of I12
    }
    # an AR receipt booked in AR (C006, on account), the AP payment run, transfers to and from BANK-2
    receipt = ok(h.post(f"{suite.ar_url}/v1/receipts", json={
        "company_id": c, "customer_code": "C006", "receipt_date": "2026-11-12", "amount": "300.00",
        "bank_account": "BANK-1"}), 201)
    # C006 gets 120.00 of that credit back (AR's RefundPaid, from BANK-1)
    refund = ok(h.post(f"{suite.ar_url}/v1/refunds", json={
        "company_id": c, "customer_code": "C006", "refund_date": "2026-11-22", "amount": "120.00",
        "bank_account": "BANK-1"}), 201)
    ap, transfers = payables(suite, c)
    out = ok(h.post(f"{suite.cash_url}/v1/internal-transfers", json={
        "company_id": c, "from_bank_account": "BANK-1", "to_bank_account": "BANK-2", "amount": "1000.00",
        "transfer_date": "2026-11-20"}), 201)
    back = ok(h.post(f"{suite.cash_url}/v1/internal-transfers", json={
        "company_id": c, "from_bank_account": "BANK-2", "to_bank_account": "BANK-1", "amount": "250.00",
        "transfer_date": "2026-11-27"}), 201)
    n = {k: v["number"] for k, v in inv.items()}
    (e2e_s1, _, name_s1, iban_s1, text_s1), (e2e_s2, _, name_s2, iban_s2, text_s2) = transfers
    rows = [  # day, amount, reference, counterparty, iban, text, bank code
        (5, "1130.00", n["I1"], "Customer C001", IBAN_C001, f"Invoice {n['I1']}", "RCDT"),
        (6, "1130.00", f"{n['I2']} {n['I3']} {n['I4']}", "Customer C002", "", "Invoices", "RCDT"),
        (8, "1000.00", n["I5"], "Customer C003", "", "First part", "RCDT"),
        (9, "452.00", "", "Customer C004", "", "Payment", "RCDT"),
        (10, "791.00", n["I8"], "Customer C001", IBAN_C001, "Payment", "RCDT"),  # the trap
        (12, "300.00", "", "Customer C006", "", "Transfer", "RCDT"),
        # the run's two transfers as the bank reports them: what the pain.001 file said
        (14, "-2000.00", e2e_s1, name_s1, iban_s1, text_s1, "ICDT"),
        (14, "-490.00", e2e_s2, name_s2, iban_s2, text_s2, "ICDT"),
        (15, "500.00", "", "Customer C000", "", "On account", "RCDT"),
        (16, "678.00", n["I10"], "Customer C005", "", f"Invoice {n['I10']}", "RCDT"),
        (17, "1500.00", f"{n['I11']} {n['I12']}", "Customer C999", "", "Invoices", "RCDT"),
        (18, "1260.00", n["I5"], "Customer C003", "", "Rest", "RCDT"),
        (20, "-1000.00", out["number"], "", "", "Own transfer", "ICDT"),
        (22, "-120.00", refund["number"], "Customer C006", "", "Refund", "ICDT"),
        (24, "452.00", "", "Customer C004", "", "Payment", "RCDT"),
        (25, "77.70", "", "Somebody Unknown", "", "Gift?", "RCDT"),
        (27, "250.00", back["number"], "", "", "Own transfer", "RCDT"),
        (28, "-8.50", "", "", "", "Charges for the foreign transfers", "ICDT"),  # a charge by its text
        (30, "-25.00", "", "", "", "Account maintenance fee", "CHRG"),
        (30, "3.21", "", "", "", "Interest November", "INTR"),
    ]
    lines = tuple(ParsedLine(D(2026, 11, d), D(2026, 11, d), Decimal(a), ref, name, iban, text, f"L{i:03d}", code)
                  for i, (d, a, ref, name, iban, text, code) in enumerate(rows, 1))
    closing = sum((ln.amount for ln in lines), Decimal(0))
    # 1130 + 1130 + 1000 + 452 + 791 + 300 - 2000 - 490 + 500 + 678 + 1500 + 1260 - 1000 - 120
    # + 452 + 77.70 + 250 - 8.50 - 25 + 3.21 = 5,880.41, opening at 0.00
    assert closing == Decimal("5880.41")
    st = ParsedStatement("any", f"{c}-2026-11", "CNY", Decimal("0.00"), closing, D(2026, 11, 1), D(2026, 11, 30),
                         lines, iban=IBAN_OURS)
    # reconciliation needs what AR and AP published: wait until cash management has it (12
    # invoices, the receipt, the refund, the two payments, two legs of each transfer)
    wait_for("documents reached cash management", lambda: len(ok(h.get(
        f"{suite.cash_url}/v1/reconciliation/open-items", params={"company": c}))) == 12 + 1 + 1 + 2 + 2 * 2)
    return c, st, {**inv, **ap, "receipt": receipt, "transfer": out, "transfer_back": back, "refund": refund}


def import_statement(suite, company: str, st: ParsedStatement, fmt: str) -> dict:
    h, url = suite.http, f"{suite.cash_url}/v1/statements"
    if fmt == "camt053":
        body = bankfiles.write_camt053(st, "camt.053.001.08")
        assert bankfiles.camt_schema("camt.053.001.08").validate(etree.fromstring(body))
        return ok(h.post(url, params={"company": company}, content=body), 201)
    if fmt == "mt940":
        return ok(h.post(url, params={"company": company}, content=bankfiles.write_mt940(st)), 201)
    ok(h.put(f"{suite.cash_url}/v1/bank-accounts/BANK-1/csv-mapping", params={"company": company}, json=CSV_MAPPING))
    return ok(h.post(url, params={"company": company, "format": "csv", "bank_account": "BANK-1",
                                  "statement_id": st.statement_id, "opening_balance": "0.00",
                                  "closing_balance": str(st.closing_balance)},
                     content=bankfiles.write_csv(st, CSV_MAPPING)), 201)


def outcome(suite, company: str) -> list[tuple]:
    lines = ok(suite.http.get(f"{suite.cash_url}/v1/reconciliation/lines", params={"company": company}))
    return [(ln["line_no"], ln["rule"], ln["action"], ln["status"], ln["party"],
             [[i["number"] for i in c["items"]] for c in ln["candidates"]][:1 if ln["status"] == "auto" else 9],
             sorted(f for c in ln["candidates"] for f in c["flags"])) for ln in lines]


@pytest.fixture(scope="module")
def reconciled(suite):
    out = {}
    for fmt in ("camt053", "mt940", "csv"):
        company, st, docs = setup(suite, fmt)
        got = import_statement(suite, company, st, fmt)
        out[fmt] = (company, st, docs, got)
    return out


def test_the_month_reconciles_by_the_rules_and_the_same_content_in_every_format_gives_the_same_result(
        suite, reconciled):
    company, st, docs, got = reconciled["camt053"]
    n = {k: v["number"] for k, v in docs.items() if k.startswith("I")}
    assert got["reconciliation"] == {"auto": 16, "review": 3, "unmatched": 1, "auto:receipt": 6,
                                     "auto:match": 6, "auto:customer_receipt": 1, "auto:charge": 2,
                                     "auto:interest": 1}
    by_line = {row[0]: row for row in outcome(suite, company)}
    assert len(by_line) == 20
    assert by_line[1][1:6] == ("open_invoices", "receipt", "auto", "C001", [[n["I1"]]])
    assert by_line[2][1:6] == ("open_invoices", "receipt", "auto", "C002", [[n["I2"], n["I3"], n["I4"]]])
    assert by_line[3][1:6] == ("open_invoices", "receipt", "auto", "C003", [[n["I5"]]])  # partial
    assert by_line[12][1:6] == ("open_invoices", "receipt", "auto", "C003", [[n["I5"]]])  # the rest
    assert by_line[10][1:6] == ("open_invoices", "receipt", "auto", "C005", [[n["I10"]]])
    assert by_line[11][1:6] == ("open_invoices", "receipt", "auto", "C999", [[n["I11"], n["I12"]]])  # 1130 + 370
    for ambiguous in (4, 15):  # two open invoices of the same amount, no reference: never on its own
        assert by_line[ambiguous][2:4] == ("receipt", "review")
        assert sorted(by_line[ambiguous][5]) == sorted([[n["I6"]], [n["I7"]]])
    assert by_line[5][2:4] == ("receipt", "review") and "other-party" in by_line[5][6]  # the trap
    assert by_line[5][5] == [[n["I8"]]]
    assert by_line[6][1:4] == ("settled_documents", "match", "auto")  # AR's receipt
    assert by_line[7][1:6] == ("settled_documents", "match", "auto", "S1", [[docs["PAY-S1"]["number"]]])
    assert by_line[8][1:6] == ("settled_documents", "match", "auto", "S2", [[docs["PAY-S2"]["number"]]])
    assert by_line[9][1:5] == ("known_customer", "customer_receipt", "auto", "C000")
    for line_no, doc in ((13, "transfer"), (17, "transfer_back"), (14, "refund")):  # ours, and AR's refund
        assert (by_line[line_no][1:4], by_line[line_no][5]) == (("settled_documents", "match", "auto"),
                                                                [[docs[doc]["number"]]])
    assert by_line[16][3] == "unmatched"
    assert [by_line[k][1:4] for k in (18, 19, 20)] == [("bank_charges", "charge", "auto"),
                                                        ("bank_charges", "charge", "auto"),
                                                        ("interest", "interest", "auto")]
    # MT940 and CSV of the same content: the same decisions, line by line
    for fmt in ("mt940", "csv"):
        other, _, other_docs, other_got = reconciled[fmt]
        assert other_got["reconciliation"] == got["reconciliation"], fmt
        rename = {other_docs[k]["number"]: docs[k]["number"] for k in other_docs}
        mine = [(row[:5], [[rename.get(x, x) for x in c] for c in row[5]], row[6]) for row in outcome(suite, other)]
        theirs = [(row[:5], row[5], row[6]) for row in outcome(suite, company)]
        assert [(a[0][1:], a[1], a[2]) for a in mine] == [(b[0][1:], b[1], b[2]) for b in theirs], fmt


@pytest.mark.parametrize("fmt", ["camt053", "mt940", "csv"])
def test_review_decisions_then_the_ledgers_bank_equals_the_statement_and_ar_ap_are_as_computed(
        suite, reconciled, fmt):
    """The same decisions on each format's company end in the same books: one hand computation."""
    company, st, docs, _ = reconciled[fmt]
    h = suite.http
    review = {ln["line_no"]: ln for ln in ok(h.get(f"{suite.cash_url}/v1/reconciliation/lines",
                                                   params={"company": company, "status": "review"}))}
    assert sorted(review) == [4, 5, 15]
    # the ambiguous lines: C004 paid both invoices of 452.00; the reviewer takes the older (I6)
    # for the first line and the other (I7) for the second
    for line_no, pick_doc in ((4, "I6"), (15, "I7")):
        ambiguous = review[line_no]
        assert all(c["score"] for c in ambiguous["candidates"])
        pick = next(i for i, c in enumerate(ambiguous["candidates"])
                    if c["items"][0]["number"] == docs[pick_doc]["number"])
        ok(h.post(f"{suite.cash_url}/v1/reconciliation/lines/{ambiguous['line_id']}/accept",
                  params={"company": company}, json={"candidate": pick}))
    # the trap: rejected; C001 paid it, so it is C001's receipt on account (C001 has nothing open)
    trap = review[5]
    ok(h.post(f"{suite.cash_url}/v1/reconciliation/lines/{trap['line_id']}/reject", params={"company": company}))
    r = h.post(f"{suite.cash_url}/v1/reconciliation/lines/{trap['line_id']}/reject", params={"company": company})
    assert r.status_code == 409, r.text
    ok(h.post(f"{suite.cash_url}/v1/reconciliation/lines/{trap['line_id']}/accept", params={"company": company},
              json={"customer": "C001"}))
    # the unknown line: suspense
    (unknown,) = ok(h.get(f"{suite.cash_url}/v1/reconciliation/lines",
                          params={"company": company, "status": "unmatched"}))
    ok(h.post(f"{suite.cash_url}/v1/reconciliation/lines/{unknown['line_id']}/accept", params={"company": company},
              json={"action": "suspense"}))
    wait_for("the suspense posted", lambda: any(ln["account"] == "2241" for ln in suite.trial_balance(
        company, "2026-11-30")["lines"]))
    # ... and later identified: C000's money after all (the suspense cleared, AR applies it oldest-first)
    r = h.post(f"{suite.cash_url}/v1/reconciliation/lines/{review[4]['line_id']}/identify",
               params={"company": company}, json={"customer": "C000"})
    assert r.status_code == 409 and "not on the suspense account" in r.json()["detail"], r.text
    ok(h.post(f"{suite.cash_url}/v1/reconciliation/lines/{unknown['line_id']}/identify", params={"company": company},
              json={"customer": "C000"}))
    assert ok(h.get(f"{suite.cash_url}/v1/reconciliation/lines",
                    params={"company": company, "status": "review"})) == []

    # Hand computation of AR: I1-I5 paid (I5 in two parts: 1000.00 + 1260.00); I6 and I7 paid
    # (review); I8 791.00 open (the trap never touched it); I9 904.00 - 500.00 (C000 oldest-first)
    # - 77.70 (the suspense line, C000's after all) = 326.30 open; I10 paid; I11 paid; I12 565.00
    # - 370.00 (1500.00 - I11's 1130.00) = 195.00 open.
    expected = {"I1": "0.00", "I2": "0.00", "I3": "0.00", "I4": "0.00", "I5": "0.00", "I6": "0.00",
                "I7": "0.00", "I8": "791.00", "I9": "326.30", "I10": "0.00", "I11": "0.00", "I12": "195.00"}

    def outstanding():
        return {k: ok(h.get(f"{suite.ar_url}/v1/invoices/{docs[k]['id']}"))["outstanding"] for k in expected}

    wait_for("AR applied the identified receipts", lambda: outstanding() == expected)
    # Hand computation of AP: P1 1,200.00 + P2 800.00 paid by S1's transfer of 2,000.00; P3
    # 500.00 = 490.00 paid + 10.00 discount (2 % until 16 November); P4 300.00 on hold, open.
    ap_open = {k: (lambda i: (i["status"], i["settled"]))(ok(h.get(f"{suite.ap_url}/v1/supplier-invoices/"
                                                                      f"{docs[k]['id']}")))
               for k in ("P1", "P2", "P3", "P4")}
    assert ap_open == {"P1": ("paid", "1200.00"), "P2": ("paid", "800.00"), "P3": ("paid", "500.00"),
                       "P4": ("approved", "0.00")}
    ageing = ok(h.get(f"{suite.ap_url}/v1/ageing", params={"company": company, "as_of": "2026-11-30"}))
    assert [(s["supplier"], s["total"]) for s in ageing["suppliers"]] == [("S2", "300.00")]
    # The ledger: receivables = open invoices 791.00 + 326.30 + 195.00 = 1,312.30 less the
    # customers' credits, C001 791.00 (the trap line, on account) and C006 300.00 - 120.00 =
    # 180.00: 341.30; payables = P4's 300.00.
    # BANK-1's ledger sub-account (100201: AR's receipts and refund, AP's payments, the charges,
    # the interest, the transfers and the suspense line all post there, by the account each
    # names) equals the closing balance, once every line's journal is in; 1002 itself holds nothing.
    closing = st.closing_balance

    def balance(account: str) -> Decimal | None:
        lines = {ln["account"]: ln for ln in suite.trial_balance(company, "2026-11-30")["lines"]}
        b = lines.get(account)
        return Decimal(b["debit_balance"]) - Decimal(b["credit_balance"]) if b else None

    wait_for(f"GL bank 100201 = statement closing {closing}", lambda: balance("100201") == closing)
    wait_for("the suspense account cleared", lambda: balance("2241") in (None, Decimal(0)))
    assert balance("1002") is None and balance("100202") == Decimal("750.00")  # BANK-2: 1,000.00 in, 250.00 back
    assert balance("1122") == Decimal("341.30")
    assert balance("220201") == Decimal("-300.00")
    # hledger, independently: the GL's export carries the statement's balance assertion itself
    if shutil.which("hledger") is None:
        pytest.fail("hledger is not installed: run `make test-tools` (make test does)")
    journal = h.get(f"{suite.gl_url}/v1/export/hledger", params={"company": company, "bank_assertions": "true"})
    assert journal.status_code == 200, journal.text
    text = journal.text
    assert f"assets:100201  0 CNY = {closing} CNY" in text, text[-2000:]
    res = subprocess.run(["hledger", "-f", "-", "check"], input=text, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    wrong = text.replace(f"= {closing} CNY", f"= {closing + 1} CNY")
    res = subprocess.run(["hledger", "-f", "-", "check"], input=wrong, capture_output=True, text=True, timeout=120)
    assert res.returncode != 0 and "assertion" in res.stderr.lower()  # the check would catch a difference
    # finance-verify I7: the reconciled bank (statement, less unreconciled lines, plus documents not
    # yet on a statement) equals each bank account's ledger sub-account (BANK-2: no statement, the
    # transfers 1,000.00 in and 250.00 out outstanding = its 100202), and AP's open items equal the
    # payables (no breach declared: every document is AP's own)
    res = suite.verify([company], only=("I7",), settle_s=30)
    assert res.breaches == [], res.report()


def test_reimport_after_reconciliation_is_refused_and_changes_nothing(suite, reconciled):
    company, st, _, _ = reconciled["mt940"]
    h = suite.http
    before = outcome(suite, company)
    r = h.post(f"{suite.cash_url}/v1/statements", params={"company": company}, content=bankfiles.write_mt940(st))
    assert r.status_code == 422 and r.json()["type"].endswith("duplicate-statement"), r.text
    assert outcome(suite, company) == before


def test_a_document_arriving_after_the_statement_reconciles_its_line(suite):
    """The bank was faster than the books: a line from a payer nobody knows yet stays unmatched;
    when AR publishes the customer and the invoice, cash management decides the line again on
    its own and finds the invoice (amount and name: to review, not on its own), and the
    reviewer's acceptance has AR book the receipt."""
    h, c = suite.http, suite.new_company("RECLATE")
    acct = ok(h.post(f"{suite.cash_url}/v1/bank-accounts", json={
        "company_id": c, "code": "BANK-1", "name": "Main account", "currency": "CNY",
        "account_number": f"6224{uuid.uuid4().int % 10**12:012d}", "gl_account": "100201",
        "opened_on": "2026-11-01"}), 201)
    wait_for("the ledger learned the bank account", lambda: ok(h.get(
        f"{suite.gl_url}/v1/bank-accounts", params={"company": c})) != [])
    ln = ParsedLine(D(2026, 11, 10), D(2026, 11, 10), Decimal("565.00"), "", "Late Payer AG", "", "Payment",
                    "L001", "RCDT")
    st = ParsedStatement("any", f"{c}-2026-11", "CNY", Decimal("0.00"), Decimal("565.00"), D(2026, 11, 1),
                         D(2026, 11, 30), (ln,), account_number=acct["account_number"])
    got = import_statement(suite, c, st, "camt053")
    assert got["reconciliation"] == {"unmatched": 1}
    # the customer and the invoice come later: 500.00 + 13% VAT = 565.00, due on its issue date
    ok(h.put(f"{suite.ar_url}/v1/customers/C-LATE", json={"company_id": c, "code": "C-LATE",
                                                          "name": "Late Payer AG"}))
    inv = ok(h.post(f"{suite.ar_url}/v1/invoices", json={
        "company_id": c, "customer_code": "C-LATE", "currency": "CNY", "issue_date": "2026-11-12",
        "due_date": "2026-11-12",
        "lines": [{"description": "Service", "quantity": "1", "unit_price": "500.00", "tax_code": "VAT13"}]}), 201)
    # score: amount 30 + two days apart 5 (+ the same name 10 once the customer has reached cash
    # management: its event and the invoice's travel on different partitions) = 35 or 45: to review
    # (from 30), never on its own (80)
    (line,) = wait_for("the line decided again", lambda: ok(h.get(
        f"{suite.cash_url}/v1/reconciliation/lines", params={"company": c, "status": "review"})))
    assert (line["rule"], line["action"], line["party"]) == ("open_invoices", "receipt", "C-LATE")
    (cand,) = line["candidates"]
    assert [i["number"] for i in cand["items"]] == [inv["number"]] and cand["score"] in (35, 45), cand
    ok(h.post(f"{suite.cash_url}/v1/reconciliation/lines/{line['line_id']}/accept", params={"company": c},
              json={"candidate": 0}))
    wait_for("AR booked the receipt", lambda: ok(h.get(f"{suite.ar_url}/v1/invoices/{inv['id']}"))["outstanding"]
             == "0.00")


def test_a_receipt_booked_before_its_bank_account_is_opened_waits_for_it_in_the_ledger(suite):
    """The ledger learns each bank account's sub-account from cash management (BankAccountOpened,
    on its own topic). A receipt AR books into an account the ledger has not learned is not
    posted to the chart's bank 1002: it waits (GET /v1/admin/awaiting-documents, awaiting
    bank-account:BANK-9) and posts to the account's sub-account once cash management opens it."""
    h, c = suite.http, suite.new_company("RECWAIT")
    rc = ok(h.post(f"{suite.ar_url}/v1/receipts", json={
        "company_id": c, "customer_code": "C001", "receipt_date": "2026-11-10", "amount": "226.00",
        "bank_account": "BANK-9"}), 201)

    def waiting():
        return [(x["document"], x["awaiting"]) for x in ok(h.get(f"{suite.gl_url}/v1/admin/awaiting-documents",
                                                                 params={"company": c}))]

    assert wait_for("the receipt waits for its bank account", waiting) == [(rc["number"], "bank-account:BANK-9")]
    assert suite.trial_balance(c, "2026-11-30")["lines"] == []  # nothing on 1002 (nor on receivables)
    ok(h.post(f"{suite.cash_url}/v1/bank-accounts", json={
        "company_id": c, "code": "BANK-9", "name": "Deposit account", "currency": "CNY",
        "account_number": f"6229{uuid.uuid4().int % 10**12:012d}", "gl_account": "100203",
        "opened_on": "2026-11-01"}), 201)

    def ledger():
        return {ln["account"]: (ln["debit_balance"], ln["credit_balance"])
                for ln in suite.trial_balance(c, "2026-11-30")["lines"]}

    # Dr 100203 226.00 / Cr 1122 226.00 (C001's money on account)
    assert wait_for("the receipt posted to BANK-9's sub-account", ledger) == {
        "100203": ("226.00", "0.00"), "1122": ("0.00", "226.00")}
    assert waiting() == []
