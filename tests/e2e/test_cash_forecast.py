"""The 13-week cash-flow forecast end to end: AR, AP and the budget fed through their public
APIs, the forecast made by cash management (which reads them through their APIs too), kept as
a snapshot, drilled into, and compared with the bank's statements once its weeks have passed.

Hand computation (as of Wednesday 2027-01-06; week 1 = Mon 01-04..Sun 01-10, week 2 01-11..17,
week 3 01-18..24, week 4 01-25..31, week 5 02-01..07, week 6 02-08..14, week 8 02-22..28,
week 9 03-01..07, week 12 03-22..28, week 13 03-29..04-04; from 04-05 on: beyond the horizon):

K1's payment history: H1 113.00 due 11-10 paid 11-16 (6 days late), H2 339.00 due 11-20 paid
11-22 (2 days late): (113*6 + 339*2) / 452 = 1356 / 452 = 3 days late. K2 has no history (0).

receivables
  I1  K1 1,130.00 due 01-19 + 3 = 01-22                       week 3   +1,130.00
  I2  K2   226.00 due 2026-12-31: overdue, expected now        week 1     +226.00
  I3  K2   113.00 due 04-10                                    beyond     +113.00
  I4  K1 1,130.00 (half of order CRM-1) due 02-04 + 3 = 02-07  week 5   +1,130.00
sales orders (dated from their expected delivery, when AR invoices them)
  CRM-1 K1 2,260.00 ordered 01-04, expected to ship 01-20; 1,130.00 invoiced (I4): 1,130.00
        left, invoiced 01-20 + 30 days terms + 3 = 02-22       week 8   +1,130.00
payables (the payment run's rule, answered by AP)
  E1  S1 1,000.00 2/10 NET30 of 01-02: discount open until 01-12: 980.00 on 01-12  week 2  -980.00
  E2  S2   500.00 NET3 of 01-01: due 01-04, overdue            week 1     -500.00
  E3  S1   300.00 2/10 NET30 of 12-20: discount date 12-30 passed, due 01-19  week 3  -300.00
purchase orders (dated from their expected receipt)
  PO  S2 10 x 100.00 + VAT13 = 1,130.00 not received, ordered 01-05, expected in 02-01,
      NET30: 03-03                                             week 9   -1,130.00
budget (RENT mapped: out on the 25th; 8,000.00 a month, nothing spent)
  01-25 week 4, 02-25 week 8, 03-25 week 12: -8,000.00 each; 04-25 is past the horizon.

net per week: 1: 226 - 500 = -274.00; 2: -980.00; 3: 1,130 - 300 = 830.00; 4: -8,000.00;
5: 1,130.00; 8: 1,130 - 8,000 = -6,870.00; 9: -1,130.00; 12: -8,000.00; others 0.00.
Opening: the bank's statement to 01-03 closes at 100.00. Closing: -174.00, -1,154.00, -324.00,
-8,324.00, -7,194.00 (5 to 7), -14,064.00, -15,194.00 (9 to 11), -23,194.00 (12, 13).

Actuals, once the bank reported 01-04..01-17: week 1 in 40.00 (interest) out -15.00 (fee):
net 25.00, variance 25 - (-274) = 299.00; week 2 out -10.00 (fee): variance -10 - (-980) =
970.00; week 3 on: not yet known."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import httpx
import pytest
from cashmgmt.adapters import bankfiles
from cashmgmt.domain.statements import ParsedLine, ParsedStatement
from fincore.auth import mint_token
from fincore.settings import ServiceSettings

pytestmark = pytest.mark.e2e

D = dt.date.fromisoformat


def ok(r, status=(200, 201)):
    assert r.status_code in ((status,) if isinstance(status, int) else status), r.text
    return r.json()


def eventually(what, check, timeout=120.0):
    deadline = time.monotonic() + timeout
    while not (got := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s")
        time.sleep(0.25)
    return got


def statement(sid: str, opening: str, start: str, end: str, lines: list[tuple[str, str, str, str]]) -> bytes:
    parsed = tuple(ParsedLine(D(d), D(d), Decimal(a), "", "", "", text, f"{sid}-{i}", code)
                   for i, (d, a, text, code) in enumerate(lines, 1))
    closing = Decimal(opening) + sum((ln.amount for ln in parsed), Decimal(0))
    return bankfiles.write_camt053(ParsedStatement("any", sid, "CNY", Decimal(opening), closing, D(start), D(end),
                                                   parsed, account_number="6222020099990001"))


def line(desc: str, qty: str, price: str, item: str = "") -> dict:
    return {"description": desc, "quantity": qty, "unit_price": price, "tax_code": "VAT13", "item_code": item}


@pytest.fixture(scope="module")
def books(suite):
    """A company with the history, the open documents, the budget and the bank of the hand computation."""
    company = suite.new_company("FCST")
    h, ar, ap, b, cash = suite.http, suite.ar_url, suite.ap_url, suite.budget_url, suite.cash_url
    for code in ("K1", "K2"):
        ok(h.put(f"{ar}/v1/customers/{code}", json={"company_id": company, "code": code, "name": f"Kunde {code}",
                                                      "payment_terms_days": 30, "credit_limit": "100000"}))

    def invoice(customer: str, issue: str, due: str, lines: list[dict], order: str = "") -> dict:
        return ok(h.post(f"{ar}/v1/invoices", json={"company_id": company, "customer_code": customer,
                                                    "currency": "CNY", "issue_date": issue, "due_date": due,
                                                    "sales_order_ref": order, "lines": lines}), 201)

    h1 = invoice("K1", "2026-11-01", "2026-11-10", [line("Service", "1", "100.00")])
    h2 = invoice("K1", "2026-11-05", "2026-11-20", [line("Service", "1", "300.00")])
    for inv, on in ((h1, "2026-11-16"), (h2, "2026-11-22")):
        ok(h.post(f"{ar}/v1/receipts", json={"company_id": company, "customer_code": "K1", "receipt_date": on,
                                             "amount": inv["gross_total"], "applications": [
                                                 {"invoice_id": inv["id"], "amount": inv["gross_total"]}]}), 201)
    docs = {"I1": invoice("K1", "2026-12-20", "2027-01-19", [line("Service", "1", "1000.00")]),
            "I2": invoice("K2", "2026-12-01", "2026-12-31", [line("Service", "1", "200.00")]),
            "I3": invoice("K2", "2027-01-02", "2027-04-10", [line("Service", "1", "100.00")])}
    so = {"company_id": company, "crm_order_id": f"CRM-1-{company}", "customer_code": "K1",
          "order_date": "2027-01-04", "lines": [line("Widget", "2", "1000.00", "W")]}
    for bad in ("2027-01-03", "2200-01-01"):  # before the order date; past the supported dates
        r = h.post(f"{ar}/v1/sales-orders", json={**so, "expected_delivery_date": bad})
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json"), r.text
    order = ok(h.post(f"{ar}/v1/sales-orders", json={**so, "expected_delivery_date": "2027-01-20"}), 201)
    assert (order["status"], order["amount"], order["expected_delivery_date"]) == ("accepted", "2260.00",
                                                                                   "2027-01-20")
    docs["I4"] = invoice("K1", "2027-01-05", "2027-02-04", [line("Widget", "1", "1000.00", "W")],
                         order=order["crm_order_id"])
    docs["CRM-1"] = order

    ok(h.put(f"{b}/v1/budget-items/OFFICE", json={"company_id": company, "name": "Office", "accounts": ["6602"]}))
    ok(h.put(f"{b}/v1/budget-items/RENT", json={"company_id": company, "name": "Rent", "accounts": ["6601"]}))
    v = ok(h.post(f"{b}/v1/budget-versions", json={"company_id": company, "code": "FY2027", "currency": "CNY"}), 201)
    rows = [("ADMIN", "OFFICE", p, "100000.00", "warn", "0") for p in ("2026-12", "2027-01")] + \
        [("ADMIN", "RENT", f"2027-0{m}", "8000.00", "warn", "0") for m in (1, 2, 3, 4)]
    csv = "cost_centre,budget_item,period,amount,control_mode,tolerance_pct\n" + "\n".join(",".join(r) for r in rows)
    ok(h.post(f"{b}/v1/budget-versions/{v['id']}/lines.csv", content=csv, headers={"Content-Type": "text/csv"}))
    assert ok(h.post(f"{b}/v1/budget-versions/{v['id']}/approve"))["status"] == "approved"

    ok(h.put(f"{ap}/v1/suppliers/S1", json={"company_id": company, "name": "Supplier One", "currency": "CNY",
                                            "payment_terms": "2/10 NET30"}))
    ok(h.put(f"{ap}/v1/suppliers/S2", json={"company_id": company, "name": "Supplier Two", "currency": "CNY",
                                            "payment_terms": "NET30"}))

    def expense(number: str, supplier: str, on: str, amount: str, terms: str | None = None) -> dict:
        inv = ok(h.post(f"{ap}/v1/supplier-invoices", json={
            "company_id": company, "kind": "expense", "supplier_code": supplier, "supplier_invoice_number": number,
            "invoice_date": on, **({"payment_terms": terms} if terms else {}),
            "expense_lines": [{"description": "Services", "amount": amount, "tax_code": "VAT0",
                               "cost_centre": "ADMIN", "budget_item": "OFFICE"}]}), 201)
        return ok(h.post(f"{ap}/v1/supplier-invoices/{inv['id']}/approve"))

    docs["E1"] = expense("S1-100", "S1", "2027-01-02", "1000.00")
    docs["E2"] = expense("S2-200", "S2", "2027-01-01", "500.00", terms="NET3")
    docs["E3"] = expense("S1-090", "S1", "2026-12-20", "300.00")
    assert (docs["E1"]["discount_date"], docs["E1"]["due_date"]) == ("2027-01-12", "2027-02-01")
    req = ok(h.post(f"{ap}/v1/requisitions", json={
        "company_id": company, "request_date": "2027-01-05", "currency": "CNY",
        "lines": [{"item_code": "PAPER", "description": "Paper", "quantity": "10", "unit_price": "100.00",
                   "tax_code": "VAT13", "cost_centre": "ADMIN", "budget_item": "OFFICE"}]}), 201)
    po = {"requisition_id": req["id"], "supplier_code": "S2", "order_date": "2027-01-05"}
    for bad in ("2027-01-04", "2200-01-01"):  # before the order date; past the supported dates
        r = h.post(f"{ap}/v1/purchase-orders", json={**po, "expected_receipt_date": bad})
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json"), r.text
    docs["PO"] = ok(h.post(f"{ap}/v1/purchase-orders", json={**po, "expected_receipt_date": "2027-02-01"}), 201)
    assert docs["PO"]["expected_receipt_date"] == "2027-02-01"
    # the refused requests changed nothing: one open order on each side, with its expected date
    assert [(o["crm_order_id"], o["expected_delivery_date"]) for o in ok(h.get(
        f"{ar}/v1/open-sales-orders", params={"company": company}))] == [(order["crm_order_id"], "2027-01-20")]
    assert [(o["number"], o["expected_receipt_date"]) for o in ok(h.get(
        f"{ap}/v1/open-purchase-orders", params={"company": company}))] == [(docs["PO"]["number"], "2027-02-01")]

    ok(h.post(f"{cash}/v1/bank-accounts", json={
        "company_id": company, "code": "CNY-MAIN", "name": "ICBC current account", "currency": "CNY",
        "account_number": "6222 0200 9999 0001", "gl_account": "100201", "opened_on": "2027-01-01"}), 201)
    # the bank to 01-03: 100.00 of interest (posted to the ledger by the rules)
    ok(h.post(f"{cash}/v1/statements", params={"company": company}, content=statement(
        f"ST-0-{company}", "0", "2027-01-01", "2027-01-03", [("2027-01-02", "100.00", "Interest", "INTR")])), 201)
    ok(h.put(f"{cash}/v1/forecast-budget-items/RENT", params={"company": company},
             json={"direction": "out", "day_of_month": 25}))
    return company, docs


def buckets(fc: dict, currency: str = "CNY") -> list[dict]:
    (cur,) = [c for c in fc["currencies"] if c["currency"] == currency]
    return cur["weeks"]


def test_the_forecast_equals_the_hand_computation_and_drills_to_its_documents(suite, books):
    company, docs = books
    h, cash = suite.http, suite.cash_url
    fc = ok(h.post(f"{cash}/v1/cash-forecasts", json={"company_id": company, "as_of": "2027-01-06"}), 201)
    assert (fc["as_of"], fc["first_week"], fc["days_late"]) == ("2027-01-06", "2027-01-04", {"K1": 3})
    (cny,) = fc["currencies"]  # one currency: nothing converted, nothing invented
    assert (cny["currency"], cny["opening"], cny["beyond"], cny["beyond_documents"]) == ("CNY", "100.00", "113.00", 1)
    weeks = cny["weeks"]
    assert [(w["start"], w["end"]) for w in weeks][:2] == [("2027-01-04", "2027-01-10"), ("2027-01-11", "2027-01-17")]
    assert [(w["inflows"], w["outflows"]) for w in weeks] == [
        ({"receivables": "226.00"}, {"payables": "-500.00"}),
        ({}, {"payables": "-980.00"}),
        ({"receivables": "1130.00"}, {"payables": "-300.00"}),
        ({}, {"budget": "-8000.00"}),
        ({"receivables": "1130.00"}, {}),
        ({}, {}), ({}, {}),
        ({"sales_orders": "1130.00"}, {"budget": "-8000.00"}),
        ({}, {"purchase_orders": "-1130.00"}),
        ({}, {}), ({}, {}), ({}, {"budget": "-8000.00"}), ({}, {})]
    assert [w["net"] for w in weeks] == ["-274.00", "-980.00", "830.00", "-8000.00", "1130.00", "0.00", "0.00",
                                         "-6870.00", "-1130.00", "0.00", "0.00", "-8000.00", "0.00"]
    assert [w["closing"] for w in weeks] == ["-174.00", "-1154.00", "-324.00", "-8324.00"] + ["-7194.00"] * 3 + [
        "-14064.00"] + ["-15194.00"] * 3 + ["-23194.00"] * 2
    assert [w["actual"] for w in weeks] == [None] * 13  # the bank has reported nothing of these weeks yet

    def documents(week, **kw) -> list[tuple]:
        got = ok(h.get(f"{cash}/v1/cash-forecasts/{fc['id']}/documents",
                       params={"company": company, "currency": "CNY", "week": week, **kw}))
        return [(d["source"], d["document_id"], d["expected_on"], d["amount"]) for d in got["documents"]]

    assert documents(1) == [("receivables", docs["I2"]["id"], "2026-12-31", "226.00"),
                            ("payables", docs["E2"]["id"], "2027-01-04", "-500.00")]
    assert documents(2) == [("payables", docs["E1"]["id"], "2027-01-12", "-980.00")]
    assert documents(5) == [("receivables", docs["I4"]["id"], "2027-02-07", "1130.00")]
    assert documents(6) == []  # where the order dates put both orders before they had expected dates
    assert documents(8) == [("sales_orders", docs["CRM-1"]["id"], "2027-02-22", "1130.00"),
                            ("budget", "RENT:2027-02", "2027-02-25", "-8000.00")]
    assert documents(8, source="sales_orders") == [("sales_orders", docs["CRM-1"]["id"], "2027-02-22", "1130.00")]
    assert documents(9) == [("purchase_orders", docs["PO"]["id"], "2027-03-03", "-1130.00")]
    assert documents(4) == [("budget", "RENT:2027-01", "2027-01-25", "-8000.00")]
    assert documents("beyond") == [("receivables", docs["I3"]["id"], "2027-04-10", "113.00")]
    one = ok(h.get(f"{cash}/v1/cash-forecasts/{fc['id']}/documents",
                   params={"company": company, "currency": "CNY", "week": 3}))["documents"]
    assert [(d["number"], d["party"], d["basis"]) for d in one] == [
        (docs["E3"]["number"], "S1", "due date"),
        (docs["I1"]["number"], "K1", "due 2027-01-19; K1 pays 3 days late on average")]
    orders = [d for w in (8, 9) for d in ok(h.get(
        f"{cash}/v1/cash-forecasts/{fc['id']}/documents",
        params={"company": company, "currency": "CNY", "week": w}))["documents"] if d["source"].endswith("orders")]
    assert [(d["number"], d["party"], d["basis"]) for d in orders] == [
        (docs["CRM-1"]["crm_order_id"], "K1",
         "expected delivery 2027-01-20: invoiced 2027-01-20, 30 days terms; K1 pays 3 days late on average"),
        (docs["PO"]["number"], "S2", "expected receipt 2027-02-01: received 2027-02-01, paid after 30 days")]

    # Bad requests change nothing and say why.
    assert h.get(f"{cash}/v1/cash-forecasts/{fc['id']}/documents",
                 params={"company": company, "currency": "CNY", "week": 14}).status_code == 422
    assert h.post(f"{cash}/v1/cash-forecasts", json={"company_id": company, "as_of": "2027-13-01"}).status_code == 422
    other = mint_token(ServiceSettings(), subject="other", scopes=["cashmgmt:read", "cashmgmt:write"],
                       companies=["SOMEONE-ELSE"])
    with httpx.Client(headers={"Authorization": f"Bearer {other}"}, timeout=30) as stranger:
        assert stranger.get(f"{cash}/v1/cash-forecasts/{fc['id']}", params={"company": company}).status_code == 403
    # A caller who may not read AR: AR refuses the relayed token, so no forecast is made.
    narrow = mint_token(ServiceSettings(), subject="cash-only", scopes=["cashmgmt:read", "cashmgmt:write"],
                        companies=[company])
    with httpx.Client(headers={"Authorization": f"Bearer {narrow}"}, timeout=30) as c:
        refused = c.post(f"{cash}/v1/cash-forecasts", json={"company_id": company, "as_of": "2027-01-06"})
        assert refused.status_code == 502 and refused.json()["type"].endswith("/forecast-source-refused"), refused.text
    assert [f["id"] for f in ok(h.get(f"{cash}/v1/cash-forecasts", params={"company": company}))] == [fc["id"]]

    # The weeks pass: the bank reports 01-04..01-17, the forecast kept is compared with it.
    url = f"{cash}/v1/statements"
    ok(h.post(url, params={"company": company}, content=statement(
        f"ST-1-{company}", "100.00", "2027-01-04", "2027-01-10",
        [("2027-01-05", "-15.00", "Account fee", "CHRG"), ("2027-01-08", "40.00", "Interest", "INTR")])), 201)
    ok(h.post(url, params={"company": company}, content=statement(
        f"ST-2-{company}", "125.00", "2027-01-11", "2027-01-17", [("2027-01-14", "-10.00", "Account fee", "CHRG")])),
        201)
    # Meanwhile AR issued another invoice: the kept forecast does not change, a new one sees it.
    ok(h.post(f"{suite.ar_url}/v1/invoices", json={"company_id": company, "customer_code": "K2", "currency": "CNY",
                                                   "issue_date": "2027-01-06", "due_date": "2027-01-20",
                                                   "lines": [line("Service", "1", "50.00")]}), 201)
    again = ok(h.get(f"{cash}/v1/cash-forecasts/{fc['id']}", params={"company": company}))
    past = buckets(again)
    assert [w["actual"] for w in past[:3]] == [
        {"inflow": "40.00", "outflow": "-15.00", "net": "25.00", "variance": "299.00"},
        {"inflow": "0.00", "outflow": "-10.00", "net": "-10.00", "variance": "970.00"}, None]
    assert [w["net"] for w in past] == [w["net"] for w in weeks]
    later = ok(h.post(f"{cash}/v1/cash-forecasts", json={"company_id": company, "as_of": "2027-01-06"}), 201)
    assert buckets(later)[2]["inflows"] == {"receivables": "1186.50"}  # + 56.50 of K2, due 01-20
    assert buckets(later)[0]["closing"] == "-174.00"  # the opening is still the bank's at 01-06: 100.00
    # the charges and interest reached the ledger (the bank account equals the statements: 115.00)
    eventually("the ledger's bank account", lambda: any(
        ln["account"] == "100201" and Decimal(ln["debit_balance"]) == Decimal("115.00")
        for ln in suite.trial_balance(company, "2027-01-31")["lines"]))
    # and the books of the scenario agree with themselves (finance-verify: I1-I4, I6, I7)
    res = suite.verify([company])
    assert res.breaches == [], [str(b) for b in res.breaches]
