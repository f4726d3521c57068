"""Reconciliation end to end: a month's bank statement (camt.053 built here and validated against
the official XSD; the same content as MT940 and as CSV) against what AR and AP published.

The statement holds receipts paying one invoice, three invoices at once, one invoice in two
parts, two invoices of the same amount with no reference (ambiguous: review), a reference
naming another customer's invoice (the trap: review, never matched), a bank charge and
interest (posted by the rules), a supplier payment and an AR receipt already booked, a
known customer paying without reference (AR applies it oldest-first), a transfer to another
own account, a refund AR paid, and a line nobody knows (suspense, by a person's decision).
Afterwards the ledger's bank sub-account of the account (every receipt, payment and refund
posted there by the bank account it names) equals the statement's closing balance (hledger
checks the assertion the GL's export carries), and AR's open items are what a hand
computation says."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import time
import uuid
from decimal import Decimal

import pytest
from cashmgmt.adapters import bankfiles
from cashmgmt.domain.statements import ParsedLine, ParsedStatement
from finance.ap.v1 import events_pb2 as ap
from fincore import dates, money
from lxml import etree

pytestmark = pytest.mark.e2e

D = dt.date
IBAN_C001 = "DE89370400440532013000"
IBAN_S1 = "FR1420041010050500013M02606"
CSV_MAPPING = {"columns": {"booking_date": "Date", "amount": "Amount", "reference": "Reference",
                           "counterparty_name": "Name", "counterparty_iban": "IBAN", "description": "Text",
                           "bank_reference": "Ref", "bank_code": "Code"}}


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


def setup(suite, fmt: str) -> tuple[str, ParsedStatement, dict]:
    """A company with its documents in AR/AP and its bank statement for November."""
    h, c = suite.http, suite.new_company(f"REC{fmt[:3].upper()}")
    ok(h.post(f"{suite.cash_url}/v1/bank-accounts", json={
        "company_id": c, "code": "BANK-1", "name": "Main account", "currency": "CNY",
        "account_number": f"6222{uuid.uuid4().int % 10**12:012d}", "gl_account": "100201",
        "opened_on": "2026-11-01"}), 201)
    ok(h.post(f"{suite.cash_url}/v1/bank-accounts", json={
        "company_id": c, "code": "BANK-2", "name": "Payroll account", "currency": "CNY",
        "account_number": f"6223{uuid.uuid4().int % 10**12:012d}", "gl_account": "100202",
        "opened_on": "2026-11-01"}), 201)
    # the ledger learns each account's sub-account from cash management (BankAccountOpened) before
    # any receipt or payment names it (else it posts to the chart's bank, 1002)
    wait_for("the ledger learned the bank accounts", lambda: [a["gl_account"] for a in ok(h.get(
        f"{suite.gl_url}/v1/bank-accounts", params={"company": c}))] == ["100201", "100202"])
    inv = {
        "I1": invoice(suite, c, "C001", "1000.00", 2),   # 1130.00, paid by reference
        "I2": invoice(suite, c, "C002", "500.00", 3),    # 565.00  \
        "I3": invoice(suite, c, "C002", "200.00", 3),    # 226.00   > one transfer of 1130.00
        "I4": invoice(suite, c, "C002", "300.00", 4),    # 339.00  /
        "I5": invoice(suite, c, "C003", "2000.00", 4),   # 2260.00: 1000.00 then 1260.00
        "I6": invoice(suite, c, "C004", "400.00", 5),    # 452.00  \ same amount, no reference:
        "I7": invoice(suite, c, "C004", "400.00", 6),    # 452.00  / ambiguous
        "I8": invoice(suite, c, "C005", "700.00", 6),    # 791.00: named by C001's trap line
        "I9": invoice(suite, c, "C000", "800.00", 7),    # 904.00: C000 pays 500.00 without reference
    }
    # an AR receipt booked in AR (C006, on account), a supplier payment booked in AP, a transfer to BANK-2
    receipt = ok(h.post(f"{suite.ar_url}/v1/receipts", json={
        "company_id": c, "customer_code": "C006", "receipt_date": "2026-11-12", "amount": "300.00",
        "bank_account": "BANK-1"}), 201)
    # C006 gets 120.00 of that credit back (AR's RefundPaid, from BANK-1)
    refund = ok(h.post(f"{suite.ar_url}/v1/refunds", json={
        "company_id": c, "customer_code": "C006", "refund_date": "2026-11-22", "amount": "120.00",
        "bank_account": "BANK-1"}), 201)
    pay_no = f"PAY-{uuid.uuid4().hex[:8].upper()}"
    suite.publish(
        ap.SupplierUpserted(company_id=c, document_number="S1", occurrence_date=dates.to_proto(D(2026, 11, 1)),
                            supplier_code="S1", name="Pump Works GmbH", currency="CNY", iban=IBAN_S1),
        ap.PaymentMade(company_id=c, document_number=pay_no, occurrence_date=dates.to_proto(D(2026, 11, 14)),
                       payment_id=str(uuid.uuid4()), supplier_code="S1", bank_account="BANK-1",
                       payment_method="BANK_TRANSFER", amount=money.to_proto(Decimal("2000.00"), "CNY"),
                       remittance_information="PI-4711"))
    # AP never had that payment (checked after the module): S1's payables 2,000.00 in debit.
    suite.expect_breach("I7", c, "supplier S1 CNY", "AP's PaymentMade published straight to the topic: AP never "
                        "had the payment", detail="sub-ledger 0 != ledger -2000.00 ")
    transfer = ok(h.post(f"{suite.cash_url}/v1/internal-transfers", json={
        "company_id": c, "from_bank_account": "BANK-1", "to_bank_account": "BANK-2", "amount": "1000.00",
        "transfer_date": "2026-11-20"}), 201)
    n = {k: v["number"] for k, v in inv.items()}
    rows = [  # day, amount, reference, counterparty, iban, text, bank code
        (5, "1130.00", n["I1"], "Customer C001", IBAN_C001, f"Invoice {n['I1']}", "RCDT"),
        (6, "1130.00", f"{n['I2']} {n['I3']} {n['I4']}", "Customer C002", "", "Invoices", "RCDT"),
        (8, "1000.00", n["I5"], "Customer C003", "", "First part", "RCDT"),
        (9, "452.00", "", "Customer C004", "", "Payment", "RCDT"),
        (10, "791.00", n["I8"], "Customer C001", IBAN_C001, "Payment", "RCDT"),  # the trap
        (12, "300.00", "", "Customer C006", "", "Transfer", "RCDT"),
        (14, "-2000.00", pay_no, "Pump Works GmbH", IBAN_S1, "PI-4711", "ICDT"),
        (15, "500.00", "", "Customer C000", "", "On account", "RCDT"),
        (18, "1260.00", n["I5"], "Customer C003", "", "Rest", "RCDT"),
        (20, "-1000.00", transfer["number"], "", "", "Own transfer", "ICDT"),
        (22, "-120.00", refund["number"], "Customer C006", "", "Refund", "ICDT"),
        (25, "77.70", "", "Somebody Unknown", "", "Gift?", "RCDT"),
        (30, "-25.00", "", "", "", "Account maintenance fee", "CHRG"),
        (30, "3.21", "", "", "", "Interest November", "INTR"),
    ]
    lines = tuple(ParsedLine(D(2026, 11, d), D(2026, 11, d), Decimal(a), ref, name, iban, text, f"L{i:03d}", code)
                  for i, (d, a, ref, name, iban, text, code) in enumerate(rows, 1))
    closing = sum((ln.amount for ln in lines), Decimal(0))
    st = ParsedStatement("any", f"{c}-2026-11", "CNY", Decimal("0.00"), closing, D(2026, 11, 1), D(2026, 11, 30),
                         lines, account_number=ok(h.get(f"{suite.cash_url}/v1/bank-accounts/BANK-1",
                                                       params={"company": c}))["account_number"])
    # reconciliation needs what AR and AP published: wait until cash management has it
    wait_for("documents reached cash management", lambda: len(ok(h.get(
        f"{suite.cash_url}/v1/reconciliation/open-items", params={"company": c}))) == 9 + 1 + 1 + 2 + 1)
    return c, st, {**inv, "receipt": receipt, "transfer": transfer, "payment": {"number": pay_no}, "refund": refund}


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
    assert got["reconciliation"] == {"auto": 11, "review": 2, "unmatched": 1, "auto:receipt": 4,
                                     "auto:match": 4, "auto:customer_receipt": 1, "auto:charge": 1,
                                     "auto:interest": 1}
    by_line = {row[0]: row for row in outcome(suite, company)}
    assert by_line[1][1:6] == ("open_invoices", "receipt", "auto", "C001", [[n["I1"]]])
    assert by_line[2][1:6] == ("open_invoices", "receipt", "auto", "C002", [[n["I2"], n["I3"], n["I4"]]])
    assert by_line[3][1:6] == ("open_invoices", "receipt", "auto", "C003", [[n["I5"]]])  # partial
    assert by_line[9][1:6] == ("open_invoices", "receipt", "auto", "C003", [[n["I5"]]])  # the rest
    assert by_line[4][2:4] == ("receipt", "review") and sorted(by_line[4][5]) == sorted([[n["I6"]], [n["I7"]]])
    assert by_line[5][2:4] == ("receipt", "review") and "other-party" in by_line[5][6]  # the trap
    assert by_line[6][1:4] == ("settled_documents", "match", "auto")  # AR's receipt
    assert by_line[7][1:4] == ("settled_documents", "match", "auto")  # AP's payment
    assert by_line[8][1:5] == ("known_customer", "customer_receipt", "auto", "C000")
    assert by_line[10][1:4] == ("settled_documents", "match", "auto")  # our transfer
    assert by_line[11][1:4] == ("settled_documents", "match", "auto")  # AR's refund
    assert by_line[12][3] == "unmatched"
    assert by_line[13][2:4] == ("charge", "auto") and by_line[14][2:4] == ("interest", "auto")
    # MT940 and CSV of the same content: the same decisions, line by line
    for fmt in ("mt940", "csv"):
        other, _, other_docs, other_got = reconciled[fmt]
        assert other_got["reconciliation"] == got["reconciliation"], fmt
        rename = {other_docs[k]["number"]: docs[k]["number"] for k in other_docs}
        mine = [(row[:5], [[rename.get(x, x) for x in c] for c in row[5]], row[6]) for row in outcome(suite, other)]
        theirs = [(row[:5], row[5], row[6]) for row in outcome(suite, company)]
        assert [(a[0][1:], a[1], a[2]) for a in mine] == [(b[0][1:], b[1], b[2]) for b in theirs], fmt


def test_review_decisions_then_the_ledgers_bank_equals_the_statement_and_ar_is_as_computed(suite, reconciled):
    company, st, docs, _ = reconciled["camt053"]
    h = suite.http
    review = {ln["line_no"]: ln for ln in ok(h.get(f"{suite.cash_url}/v1/reconciliation/lines",
                                                   params={"company": company, "status": "review"}))}
    assert sorted(review) == [4, 5]
    # the ambiguous line: the reviewer takes the older invoice (I6)
    ambiguous = review[4]
    pick = next(i for i, c in enumerate(ambiguous["candidates"]) if c["items"][0]["number"] == docs["I6"]["number"])
    assert all(c["score"] for c in ambiguous["candidates"])
    ok(h.post(f"{suite.cash_url}/v1/reconciliation/lines/{ambiguous['line_id']}/accept", params={"company": company},
              json={"candidate": pick}))
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

    # Hand computation of AR: I1-I5 paid; I6 paid (review); I7 452.00 open; I8 791.00 open (the trap
    # never touched it); I9 904.00 - 500.00 (C000 oldest-first) - 77.70 (the suspense line, C000's
    # after all) = 326.30 open.
    expected = {"I1": "0.00", "I2": "0.00", "I3": "0.00", "I4": "0.00", "I5": "0.00", "I6": "0.00",
                "I7": "452.00", "I8": "791.00", "I9": "326.30"}

    def outstanding():
        return {k: ok(h.get(f"{suite.ar_url}/v1/invoices/{docs[k]['id']}"))["outstanding"] for k in expected}

    wait_for("AR applied the identified receipts", lambda: outstanding() == expected)
    # BANK-1's ledger sub-account (100201: AR's receipts and refund, AP's payment, the charge, the
    # interest, the transfer and the suspense line all post there, by the account each names)
    # equals the closing balance, once every line's journal is in; 1002 itself holds nothing.
    closing = st.closing_balance

    def bank(account: str) -> Decimal | None:
        lines = {ln["account"]: ln for ln in suite.trial_balance(company, "2026-11-30")["lines"]}
        b = lines.get(account)
        return Decimal(b["debit_balance"]) - Decimal(b["credit_balance"]) if b else None

    wait_for(f"GL bank 100201 = statement closing {closing}", lambda: bank("100201") == closing)
    wait_for("the suspense account cleared", lambda: bank("2241") in (None, Decimal(0)))
    assert bank("1002") is None and bank("100202") == Decimal("1000.00")  # BANK-2 got the transfer
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
    # transfer in 1,000.00 outstanding = its 100202)
    res = suite.verify([company], only=("I7",), settle_s=30)
    assert [b for b in res.breaches if b.subject.startswith("bank")] == [], res.report()


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
