"""Procure to pay with in-process budget control, driven as clients would: budget (HTTP +
gRPC), AP, inventory and the GL as separate processes on the real broker and PostgreSQL.
Every figure at the end is computed by hand in the test."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from pathlib import Path

import grpc
import httpx
import pytest
from finance.budget.v1 import budget_service_pb2 as pb
from finance.budget.v1 import budget_service_pb2_grpc as pb_grpc
from fincore import money
from fincore.auth import mint_token
from fincore.settings import ServiceSettings
from schwifty import IBAN

pytestmark = pytest.mark.e2e

D = Decimal
PERIOD = "2026-11"
SUPPLIER_IBAN = str(IBAN.generate("DE", bank_code="37040044", account_code="0532013000").compact)
EMPLOYEE_IBAN = str(IBAN.generate("DE", bank_code="50010517", account_code="0648489890").compact)
OUR_IBAN = str(IBAN.generate("DE", bank_code="10010010", account_code="0123456789").compact)


def eventually(check, timeout: float = 90, what: str = "condition", suite=None):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached after {timeout}s" + (f"\n{suite.logs()}" if suite else ""))
        time.sleep(0.3)


def ok(r, status=(200, 201)):
    assert r.status_code in ((status,) if isinstance(status, int) else status), r.text
    return r.json()


def setup_budget(suite, company: str, items: dict[str, list[str]], lines: list[tuple], via_cli: bool = False) -> None:
    h, b = suite.http, suite.budget_url
    for code, accounts in items.items():
        ok(h.put(f"{b}/v1/budget-items/{code}", json={"company_id": company, "name": code, "accounts": accounts}))
    v = ok(h.post(f"{b}/v1/budget-versions", json={"company_id": company, "code": "FY2026", "currency": "EUR"}), 201)
    csv = "cost_centre,budget_item,period,amount,control_mode,tolerance_pct\n" + "\n".join(
        ",".join(map(str, ln)) for ln in lines)
    if via_cli:  # the operator's way: finance-budget import FILE --version-id ID --approve
        import subprocess
        import sys

        path = suite.log_dir / f"budget-{company}.csv"
        path.write_text(csv + "\n")
        run = subprocess.run([sys.executable, "-m", "budget", "import", str(path), "--version-id", v["id"],
                              "--url", b, "--token", suite.token, "--chunk", "1", "--approve"],
                             capture_output=True, text=True, timeout=120, env=suite.env | {"NO_COLOR": "1"})
        assert run.returncode == 0, run.stdout + run.stderr
        assert f"imported {len(lines)} line(s) into {v['id']} and approved it" in run.stdout
        assert f"{len(lines)}/{len(lines)}" in run.stderr  # the progress bar got to the end
        assert ok(h.get(f"{b}/v1/budget-versions", params={"company": company}))[0]["status"] == "approved"
        return
    ok(h.post(f"{b}/v1/budget-versions/{v['id']}/lines.csv", content=csv, headers={"Content-Type": "text/csv"}))
    assert ok(h.post(f"{b}/v1/budget-versions/{v['id']}/approve"))["status"] == "approved"


def setup_ap(suite, company: str) -> None:
    h, a = suite.http, suite.ap_url
    ok(h.put(f"{a}/v1/suppliers/ACME", json={"company_id": company, "name": "Acme Schrauben GmbH", "currency": "EUR",
                                             "payment_terms": "2/10 NET30", "iban": SUPPLIER_IBAN}))
    ok(h.put(f"{a}/v1/suppliers/E-LI", json={"company_id": company, "name": "Li Wei", "currency": "EUR",
                                             "supplier_group": "EMPLOYEE", "payment_terms": "NET7",
                                             "iban": EMPLOYEE_IBAN}))
    ok(h.put(f"{a}/v1/bank-accounts/MAIN", json={"company_id": company, "name": "Finance Suite Demo AG",
                                                  "iban": OUR_IBAN, "currency": "EUR"}))
    # the same account in cash management, which tells the ledger where MAIN posts (the chart's
    # bank here); the ledger holds a payment naming an account it has not learned until it does
    r = h.post(f"{suite.cash_url}/v1/bank-accounts", json={
        "company_id": company, "code": "MAIN", "name": "Finance Suite Demo AG", "currency": "EUR", "iban": OUR_IBAN,
        "gl_account": "1002", "opened_on": "2026-11-01"})
    assert r.status_code == 201, r.text


def client_as(subject: str, company: str) -> httpx.Client:
    """Another AP user with their own token (the suite's token is the subject "e2e"): the
    proposer of a payment run cannot approve it (AP_SEGREGATE_DUTIES)."""
    token = mint_token(ServiceSettings(), subject=subject, companies=[company],
                       scopes=["ap:read", "ap:write", "budget:read", "budget:write"])  # AP relays it to the budget
    return httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30)


def report(suite, company: str, **params) -> dict:
    r = ok(suite.http.get(f"{suite.budget_url}/v1/reports/budget-vs-actual", params={"company": company, **params}))
    return {(row["cost_centre"], row["budget_item"]): row for row in r["rows"]}


def tb(suite, company: str) -> dict[str, Decimal]:
    """Account -> debit-positive balance (zero balances left out)."""
    out = {}
    for ln in suite.trial_balance(company)["lines"]:
        bal = D(ln["debit_balance"]) - D(ln["credit_balance"])
        if bal:
            out[ln["account"]] = bal
    return out


def budget_events(suite, company: str, ce_type: str) -> list[bytes]:
    rows = suite.sql("budget", "SELECT payload FROM outbox WHERE ce_type = %s ORDER BY id", (ce_type,))
    from finance.budget.v1 import events_pb2 as ev

    cls = getattr(ev, ce_type.split(".")[2])
    return [m for m in (cls.FromString(bytes(r[0])) for r in rows) if m.company_id == company]


def test_procure_to_pay_with_budget_control_ends_in_books_that_agree(suite):
    company = suite.new_company("P2P", currency="EUR")
    h = suite.http
    setup_budget(suite, company, {"MATERIALS": ["1405"]}, [("PROD", "MATERIALS", PERIOD, "5000.00", "block", "0")])
    setup_ap(suite, company)
    ok(h.post(f"{suite.inv_url}/v1/items", json={"company_id": company, "code": "BOLT", "name": "Bolt M8",
                                                  "costing_method": "moving_average", "currency": "EUR"}), 201)
    ok(h.post(f"{suite.inv_url}/v1/warehouses", json={"company_id": company, "code": "WH1", "name": "Main"}), 201)

    def requisition(qty: str):
        return h.post(f"{suite.ap_url}/v1/requisitions", json={
            "company_id": company, "request_date": "2026-11-02", "currency": "EUR",
            "lines": [{"item_code": "BOLT", "description": "Bolt M8", "quantity": qty, "unit_price": "100.00",
                       "tax_code": "VAT13", "cost_centre": "PROD", "budget_item": "MATERIALS"}]})

    # Over a BLOCK line: refused with the budget's numbers, nothing reserved.
    refused = requisition("60")  # 6,000.00 > 5,000.00
    assert refused.status_code == 422, refused.text
    p = refused.json()
    assert p["type"].endswith("/budget-refused")
    (d,) = p["budget"]
    assert (d["allowed"], d["budget"], d["consumed"], d["reserved"], d["available"], d["control_mode"]) == \
        (False, "5000.00", "0.00", "0.00", "5000.00", "block")
    assert "over budget by 1000.00" in d["reason"]
    assert ok(h.get(f"{suite.budget_url}/v1/reservations", params={"company": company})) == []
    # Bad input: a clear 422 and nothing changes.
    bad_iban = h.put(f"{suite.ap_url}/v1/suppliers/BAD", json={"company_id": company, "name": "Bad", "currency": "EUR",
                                                              "iban": SUPPLIER_IBAN[:-1] + "9"})
    assert bad_iban.status_code == 422 and "IBAN" in bad_iban.json()["detail"], bad_iban.text
    wrong_bic = h.put(f"{suite.ap_url}/v1/suppliers/BAD", json={"company_id": company, "name": "Bad", "currency": "EUR",
                                                               "iban": SUPPLIER_IBAN, "bic": "BNPAFRPPXXX"})
    assert wrong_bic.status_code == 422 and "BIC BNPAFRPPXXX is of FR" in wrong_bic.json()["detail"], wrong_bic.text
    assert [x["code"] for x in ok(h.get(f"{suite.ap_url}/v1/suppliers", params={"company": company}))] == \
        ["ACME", "E-LI"]
    bad_tax = h.post(f"{suite.ap_url}/v1/requisitions", json={
        "company_id": company, "request_date": "2026-11-02", "currency": "EUR",
        "lines": [{"item_code": "BOLT", "description": "Bolt", "quantity": "1", "unit_price": "1", "tax_code": "GST",
                   "cost_centre": "PROD", "budget_item": "MATERIALS"}]})
    assert bad_tax.status_code == 422 and bad_tax.headers["content-type"].startswith("application/problem+json")
    assert ok(h.get(f"{suite.budget_url}/v1/reservations", params={"company": company})) == []
    # A spend with no cost centre cannot be mapped to a budget line: refused, never waved through.
    r = h.post(f"{suite.ap_url}/v1/requisitions", json={
        "company_id": company, "request_date": "2026-11-02", "currency": "EUR",
        "lines": [{"item_code": "BOLT", "description": "Bolt", "quantity": "1", "unit_price": "1",
                   "budget_item": "MATERIALS"}]})
    assert r.status_code == 422 and r.json()["type"].endswith("/unmapped-spend"), r.text

    # Within budget: reserved.
    req = ok(requisition("40"), 201)  # 4,000.00
    assert req["number"] == "REQ-2026-000001"  # payment runs are PAYRUN-: each document its own prefix
    assert req["status"] == "approved" and req["budget"][0]["reserved"] == "4000.00"
    assert report(suite, company)[("PROD", "MATERIALS")]["available"] == "1000.00"

    po = ok(h.post(f"{suite.ap_url}/v1/purchase-orders", json={
        "requisition_id": req["id"], "supplier_code": "ACME", "order_date": "2026-11-02"}), 201)
    # Inventory receives the goods on the order (GoodsReceived -> GL: Dr inventory / Cr GRNI; AP: received).
    ok(h.post(f"{suite.inv_url}/v1/receipts", json={
        "company_id": company, "movement_date": "2026-11-05", "warehouse": "WH1", "partner": "ACME",
        "reference": po["number"], "lines": [{"item": "BOLT", "quantity": "40", "unit_cost": "100.00"}]}), 201)
    eventually(lambda: ok(h.get(f"{suite.ap_url}/v1/purchase-orders/{po['id']}"))["lines"][0]["received_qty"] == "40",
               what="AP sees the receipt", suite=suite)

    # Invoice at 101.00 (1 % over the order's price, tolerance 2 %): matched, the 40.00 is price variance.
    inv = ok(h.post(f"{suite.ap_url}/v1/supplier-invoices", json={
        "company_id": company, "kind": "stock", "supplier_code": "ACME", "supplier_invoice_number": "ACME-1001",
        "invoice_date": "2026-11-06", "purchase_order": po["number"], "stated_gross": "4565.20",
        "stock_lines": [{"item_code": "BOLT", "quantity": "40", "unit_price": "101.00", "tax_code": "VAT13"}]}), 201)
    assert inv["status"] == "matched", inv["reasons"]
    assert (inv["net_total"], inv["tax_total"], inv["gross_total"]) == ("4040.00", "525.20", "4565.20")
    assert (inv["lines"][0]["grni_cleared"], inv["lines"][0]["price_variance"]) == ("4000.00", "40.00")
    assert (inv["due_date"], inv["discount_date"]) == ("2026-12-06", "2026-11-16")
    dup = h.post(f"{suite.ap_url}/v1/supplier-invoices", json={
        "company_id": company, "kind": "stock", "supplier_code": "ACME", "supplier_invoice_number": "ACME-1001",
        "invoice_date": "2026-11-06", "purchase_order": po["number"],
        "stock_lines": [{"item_code": "BOLT", "quantity": "1", "unit_price": "101.00"}]})
    assert dup.status_code == 409 and "already recorded" in dup.json()["detail"]
    # A second invoice for goods never received, at a price far off: held with every reason.
    held = ok(h.post(f"{suite.ap_url}/v1/supplier-invoices", json={
        "company_id": company, "kind": "stock", "supplier_code": "ACME", "supplier_invoice_number": "ACME-1002",
        "invoice_date": "2026-11-07", "purchase_order": po["number"],
        "stock_lines": [{"item_code": "BOLT", "quantity": "5", "unit_price": "120.00"}]}), 201)
    assert held["status"] == "held" and len(held["reasons"]) == 3, held["reasons"]
    assert any("20.00%" in x for x in held["reasons"]) and any("exceeds received 40" in x for x in held["reasons"])
    assert h.post(f"{suite.ap_url}/v1/supplier-invoices/{held['id']}/approve").status_code == 422
    assert ok(h.post(f"{suite.ap_url}/v1/supplier-invoices/{held['id']}/reject"))["status"] == "rejected"

    approved = ok(h.post(f"{suite.ap_url}/v1/supplier-invoices/{inv['id']}/approve"))
    assert approved["status"] == "approved"
    # every line invoiced: the order closes itself (and would release budget it still held)
    assert ok(h.get(f"{suite.ap_url}/v1/purchase-orders/{po['id']}"))["status"] == "closed"
    late = h.post(f"{suite.ap_url}/v1/supplier-invoices", json={
        "company_id": company, "kind": "stock", "supplier_code": "ACME", "supplier_invoice_number": "ACME-1003",
        "invoice_date": "2026-11-08", "purchase_order": po["number"],
        "stock_lines": [{"item_code": "BOLT", "quantity": "1", "unit_price": "101.00"}]})
    assert late.status_code == 422 and "takes no more invoices" in late.json()["detail"]

    # Payment run on the last discount day: 2 % of 4,565.20 = 91.30 off, 4,473.90 paid.
    run = ok(h.post(f"{suite.ap_url}/v1/payment-runs", json={
        "company_id": company, "payment_date": "2026-11-16", "bank_account": "MAIN"}), 201)
    assert [(i["invoice"], i["amount"], i["discount"]) for i in run["items"]] == \
        [(inv["number"], "4473.90", "91.30")]
    assert h.get(f"{suite.ap_url}/v1/payment-runs/{run['id']}/pain.001").status_code == 422  # not approved yet
    with client_as("treasurer@e2e", company) as treasurer:  # duties segregated: not the proposer
        ok(treasurer.post(f"{suite.ap_url}/v1/payment-runs/{run['id']}/approve"))
    xml = h.get(f"{suite.ap_url}/v1/payment-runs/{run['id']}/pain.001")
    assert xml.status_code == 200 and xml.headers["content-type"].startswith("application/xml")
    assert_valid_pain001(xml.content, amount="4473.90", creditor_iban=SUPPLIER_IBAN, debtor_iban=OUR_IBAN)
    done = ok(h.post(f"{suite.ap_url}/v1/payment-runs/{run['id']}/execute"))
    assert done["status"] == "executed" and [p["amount"] for p in done["payments"]] == ["4473.90"]
    assert ok(h.get(f"{suite.ap_url}/v1/supplier-invoices/{inv['id']}"))["status"] == "paid"

    # The books: receipt, invoice, price difference and payment journals. The 40.00 price
    # difference went through the clearing account (1401) to the 40 bolts still on hand.
    suite.wait_journals(company, 4)
    expected = {"1405": D("4040.00"), "22210101": D("525.20"), "6603": D("-91.30"), "1002": D("-4473.90")}
    assert tb(suite, company) == expected  # GRNI (220202) and payables (220201) are zero
    assert suite.trial_balance(company)["balanced"]
    # AP ageing: open before the payment, nothing after.
    before = ok(h.get(f"{suite.ap_url}/v1/ageing", params={"company": company, "as_of": "2026-11-10"}))
    assert before["suppliers"] == [{"supplier": "ACME", "currency": "EUR", "current": "4565.20", "1-30": "0.00",
                                    "31-60": "0.00", "61-90": "0.00", "90+": "0.00", "total": "4565.20"}]
    assert before["totals_by_currency"]["EUR"]["total"] == before["total"]["total"] == "4565.20"
    after = ok(h.get(f"{suite.ap_url}/v1/ageing", params={"company": company, "as_of": "2026-11-30"}))
    assert after["suppliers"] == [] and after["total"]["total"] == "0.00"
    # Inventory valuation equals the GL's inventory account.
    val = ok(h.get(f"{suite.inv_url}/v1/valuation", params={"company": company, "as_of": "2026-11-30"}))
    assert val["total_value"] == "4040.00"  # the 40.00 price difference re-costed the 40 bolts on hand
    # Budget: the invoice's 4,040.00 (40 x 101.00: received cost 4,000.00 + price variance 40.00)
    # consumed the 4,000.00 reservation and 40.00 more. A stock purchase is actual at invoice
    # approval: once the GL has posted the invoice, the commitment is actual and nothing stays
    # committed.
    eventually(lambda: report(suite, company)[("PROD", "MATERIALS")]["committed"] == "0.00",
               what="the stock invoice's commitment turning actual", suite=suite)
    row = report(suite, company)[("PROD", "MATERIALS")]
    assert {k: row[k] for k in ("budget", "actual", "committed", "consumed", "reserved", "available", "variance",
                                "pct_consumed")} == {
        "budget": "5000.00", "actual": "4040.00", "committed": "0.00", "consumed": "4040.00", "reserved": "0.00",
        "available": "960.00", "variance": "960.00", "pct_consumed": "80.80"}
    assert_totals_equal_rows(suite, company)
    # the actual names the invoice and the GL journal that posted it
    ((source, amount, journal),) = suite.sql("budget", "SELECT source_document, amount, journal_number "
                                                       "FROM budget_actual WHERE company_id = %s", (company,))
    assert (source, amount) == (inv["number"], D("4040.00")) and journal
    hits = budget_events(suite, company, "finance.budget.BudgetThresholdReached.v1")
    assert [(e.cost_centre, e.threshold_percent) for e in hits] == [("PROD", 80)]


def assert_totals_equal_rows(suite, company: str) -> None:
    """The budget lines' running totals equal the reservations, commitments and actuals they sum."""
    rows = suite.sql("budget", """
        SELECT l.cost_centre, l.actual_total, l.committed_total, l.reserved_total,
          (SELECT coalesce(sum(amount), 0) FROM budget_actual a WHERE a.line_id = l.id),
          (SELECT coalesce(sum(amount - actualised), 0) FROM budget_commitment c WHERE c.line_id = l.id),
          (SELECT coalesce(sum(amount), 0) FROM budget_reservation r WHERE r.line_id = l.id AND r.status = 'reserved')
        FROM budget_line l WHERE l.company_id = %s""", (company,))
    assert rows and all(r[1:4] == r[4:7] for r in rows), rows


def assert_valid_pain001(content: bytes, *, amount: str, creditor_iban: str, debtor_iban: str) -> None:
    """Validated with lxml against the pain.001.001.09 XSD that sepaxml ships."""
    import sepaxml
    from lxml import etree

    xsd = etree.XMLSchema(etree.parse(str(Path(sepaxml.__file__).parent / "schemas" / "pain.001.001.09.xsd")))
    doc = etree.fromstring(content)
    assert xsd.validate(doc), xsd.error_log
    ns = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}
    assert doc.findtext(".//p:GrpHdr/p:CtrlSum", namespaces=ns) == amount
    assert doc.findtext(".//p:CdtTrfTxInf/p:Amt/p:InstdAmt", namespaces=ns) == amount
    assert doc.findtext(".//p:CdtrAcct/p:Id/p:IBAN", namespaces=ns) == creditor_iban
    assert doc.findtext(".//p:DbtrAcct/p:Id/p:IBAN", namespaces=ns) == debtor_iban


def test_expense_claims_warn_and_block_and_the_budget_survives_a_restart(suite):
    company = suite.new_company("CLAIM", currency="EUR")
    h = suite.http
    setup_budget(suite, company, {"TRAVEL": ["6601"], "OFFICE": ["6602"]},
                 [("SALES", "TRAVEL", PERIOD, "1000.00", "warn", "0"),
                  ("ADMIN", "OFFICE", PERIOD, "500.00", "block", "0")], via_cli=True)
    setup_ap(suite, company)

    def claim(number: str, cc: str, item: str, amount: str, category: str = "SELLING"):
        return h.post(f"{suite.ap_url}/v1/expense-claims", json={
            "company_id": company, "employee_code": "E-LI", "claim_number": number, "claim_date": "2026-11-12",
            "lines": [{"description": "Trip", "amount": amount, "cost_centre": cc, "budget_item": item,
                       "expense_category": category}]})

    c1 = ok(claim("C-1", "SALES", "TRAVEL", "800.00"), 201)
    assert c1["status"] == "submitted" and c1["warnings"] == []
    ok(h.post(f"{suite.ap_url}/v1/expense-claims/{c1['id']}/approve"))
    suite.wait_journals(company, 1)
    eventually(lambda: report(suite, company)[("SALES", "TRAVEL")]["actual"] == "800.00",
               what="budget actual from the GL", suite=suite)

    # The budget consumer is down while more spend is approved: it arrives as committed first.
    suite.budget_consumer.kill()
    c2 = ok(claim("C-2", "SALES", "TRAVEL", "300.00"), 201)  # over a WARN line by 100.00: passes with a warning
    assert c2["warnings"] and "over budget by 100.00" in c2["warnings"][0]
    ok(h.post(f"{suite.ap_url}/v1/expense-claims/{c2['id']}/approve"))
    c3 = claim("C-3", "ADMIN", "OFFICE", "600.00", category="")  # over a BLOCK line: refused with the numbers
    assert c3.status_code == 422 and c3.json()["budget"][0]["available"] == "500.00", c3.text
    assert "over budget by 100.00" in c3.json()["detail"]
    assert claim("C-4", "", "TRAVEL", "10.00").json()["type"].endswith("/unmapped-spend")
    inv = ok(h.post(f"{suite.ap_url}/v1/supplier-invoices", json={
        "company_id": company, "kind": "expense", "supplier_code": "ACME", "supplier_invoice_number": "ACME-7",
        "invoice_date": "2026-11-13", "expense_lines": [{"description": "Printer paper", "amount": "450.00",
                                                         "tax_code": "VAT6", "cost_centre": "ADMIN",
                                                         "budget_item": "OFFICE"}]}), 201)
    assert inv["status"] == "matched" and inv["gross_total"] == "477.00"
    ok(h.post(f"{suite.ap_url}/v1/supplier-invoices/{inv['id']}/approve"))
    suite.wait_journals(company, 3)
    mid = report(suite, company)
    assert (mid[("SALES", "TRAVEL")]["actual"], mid[("SALES", "TRAVEL")]["committed"],
            mid[("SALES", "TRAVEL")]["consumed"]) == ("800.00", "300.00", "1100.00")
    assert (mid[("ADMIN", "OFFICE")]["actual"], mid[("ADMIN", "OFFICE")]["committed"]) == ("0.00", "450.00")

    # Restart the whole budget service; the consumer catches up from its committed offsets.
    for p in (suite.budget_api, suite.budget_grpc, suite.budget_relay):
        p.stop()
    # No budget service: no approval (fail closed), a 503 that says so, and nothing recorded.
    down = claim("C-5", "SALES", "TRAVEL", "10.00")
    assert down.status_code == 503 and down.json()["type"].endswith("/budget-unavailable"), down.text
    assert not [x for x in ok(h.get(f"{suite.ap_url}/v1/supplier-invoices", params={"company": company}))
                if x["supplier_invoice_number"] == "C-5"]
    for p in (suite.budget_api, suite.budget_grpc, suite.budget_relay, suite.budget_consumer):
        p.start()
    eventually(lambda: report(suite, company)[("ADMIN", "OFFICE")]["actual"] == "450.00",
               what="budget consumer catching up after the restart", suite=suite)
    final = report(suite, company)
    pick = ("budget", "actual", "committed", "consumed", "reserved", "available", "pct_consumed")
    assert {k: final[("SALES", "TRAVEL")][k] for k in pick} == {
        "budget": "1000.00", "actual": "1100.00", "committed": "0.00", "consumed": "1100.00", "reserved": "0.00",
        "available": "-100.00", "pct_consumed": "110.00"}
    assert {k: final[("ADMIN", "OFFICE")][k] for k in pick} == {
        "budget": "500.00", "actual": "450.00", "committed": "0.00", "consumed": "450.00", "reserved": "0.00",
        "available": "50.00", "pct_consumed": "90.00"}
    by_cc = ok(h.get(f"{suite.budget_url}/v1/reports/budget-vs-actual",
                     params={"company": company, "group_by": "period"}))
    assert by_cc["rows"] == [{**by_cc["rows"][0], "period": PERIOD, "budget": "1500.00", "consumed": "1550.00"}]
    # Events: one warning (C-2), thresholds once each even though actuals re-reached them.
    warnings = budget_events(suite, company, "finance.budget.BudgetWarningRaised.v1")
    assert [(w.cost_centre, money.from_proto(w.requested)) for w in warnings] == [("SALES", D("300.00"))]
    hits = budget_events(suite, company, "finance.budget.BudgetThresholdReached.v1")
    assert sorted((e.cost_centre, e.threshold_percent) for e in hits) == [("ADMIN", 80), ("SALES", 80), ("SALES", 100)]
    assert_totals_equal_rows(suite, company)
    # The ledger: expenses by cost centre against what is owed to the employee (other payables)
    # and to the supplier (trade payables).
    assert tb(suite, company) == {"6601": D("1100.00"), "6602": D("450.00"), "22210101": D("27.00"),
                                  "2241": D("-1100.00"), "220201": D("-477.00")}  # employees: other payables


def test_concurrent_reservations_cannot_overspend_a_block_line(suite):
    company = suite.new_company("BUDGRPC", currency="EUR")
    setup_budget(suite, company, {"IT": ["6602"]}, [("IT", "IT", PERIOD, "1000.00", "block", "0")])
    target = f"127.0.0.1:{suite.budget_grpc_port}"
    md = (("authorization", f"Bearer {suite.token}"),)

    def req(ref: str, amount: str, ttl: int = 0):
        return pb.ReserveBudgetRequest(check=pb.CheckBudgetRequest(
            company_id=company, cost_centre="IT", budget_item="IT", period=PERIOD,
            amount=money.to_proto(D(amount), "EUR")), document_ref=ref, expires_in_seconds=ttl)

    async def run():
        async with grpc.aio.insecure_channel(target) as ch:
            stub = pb_grpc.BudgetServiceStub(ch)
            results = await asyncio.gather(*(stub.Reserve(req(f"R-{i}", "300.00"), metadata=md, timeout=10)
                                              for i in range(8)))
            winner = next(i for i, r in enumerate(results) if r.allowed)
            again = await stub.Reserve(req(f"R-{winner}", "300.00"), metadata=md, timeout=10)
            check = await stub.CheckBudget(req("x", "1.00").check, metadata=md, timeout=10)
            # An abandoned request does not hold budget forever.
            lapse = await stub.Reserve(req("R-LAPSE", "100.00", ttl=1), metadata=md, timeout=10)
            await asyncio.sleep(1.5)
            after = await stub.CheckBudget(req("x", "1.00").check, metadata=md, timeout=10)
            swept = await stub.Reserve(req("R-AFTER", "50.00"), metadata=md, timeout=10)  # locks: sweeps the lapsed
            unmapped = await stub.CheckBudget(pb.CheckBudgetRequest(
                company_id=company, cost_centre="NOPE", budget_item="IT", period=PERIOD,
                amount=money.to_proto(D(1), "EUR")), metadata=md, timeout=10)
            with pytest.raises(grpc.aio.AioRpcError) as denied:
                await stub.CheckBudget(req("x", "1.00").check, timeout=10)
            return results, again, check, lapse, after, swept, unmapped, denied.value.code()

    results, again, check, lapse, after, swept, unmapped, denied = asyncio.run(run())
    assert sum(r.allowed for r in results) == 3  # 3 x 300 fit in 1,000; the fourth would not
    assert all("over budget by 200.00" in r.reason for r in results if not r.allowed)
    assert again.allowed and "already reserved" in again.reason
    assert money.from_proto(check.reserved) == D("900.00") and money.from_proto(check.available) == D("100.00")
    assert lapse.allowed and money.from_proto(lapse.reserved) == D("1000.00")
    assert money.from_proto(after.reserved) == D("900.00")
    assert swept.allowed and money.from_proto(swept.reserved) == D("950.00")
    assert not unmapped.allowed and "no approved budget" in unmapped.reason
    assert denied == grpc.StatusCode.UNAUTHENTICATED
    rows = suite.sql("budget", "SELECT count(*), sum(amount) FROM budget_reservation WHERE company_id = %s "
                     "AND status = 'reserved' AND document_ref LIKE 'R-%%' AND document_ref <> 'R-AFTER'", (company,))
    assert rows[0][0] == 3 and rows[0][1] == D("900.0000")
    lapsed = suite.sql("budget", "SELECT status, amount FROM budget_reservation WHERE company_id = %s "
                       "AND document_ref = 'R-LAPSE'", (company,))
    assert lapsed == [("expired", D("0.0000"))]
    totals = suite.sql("budget", "SELECT reserved_total FROM budget_line WHERE company_id = %s", (company,))
    assert totals == [(D("950.0000"),)]
    # the one-statement reservation (the plain case) never disagreed with the rules
    assert "disagrees with the rules" not in suite.budget_grpc.log_path.read_text(errors="replace")


def test_a_requisition_is_one_trace_across_ap_and_the_budget_service(suite, otlp):
    """The budget check travels as gRPC metadata: AP's request span -> AP's client span ->
    the budget service's server span, in one trace."""
    import os

    company = suite.new_company("P2PTRACE", currency="EUR")
    setup_budget(suite, company, {"IT": ["6602"]}, [("IT", "IT", PERIOD, "1000.00", "block", "0")])
    trace_id = os.urandom(16).hex()
    r = suite.http.post(f"{suite.ap_url}/v1/requisitions", headers={
        "traceparent": f"00-{trace_id}-{os.urandom(8).hex()}-01"}, json={
        "company_id": company, "request_date": "2026-11-03", "currency": "EUR",
        "lines": [{"description": "Laptop", "quantity": "1", "unit_price": "900.00", "tax_code": "VAT13",
                   "cost_centre": "IT", "budget_item": "IT"}]})
    assert r.status_code == 201, r.text
    rpc = "finance.budget.v1.BudgetService/Reserve"

    def names():
        return {(s.service, s.name) for s in otlp.trace(trace_id)}

    want = {("ap", "POST /v1/requisitions"), ("ap", rpc), ("budget", f"/{rpc}")}
    eventually(lambda: want <= names(), timeout=30, what=f"spans {want} (got {names()})")
    spans = {(s.service, s.name): s for s in otlp.trace(trace_id)}
    server, client, budget = spans[("ap", "POST /v1/requisitions")], spans[("ap", rpc)], spans[("budget", f"/{rpc}")]
    assert client.kind == 3 and budget.kind == 2  # CLIENT, SERVER
    assert budget.parent_span_id == client.span_id
    assert client.parent_span_id in {s.span_id for s in otlp.trace(trace_id) if s.service == "ap"}
    assert server.trace_id == budget.trace_id == trace_id
    # Cancelling the requisition gives its budget back.
    assert report(suite, company)[("IT", "IT")]["reserved"] == "900.00"
    cancelled = ok(suite.http.post(f"{suite.ap_url}/v1/requisitions/{r.json()['id']}/cancel"))
    assert cancelled["status"] == "cancelled"
    assert (report(suite, company)[("IT", "IT")]["reserved"], report(suite, company)[("IT", "IT")]["available"]) == \
        ("0.00", "1000.00")
    res = ok(suite.http.get(f"{suite.budget_url}/v1/reservations", params={"company": company}))
    assert [(x["status"], x["reserved"]) for x in res] == [("released", "0.00")]  # EUR minor units
    assert suite.http.post(f"{suite.ap_url}/v1/requisitions/{r.json()['id']}/cancel").status_code == 422


def expense_invoice(suite, company: str, number: str, amount: str, date: str, supplier: str = "ACME",
                    terms: str | None = None) -> dict:
    """An approved expense invoice (VAT0: gross = net), on its own terms if given."""
    inv = ok(suite.http.post(f"{suite.ap_url}/v1/supplier-invoices", json={
        "company_id": company, "kind": "expense", "supplier_code": supplier, "supplier_invoice_number": number,
        "invoice_date": date, **({"payment_terms": terms} if terms else {}),
        "expense_lines": [{"description": "Services", "amount": amount, "tax_code": "VAT0",
                           "cost_centre": "ADMIN", "budget_item": "OFFICE"}]}), 201)
    return ok(suite.http.post(f"{suite.ap_url}/v1/supplier-invoices/{inv['id']}/approve"))


def test_who_requested_and_who_approved_come_from_the_token(suite):
    company = suite.new_company("SOD", currency="EUR")
    h, ap = suite.http, suite.ap_url
    setup_budget(suite, company, {"OFFICE": ["6602"]}, [("ADMIN", "OFFICE", PERIOD, "5000.00", "block", "0")])
    setup_ap(suite, company)
    line = {"description": "Paper", "quantity": "1", "unit_price": "10.00", "cost_centre": "ADMIN",
            "budget_item": "OFFICE"}
    with client_as("clerk@demo", company) as clerk, client_as("treasurer@demo", company) as treasurer:
        # The requester is the token's subject; a body that names someone else is refused.
        req = ok(clerk.post(f"{ap}/v1/requisitions", json={
            "company_id": company, "request_date": "2026-11-02", "currency": "EUR", "lines": [line]}), 201)
        assert req["requested_by"] == "clerk@demo"
        forged = clerk.post(f"{ap}/v1/requisitions", json={
            "company_id": company, "requested_by": "ceo@demo", "request_date": "2026-11-02", "currency": "EUR",
            "lines": [line]})
        assert forged.status_code == 422 and forged.json()["errors"][0]["loc"][-1] == "requested_by", forged.text
        assert len(ok(h.get(f"{suite.budget_url}/v1/reservations", params={"company": company}))) == 1

        inv = expense_invoice(suite, company, "ACME-1", "100.00", "2026-11-03")
        run = ok(clerk.post(f"{ap}/v1/payment-runs", json={
            "company_id": company, "payment_date": "2026-12-03", "bank_account": "MAIN"}), 201)
        assert run["proposed_by"] == "clerk@demo" and [i["invoice"] for i in run["items"]] == [inv["number"]]
        # The proposer cannot approve their own run: 403, and the run stays proposed.
        own = clerk.post(f"{ap}/v1/payment-runs/{run['id']}/approve")
        assert own.status_code == 403 and own.headers["content-type"].startswith("application/problem+json")
        assert own.json()["type"].endswith("/segregation-of-duties")
        assert "proposed by clerk@demo: another person approves it" in own.json()["detail"]
        assert ok(h.get(f"{ap}/v1/payment-runs/{run['id']}"))["status"] == "proposed"
        approved = ok(treasurer.post(f"{ap}/v1/payment-runs/{run['id']}/approve"))
        assert (approved["status"], approved["approved_by"]) == ("approved", "treasurer@demo")


NON_SEPA_IBAN = "TR330006100519786457841326"  # Turkey: IBAN country outside the SEPA zone


def pain(suite, run_id: str):
    """The run's pain.001, validated against the XSD; (document, namespaces)."""
    import sepaxml
    from lxml import etree

    r = suite.http.get(f"{suite.ap_url}/v1/payment-runs/{run_id}/pain.001")
    assert r.status_code == 200, r.text
    xsd = etree.XMLSchema(etree.parse(str(Path(sepaxml.__file__).parent / "schemas" / "pain.001.001.09.xsd")))
    doc = etree.fromstring(r.content)
    assert xsd.validate(doc), xsd.error_log
    return doc, {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}, r.text


def test_a_payment_run_the_clerk_steers(suite):
    """The issue's scenario: an expense invoice nobody meant to pay yet is put on hold and not
    paid, and a discount the supplier's terms give is not taken on an invoice whose own terms
    give none; then proposal filters, items added and removed, a cancelled run, a released
    hold, transfers per supplier and per invoice, SEPA only where it applies."""
    company = suite.new_company("RUN", currency="EUR")
    h, ap = suite.http, suite.ap_url
    setup_budget(suite, company, {"OFFICE": ["6602"]}, [("ADMIN", "OFFICE", PERIOD, "5000.00", "block", "0")])
    setup_ap(suite, company)  # ACME: 2/10 NET30, German IBAN; our account MAIN in EUR
    ok(h.put(f"{ap}/v1/suppliers/BETA", json={"company_id": company, "name": "Beta Tekstil AS", "currency": "EUR",
                                              "payment_terms": "NET30", "iban": NON_SEPA_IBAN}))
    a = expense_invoice(suite, company, "SI-1", "1000.00", "2026-11-06", terms="NET30")  # its own terms: no discount
    b = expense_invoice(suite, company, "SI-2", "500.00", "2026-11-06")  # ACME's terms: 2 % until 11-16
    c = expense_invoice(suite, company, "SI-3", "300.00", "2026-11-08")  # 2 % until 11-18, not meant to be paid yet
    d = expense_invoice(suite, company, "B-77", "200.00", "2026-11-02", supplier="BETA", terms="NET7")  # due 11-09
    assert (a["payment_terms"], a["discount_date"], a["due_date"]) == ("NET30", None, "2026-12-06")
    assert (b["payment_terms"], b["discount_date"], b["discount_pct"]) == ("2/10 NET30", "2026-11-16", "2")
    assert (d["payment_terms"], d["due_date"]) == ("NET7", "2026-11-09")

    # Payment hold, with a reason (none: refused).
    assert h.post(f"{ap}/v1/supplier-invoices/{c['id']}/payment-hold", json={"reason": ""}).status_code == 422
    held = ok(h.post(f"{ap}/v1/supplier-invoices/{c['id']}/payment-hold",
                     json={"reason": "not ordered by us: purchasing to confirm"}))
    assert held["payment_hold"]["reason"] == "not ordered by us: purchasing to confirm"
    assert (held["payment_hold"]["by"], held["removed_from_runs"]) == ("e2e", [])

    # Run 1, ACME only, on 11-16. Before: A (its supplier's 2 % = 20.00) and C were proposed too.
    # Now A is not due (12-06) and its own terms give no discount; C is on hold; BETA is filtered
    # out. B: 2 % of 500.00 = 10.00 off, 490.00 paid.
    run1 = ok(h.post(f"{ap}/v1/payment-runs", json={
        "company_id": company, "payment_date": "2026-11-16", "bank_account": "MAIN", "suppliers": ["ACME"]}), 201)
    assert run1["number"] == "PAYRUN-20261116-0001" and run1["filters"]["suppliers"] == ["ACME"]
    items = lambda run: [(i["invoice"], i["amount"], i["discount"]) for i in run["items"]]  # noqa: E731
    assert items(run1) == [(b["number"], "490.00", "10.00")] and run1["total"] == "490.00"
    # The clerk adds A (paid early, without discount: 1,000.00), and C is refused while held.
    run1 = ok(h.post(f"{ap}/v1/payment-runs/{run1['id']}/items", json={"invoice_id": a["id"]}))
    assert items(run1) == [(a["number"], "1000.00", "0.00"), (b["number"], "490.00", "10.00")]
    assert run1["total"] == "1490.00"
    refused = h.post(f"{ap}/v1/payment-runs/{run1['id']}/items", json={"invoice_id": c["id"]})
    assert refused.status_code == 422 and "on payment hold" in refused.json()["detail"], refused.text
    # Added and removed again: 1,490.00 + 200.00 = 1,690.00, then 1,490.00.
    assert ok(h.post(f"{ap}/v1/payment-runs/{run1['id']}/items", json={"invoice_id": d["id"]}))["total"] == "1690.00"
    assert ok(h.delete(f"{ap}/v1/payment-runs/{run1['id']}/items/{d['id']}"))["total"] == "1490.00"
    with client_as("treasurer@e2e", company) as treasurer:
        ok(treasurer.post(f"{ap}/v1/payment-runs/{run1['id']}/approve"))
    assert h.delete(f"{ap}/v1/payment-runs/{run1['id']}/items/{a['id']}").status_code == 422  # approved: fixed
    # One transfer for ACME, SEPA (euro, German IBANs), naming both supplier invoice numbers.
    doc, ns, text = pain(suite, run1["id"])
    assert_valid_pain001(text.encode(), amount="1490.00", creditor_iban=SUPPLIER_IBAN, debtor_iban=OUR_IBAN)
    assert [t.findtext("p:RmtInf/p:Ustrd", namespaces=ns) for t in doc.iterfind(".//p:CdtTrfTxInf", ns)] == \
        ["Invoices SI-1, SI-2"]
    assert doc.findtext(".//p:CdtTrfTxInf/p:PmtId/p:EndToEndId", namespaces=ns) == "PAYRUN-20261116-0001-ACME"
    assert doc.findtext(".//p:PmtInf/p:PmtTpInf/p:SvcLvl/p:Cd", namespaces=ns) == "SEPA"
    done = ok(h.post(f"{ap}/v1/payment-runs/{run1['id']}/execute"))
    assert [p["amount"] for p in done["payments"]] == ["1490.00"]
    # The held invoice was not paid.
    c_now = ok(h.get(f"{ap}/v1/supplier-invoices/{c['id']}"))
    assert (c_now["status"], c_now["settled"], c_now["payment_hold"]["reason"]) == \
        ("approved", "0.00", "not ordered by us: purchasing to confirm")
    # Sub-ledger = control account: 4 invoices and run 1's payment posted; open C 300.00 + D 200.00.
    suite.wait_journals(company, 5)
    open_items = ok(h.get(f"{ap}/v1/ageing", params={"company": company, "as_of": "2026-11-30"}))["total"]["total"]
    assert open_items == "500.00" and tb(suite, company)["220201"] == D("-500.00")

    # Run 2 by currency (the only EUR account is chosen) and supplier, cancelled: D is free again.
    run2 = ok(h.post(f"{ap}/v1/payment-runs", json={
        "company_id": company, "payment_date": "2026-11-16", "currency": "EUR", "suppliers": ["BETA"]}), 201)
    assert (run2["bank_account"], items(run2)) == ("MAIN", [(d["number"], "200.00", "0.00")])
    cancelled = ok(h.post(f"{ap}/v1/payment-runs/{run2['id']}/cancel"))
    assert (cancelled["status"], cancelled["cancelled_by"]) == ("cancelled", "e2e")
    assert h.post(f"{ap}/v1/payment-runs/{run2['id']}/approve").status_code == 422
    # Run 3, one transfer per invoice: D again, and C once its hold is released (2 % of 300.00
    # = 6.00 off until 11-18: 294.00 paid).
    run3 = ok(h.post(f"{ap}/v1/payment-runs", json={
        "company_id": company, "payment_date": "2026-11-16", "currency": "EUR", "suppliers": ["BETA"],
        "transfers": "invoice"}), 201)
    assert items(run3) == [(d["number"], "200.00", "0.00")] and run3["transfers"] == "invoice"
    assert ok(h.delete(f"{ap}/v1/supplier-invoices/{c['id']}/payment-hold"))["payment_hold"] is None
    run3 = ok(h.post(f"{ap}/v1/payment-runs/{run3['id']}/items", json={"invoice_id": c["id"]}))
    assert items(run3) == [(c["number"], "294.00", "6.00"), (d["number"], "200.00", "0.00")]
    assert run3["total"] == "494.00" and run3["number"] == "PAYRUN-20261116-0003"
    with client_as("treasurer@e2e", company) as treasurer:
        ok(treasurer.post(f"{ap}/v1/payment-runs/{run3['id']}/approve"))
    # Two transactions: C to a German IBAN in a SEPA block, D to a Turkish IBAN in a block
    # without the SEPA service level; 294.00 + 200.00 = 494.00.
    doc, ns, text = pain(suite, run3["id"])
    header = doc.find(".//p:GrpHdr", ns)
    assert (header.findtext("p:NbOfTxs", namespaces=ns), header.findtext("p:CtrlSum", namespaces=ns)) == ("2", "494.00")
    blocks = [(b.findtext("p:PmtTpInf/p:SvcLvl/p:Cd", namespaces=ns),
               [(t.findtext("p:PmtId/p:EndToEndId", namespaces=ns), t.findtext("p:Amt/p:InstdAmt", namespaces=ns),
                 t.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=ns), t.findtext("p:RmtInf/p:Ustrd", namespaces=ns))
                for t in b.iterfind("p:CdtTrfTxInf", ns)]) for b in doc.iterfind(".//p:PmtInf", ns)]
    assert blocks == [
        ("SEPA", [(c["number"], "294.00", SUPPLIER_IBAN, f"Invoice SI-3 (our ref {c['number']})")]),
        (None, [(d["number"], "200.00", NON_SEPA_IBAN, f"Invoice B-77 (our ref {d['number']})")])]
    for doc_id in (a["id"], b["id"], c["id"], d["id"], run1["id"], run3["id"]):
        assert doc_id not in text  # business documents, never internal ids
    done3 = ok(h.post(f"{ap}/v1/payment-runs/{run3['id']}/execute"))
    assert [p["amount"] for p in done3["payments"]] == ["294.00", "200.00"]
    assert h.post(f"{ap}/v1/payment-runs/{run3['id']}/cancel").status_code == 422  # executed: too late

    # The ledger: 4 invoices and 3 payments. Expense 1,000 + 500 + 300 + 200 = 2,000.00; bank
    # 1,490.00 + 294.00 + 200.00 = 1,984.00 paid; discounts 10.00 + 6.00 = 16.00 to finance costs.
    suite.wait_journals(company, 7)
    assert tb(suite, company) == {"6602": D("2000.00"), "6603": D("-16.00"), "1002": D("-1984.00")}
    pay1 = done["payments"][0]["number"]
    (j,) = ok(h.get(f"{suite.gl_url}/v1/journals", params={"company": company, "source_document": pay1}))["items"]
    memos = [ln["memo"] for ln in ok(h.get(f"{suite.gl_url}/v1/journals/{j['id']}"))["lines"] if ln["memo"]]
    assert f"Early-payment discount {pay1} on {b['number']} (SI-2)" in memos, memos
    assert f"Payment {pay1} to ACME" in memos and not any(x in m for m in memos for x in (a["id"], b["id"]))
    # PaymentMade names the documents: the run, the remittance, each invoice's numbers.
    from finance.ap.v1 import events_pb2 as ap_ev

    made = [m for m in (ap_ev.PaymentMade.FromString(bytes(r[0])) for r in suite.sql(
        "ap", "SELECT payload FROM outbox WHERE ce_type = 'finance.ap.PaymentMade.v1' ORDER BY id"))
        if m.company_id == company]
    assert [(m.payment_run_number, m.supplier_code, m.payment_method, m.remittance_information,
             [(x.invoice_number, x.supplier_invoice_number) for x in m.applications]) for m in made] == [
        ("PAYRUN-20261116-0001", "ACME", "SEPA_CREDIT_TRANSFER", "Invoices SI-1, SI-2",
         [(a["number"], "SI-1"), (b["number"], "SI-2")]),
        ("PAYRUN-20261116-0003", "ACME", "SEPA_CREDIT_TRANSFER", f"Invoice SI-3 (our ref {c['number']})",
         [(c["number"], "SI-3")]),
        ("PAYRUN-20261116-0003", "BETA", "CREDIT_TRANSFER", f"Invoice B-77 (our ref {d['number']})",
         [(d["number"], "B-77")])]
