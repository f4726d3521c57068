"""Load demo data into company DEMO (CAS chart, CNY) through the public APIs, wait until the
ledger has posted it, print the trial balance and where to look.

Re-running is safe: every request carries an Idempotency-Key."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import signal
import sys
import time
from decimal import Decimal

import demo_forecast
import demo_group
import httpx
from fincore.auth import ALL_SCOPES, mint_token
from fincore.settings import ServiceSettings

GL = os.environ.get("GL_URL", "http://127.0.0.1:8001")
AR = os.environ.get("AR_URL", "http://127.0.0.1:8002")
INV = os.environ.get("INVENTORY_URL", "http://127.0.0.1:8004")
AP = os.environ.get("AP_URL", "http://127.0.0.1:8003")
BUDGET = os.environ.get("BUDGET_URL", "http://127.0.0.1:8006")
COCKPIT = os.environ.get("COCKPIT_URL", "http://127.0.0.1:8000")
CASH = os.environ.get("CASHMGMT_URL", "http://127.0.0.1:8005")
# Purchase cost of the stocked items (the demo buys them at the start of the month).
UNIT_COST = {"P-100": ["820.00", "860.00"], "P-200": ["51.20", "49.90"], "F-010": ["1700.00", "1760.00"]}
ITEMS = [("P-100", "GOODS", "Industrial pump", "1280.00", "VAT13"),
         ("P-200", "GOODS", "Valve kit", "86.50", "VAT13"),
         ("S-900", "SERVICE_OTHER", "Installation service", "450.00", "VAT6"),
         ("F-010", "GOODS", "Agricultural feed (t)", "2350.00", "VAT9")]
CUSTOMERS = ["C-ACME", "C-BOLT", "C-CRANE", "C-DELTA"]


def wait_ready(client: httpx.Client, url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if client.get(f"{url}/readyz").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            sys.exit(f"{url} did not become ready in {timeout}s")
        time.sleep(0.5)


def invoices(month: dt.date, n: int) -> list[dict]:
    rnd = random.Random(42)
    out = []
    for i in range(n):
        lines = []
        for code, cat, desc, price, tax in rnd.sample(ITEMS, rnd.randint(1, 3)):
            lines.append({"item_code": code, "item_category": cat, "description": desc,
                          "quantity": str(rnd.randint(1, 12)), "unit_price": price, "tax_code": tax})
        out.append({"company_id": "DEMO", "customer_code": rnd.choice(CUSTOMERS), "customer_group": "DOMESTIC",
                    "currency": "CNY", "issue_date": (month + dt.timedelta(days=i % 28)).isoformat(),
                    "lines": lines, "dimensions": {"region": rnd.choice(["EAST", "NORTH", "SOUTH"])}})
    return out


def ok(r: httpx.Response, *codes: int) -> dict:
    if r.status_code not in (codes or (200, 201)):
        sys.exit(f"{r.request.method} {r.request.url} failed: {r.status_code} {r.text}")
    return r.json()


def procure_to_pay(c: httpx.Client, month: dt.date) -> int:
    """Budget, a requisition -> order -> receipt -> matched invoice, an expense invoice, an
    expense claim and a payment run. Returns the number of journals it makes."""
    tag = f"{month:%Y%m}"
    for code, accounts in (("MATERIALS", ["1405"]), ("OFFICE", ["6602"]), ("TRAVEL", ["6601"])):
        ok(c.put(f"{BUDGET}/v1/budget-items/{code}", json={"company_id": "DEMO", "name": code.title(),
                                                           "accounts": accounts}))
    v = c.post(f"{BUDGET}/v1/budget-versions", json={"company_id": "DEMO", "code": f"B{tag}", "currency": "CNY",
                                                      "description": "Demo budget (original)"})
    if v.status_code == 409:
        return 0  # loaded before
    v = ok(v)
    period = f"{month:%Y-%m}"
    csv = "cost_centre,budget_item,period,amount,control_mode,tolerance_pct\n" + "\n".join([
        f"PROD,MATERIALS,{period},20000.00,block,0", f"ADMIN,OFFICE,{period},1500.00,block,5",
        f"SALES,TRAVEL,{period},800.00,warn,0"])
    ok(c.post(f"{BUDGET}/v1/budget-versions/{v['id']}/lines.csv", content=csv, headers={"Content-Type": "text/csv"}))
    ok(c.post(f"{BUDGET}/v1/budget-versions/{v['id']}/approve"))
    for code, name, group, terms in (("S-VALVE", "Valve Works Co.", "", "NET30"),
                                     ("S-PAPER", "Office Supply Co.", "", "2/10 NET30"),
                                     ("E-ZHANG", "Zhang San", "EMPLOYEE", "NET7")):
        ok(c.put(f"{AP}/v1/suppliers/{code}", json={"company_id": "DEMO", "name": name, "supplier_group": group,
                                                    "currency": "CNY", "payment_terms": terms}))
    ok(c.put(f"{AP}/v1/bank-accounts/BANK-1", json={"company_id": "DEMO", "name": "Demo Trading Co., Ltd.",
                                                     "currency": "CNY"}))
    day = lambda d: month.replace(day=d).isoformat()  # noqa: E731
    req = ok(c.post(f"{AP}/v1/requisitions", headers={"Idempotency-Key": f"demo-{tag}-pr1"}, json={
        "company_id": "DEMO", "request_date": day(3), "currency": "CNY",
        "lines": [{"item_code": "P-200", "description": "Valve kit", "quantity": "150", "unit_price": "50.00",
                   "cost_centre": "PROD", "budget_item": "MATERIALS"}]}))
    po = ok(c.post(f"{AP}/v1/purchase-orders", json={"requisition_id": req["id"], "supplier_code": "S-VALVE",
                                                      "order_date": day(3), "expected_receipt_date": day(4)}))
    ok(c.post(f"{INV}/v1/receipts", headers={"Idempotency-Key": f"demo-{tag}-gr-po"}, json={
        "company_id": "DEMO", "movement_date": day(4), "warehouse": "WH-SH", "partner": "S-VALVE",
        "reference": po["number"], "lines": [{"item": "P-200", "quantity": "150", "unit_cost": "50.00"}]}))
    deadline = time.monotonic() + 60
    while ok(c.get(f"{AP}/v1/purchase-orders/{po['id']}"))["lines"][0]["received_qty"] != "150":
        if time.monotonic() > deadline:
            sys.exit("AP did not see the goods receipt within 60 s")
        time.sleep(0.3)
    inv = ok(c.post(f"{AP}/v1/supplier-invoices", json={
        "company_id": "DEMO", "kind": "stock", "supplier_code": "S-VALVE", "supplier_invoice_number": f"VW-{tag}-1",
        "invoice_date": day(5), "purchase_order": po["number"],
        "stock_lines": [{"item_code": "P-200", "quantity": "150", "unit_price": "50.60", "tax_code": "VAT13"}]}))
    ok(c.post(f"{AP}/v1/supplier-invoices/{inv['id']}/approve"))
    paper = ok(c.post(f"{AP}/v1/supplier-invoices", json={
        "company_id": "DEMO", "kind": "expense", "supplier_code": "S-PAPER", "supplier_invoice_number": f"OS-{tag}",
        "invoice_date": day(6), "expense_lines": [{"description": "Printer paper and toner", "amount": "1200.00",
                                                   "tax_code": "VAT13", "cost_centre": "ADMIN",
                                                   "budget_item": "OFFICE"}]}))
    ok(c.post(f"{AP}/v1/supplier-invoices/{paper['id']}/approve"))
    claim = ok(c.post(f"{AP}/v1/expense-claims", json={
        "company_id": "DEMO", "employee_code": "E-ZHANG", "claim_number": f"TRIP-{tag}", "claim_date": day(8),
        "lines": [{"description": "Customer visit, Hangzhou", "amount": "960.00", "cost_centre": "SALES",
                   "budget_item": "TRAVEL", "expense_category": "SELLING"}]}))
    ok(c.post(f"{AP}/v1/expense-claims/{claim['id']}/approve"))
    run = ok(c.post(f"{AP}/v1/payment-runs", json={"company_id": "DEMO", "payment_date": day(15),
                                                    "due_by": day(15), "bank_account": "BANK-1"}))
    # duties are segregated: the treasurer approves what the AP clerk (the loader) proposed
    treasurer = mint_token(ServiceSettings(), subject="demo-treasurer", scopes=["ap:write"], companies=["DEMO"])
    ok(c.post(f"{AP}/v1/payment-runs/{run['id']}/approve", headers={"Authorization": f"Bearer {treasurer}"}))
    done = ok(c.post(f"{AP}/v1/payment-runs/{run['id']}/execute"))
    # An order for next month's production, expected in on the 12th: not received, so the cash
    # forecast pays it S-VALVE's 30 days after that date (no journal until the goods arrive).
    nxt = (month + dt.timedelta(days=40)).replace(day=1)
    req = ok(c.post(f"{AP}/v1/requisitions", headers={"Idempotency-Key": f"demo-{tag}-pr2"}, json={
        "company_id": "DEMO", "request_date": day(20), "currency": "CNY",
        "lines": [{"item_code": "P-200", "description": "Valve kit", "quantity": "100", "unit_price": "50.00",
                   "cost_centre": "PROD", "budget_item": "MATERIALS"}]}))
    ok(c.post(f"{AP}/v1/purchase-orders", json={"requisition_id": req["id"], "supplier_code": "S-VALVE",
                                                 "order_date": day(20),
                                                 "expected_receipt_date": nxt.replace(day=12).isoformat()}))
    return 1 + 3 + len(done["payments"])


def open_bank_account(c: httpx.Client, month: dt.date) -> None:
    """DEMO's bank account BANK-1 in cash management (again: already open is fine), before any
    receipt or payment names it: the ledger learns from it where BANK-1 posts."""
    r = c.post(f"{CASH}/v1/bank-accounts", json={
        "company_id": "DEMO", "code": "BANK-1", "name": "ICBC Shanghai current account", "currency": "CNY",
        "account_number": "1001 2345 6789 0123", "gl_account": "1002", "opened_on": month.isoformat()})
    if r.status_code not in (201, 422):
        sys.exit(f"opening DEMO's bank account failed: {r.status_code} {r.text}")


def open_sales_order(c: httpx.Client, month: dt.date) -> dict:
    """A CRM order to ship next month (on the 8th): it reserves C-ACME's credit, and the cash
    forecast expects its cash C-ACME's payment terms (and average days late) after that date."""
    nxt = (month + dt.timedelta(days=40)).replace(day=1)
    r = c.post(f"{AR}/v1/sales-orders", json={
        "company_id": "DEMO", "crm_order_id": f"CRM-{month:%Y%m}-1", "customer_code": "C-ACME",
        "order_date": month.replace(day=22).isoformat(), "expected_delivery_date": nxt.replace(day=8).isoformat(),
        "lines": [{"item_code": "P-100", "description": "Industrial pump", "quantity": "4", "unit_price": "1280.00",
                   "tax_code": "VAT13"}]})
    return ok(r, 200, 201)


def cash_month(c: httpx.Client, month: dt.date) -> dict:
    """DEMO's bank statement for the month as the bank would send it (camt.053.001.08): most
    invoices paid by their reference (one in two parts), the payment run's transfers, a fee
    and interest; imported and reconciled against what AR and AP published."""
    from cashmgmt.adapters import bankfiles
    from cashmgmt.domain.statements import ParsedLine, ParsedStatement

    open_bank_account(c, month)
    account = ok(c.get(f"{CASH}/v1/bank-accounts/BANK-1", params={"company": "DEMO"}))
    deadline = time.monotonic() + 60  # what AR and AP published reaches cash management
    while True:
        items = ok(c.get(f"{CASH}/v1/reconciliation/open-items", params={"company": "DEMO", "limit": 10000}))
        if {"ar_invoice", "ap_payment"} <= {i["kind"] for i in items} or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    last = month + dt.timedelta(days=27)
    lines: list[ParsedLine] = []
    invoices = sorted((i for i in items if i["kind"] == "ar_invoice"), key=lambda i: i["number"])
    for k, i in enumerate(invoices[: max(1, len(invoices) * 2 // 3)]):
        on = min(last, month + dt.timedelta(days=5 + k % 20))
        amount, name = Decimal(i["open"]), f"{i['party'][2:].title()} Co."
        if k == 0:  # paid in two parts
            half = (amount / 2).quantize(Decimal("0.01"))
            lines.append(ParsedLine(on, on, half, i["number"], name, "", "Part payment", f"DEMO-B{k}a", "RCDT"))
            lines.append(ParsedLine(last, last, amount - half, i["number"], name, "", "Rest", f"DEMO-B{k}b", "RCDT"))
        else:
            lines.append(ParsedLine(on, on, amount, i["number"], name, "", f"Invoice {i['number']}", f"DEMO-B{k}",
                                    "RCDT"))
    for k, p in enumerate(i for i in items if i["kind"] == "ap_payment"):
        on = dt.date.fromisoformat(p["date"])
        lines.append(ParsedLine(on, on, Decimal(p["open"]), p["number"], p["party"], "", "Supplier payment",
                                f"DEMO-P{k}", "ICDT"))
    lines += [ParsedLine(last, last, Decimal("-35.00"), "", "", "", "Account maintenance fee", "DEMO-F1", "CHRG"),
              ParsedLine(last, last, Decimal("12.68"), "", "", "", "Interest", "DEMO-I1", "INTR")]
    lines.sort(key=lambda ln: ln.booking_date)
    opening = Decimal(account["statement_balance"] or "0.00")
    st = ParsedStatement("any", f"DEMO-{month:%Y%m}", "CNY", opening,
                         opening + sum((ln.amount for ln in lines), Decimal(0)), month, last, tuple(lines),
                         account_number=account["account_number"])
    r = c.post(f"{CASH}/v1/statements", params={"company": "DEMO", "file_name": f"DEMO-{month:%Y%m}.xml"},
               content=bankfiles.write_camt053(st))
    if r.status_code == 422 and r.json()["type"].endswith("duplicate-statement"):
        return {"statement": st.statement_id, "already imported": True}
    got = ok(r)
    return {"statement": st.statement_id, "lines": got["lines"], "closing": str(st.closing_balance),
            **got["reconciliation"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--invoices", type=int, default=30)
    ap.add_argument("--stay", action="store_true", help="keep running (under the process manager)")
    args = ap.parse_args()
    token = mint_token(ServiceSettings(), subject="demo-loader", scopes=ALL_SCOPES, companies=["*"])
    h = {"Authorization": f"Bearer {token}"}
    month = dt.date.today().replace(day=1)
    with httpx.Client(headers=h, timeout=30) as c:
        wait_ready(c, GL)
        wait_ready(c, AR)
        wait_ready(c, INV)
        wait_ready(c, AP)
        wait_ready(c, BUDGET)
        wait_ready(c, demo_group.CONSOL)
        wait_ready(c, CASH)
        r = c.post(f"{GL}/v1/companies", json={"id": "DEMO", "name": "Demo Trading Co., Ltd. (演示贸易有限公司)",
                                               "functional_currency": "CNY", "chart_template": "cas"})
        if r.status_code not in (201, 409):
            sys.exit(f"setting up DEMO failed: {r.status_code} {r.text}")
        for code, name in (("P-100", "Industrial pump"), ("P-200", "Valve kit"), ("F-010", "Feed (t)")):
            c.post(f"{INV}/v1/items", json={"company_id": "DEMO", "code": code, "name": name,
                                            "costing_method": "fifo" if code == "P-100" else "moving_average"})
        c.post(f"{INV}/v1/warehouses", json={"company_id": "DEMO", "code": "WH-SH", "name": "Shanghai"})
        for code in CUSTOMERS:  # AR invoices only customers it knows (credit control)
            c.put(f"{AR}/v1/customers/{code}", json={"company_id": "DEMO", "code": code, "name": code[2:].title(),
                                                     "customer_group": "DOMESTIC", "credit_limit": "1000000.00"}
                  ).raise_for_status()
        for k, (day, idx) in enumerate(((1, 0), (2, 1))):  # two purchase receipts at different prices
            lines = [{"item": code, "quantity": "200", "unit_cost": costs[idx]} for code, costs in UNIT_COST.items()]
            c.post(f"{INV}/v1/receipts", headers={"Idempotency-Key": f"demo-{month:%Y%m}-gr{k}"},
                   json={"company_id": "DEMO", "movement_date": month.replace(day=day).isoformat(),
                         "warehouse": "WH-SH", "partner": "S-STEEL", "reference": f"PO-{k + 1}", "lines": lines}
                   ).raise_for_status()
        gross, n_docs = Decimal(0), 2
        for i, body in enumerate(invoices(month, args.invoices)):
            r = c.post(f"{AR}/v1/invoices", json=body, headers={"Idempotency-Key": f"demo-{month:%Y%m}-{i}"})
            r.raise_for_status()
            gross += Decimal(r.json()["gross_total"])
            n_docs += 1
            stocked = [{"item": ln["item_code"], "quantity": ln["quantity"]} for ln in body["lines"]
                       if ln["item_code"] in UNIT_COST]
            if stocked:  # the warehouse ships what was invoiced
                c.post(f"{INV}/v1/issues", headers={"Idempotency-Key": f"demo-{month:%Y%m}-gi{i}"},
                       json={"company_id": "DEMO", "movement_date": body["issue_date"], "warehouse": "WH-SH",
                             "partner": body["customer_code"], "reference": r.json()["number"], "lines": stocked}
                       ).raise_for_status()
                n_docs += 1
        open_bank_account(c, month)  # AP's payment run pays from it
        n_docs += procure_to_pay(c, month)
        open_sales_order(c, month)  # reserves credit, posts nothing
        approver_token = mint_token(ServiceSettings(), subject="demo-approver", scopes=ALL_SCOPES, companies=["*"])
        with httpx.Client(headers={"Authorization": f"Bearer {approver_token}"}, timeout=30) as approver:
            n_docs += demo_group.load(c, approver, month)
        as_of = (month + dt.timedelta(days=40)).replace(day=1) - dt.timedelta(days=1)
        # Wait until the ledger has at least one journal per document and has stopped growing
        # (re-costing adds CostAdjusted journals the loader cannot count in advance).
        deadline, seen, stable_since = time.monotonic() + 90, -1, time.monotonic()
        while True:
            tb = c.get(f"{GL}/v1/trial-balance", params={"company": "DEMO", "as_of": as_of.isoformat()}).json()
            if tb["journals"] != seen:
                seen, stable_since = tb["journals"], time.monotonic()
            if (seen >= n_docs and time.monotonic() - stable_since > 3) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        cash = cash_month(c, month)
        deadline, stable_since = time.monotonic() + 60, time.monotonic()
        while time.monotonic() < deadline and time.monotonic() - stable_since < 3:  # receipts, fee, interest post
            tb = c.get(f"{GL}/v1/trial-balance", params={"company": "DEMO", "as_of": as_of.isoformat()}).json()
            if tb["journals"] != seen:
                seen, stable_since = tb["journals"], time.monotonic()
            time.sleep(0.5)
    print(f"\nTrial balance of DEMO as of {as_of} ({tb['journals']} journals, "
          f"{'balanced' if tb['balanced'] else 'NOT BALANCED'}); invoices issued: {gross} CNY gross")
    print(f"{'account':<10} {'name':<34} {'debit':>14} {'credit':>14}")
    for ln in tb["lines"]:
        print(f"{ln['account']:<10} {ln['name_en'][:34]:<34} {ln['debit_balance']:>14} {ln['credit_balance']:>14}")
    t = tb["totals"]
    print(f"{'':<10} {'total':<34} {t['debit_balance']:>14} {t['credit_balance']:>14}\n")
    with httpx.Client(headers=h, timeout=30) as c:
        inc = c.get(f"{GL}/v1/statements/income-statement",
                    params={"company": "DEMO", "from": month.isoformat(), "to": as_of.isoformat()}).json()
        val = c.get(f"{INV}/v1/valuation", params={"company": "DEMO", "as_of": as_of.isoformat()}).json()
    cogs = sum((Decimal(x["amount"]) for x in inc["expenses"]["lines"] if x["account"] == "6401"), Decimal(0))
    revenue = Decimal(inc["revenue"]["total"])
    print(f"Revenue {revenue}  cost of sales {cogs}  gross margin {revenue - cogs} "
          f"({(revenue - cogs) / revenue:.1%})  net income {inc['net_income']}")
    print(f"Inventory valuation {val['total_value']} CNY (equals GL account 1405)\n")
    with httpx.Client(headers=h, timeout=30) as c:
        rep = c.get(f"{BUDGET}/v1/reports/budget-vs-actual", params={"company": "DEMO"}).json()
        ageing = c.get(f"{AP}/v1/ageing", params={"company": "DEMO", "as_of": as_of.isoformat()}).json()
    print(f"{'budget line':<28} {'budget':>10} {'actual':>10} {'committed':>10} {'reserved':>10} {'% used':>7}")
    for row in rep["rows"]:
        print(f"{row['cost_centre'] + '/' + row['budget_item'] + '/' + row['period']:<28} {row['budget']:>10} "
              f"{row['actual']:>10} {row['committed']:>10} {row['reserved']:>10} {row['pct_consumed'] or '':>7}")
    print(f"Open payables as of {as_of}: {ageing['total']['total']} CNY\n")
    print("Bank statement " + ", ".join(f"{k}: {v}" for k, v in cash.items()) + "\n")
    with httpx.Client(headers=h, timeout=60) as c:
        demo_forecast.report(c, CASH, "DEMO", as_of, COCKPIT)  # from the loaded month's end: its statement opens it
    with httpx.Client(headers=h, timeout=60) as c:
        demo_group.report(c, month, as_of)
    print(f"Cockpit       {COCKPIT}/overview?company=DEMO&period={as_of:%Y-%m}   (web UI: development sign-in)")
    print(f"GL API docs   {GL}/docs        trial balance: {GL}/v1/trial-balance?company=DEMO&as_of={as_of}")
    print(f"AR API docs   {AR}/docs        invoices:      {AR}/v1/invoices?company=DEMO")
    print(f"Inventory     {INV}/docs        valuation:     {INV}/v1/valuation?company=DEMO")
    print(f"AP API docs   {AP}/docs        ageing:        {AP}/v1/ageing?company=DEMO&as_of={as_of}")
    print(f"Budget        {BUDGET}/docs        report:        {BUDGET}/v1/reports/budget-vs-actual?company=DEMO")
    print(f"Cash          {CASH}/docs        review queue:  {CASH}/v1/reconciliation/lines?company=DEMO&status=review")
    print(f"Cash position {CASH}/v1/cash-position?company=DEMO   bank reconciliation: "
          f"{CASH}/v1/reconciliation/bank-balances?company=DEMO")
    print("gRPC          CreditService 127.0.0.1:50052, BudgetService 127.0.0.1:50056 (reflection on)")
    print(f"Statements    {GL}/v1/statements/income-statement?company=DEMO&from={month}&to={as_of}")
    print("Metrics       /metrics on each service; readiness /readyz")
    print(f"Dev token     export TOKEN={token}")
    print("Ctrl-C stops everything.\n", flush=True)
    if args.stay:
        signal.sigwait({signal.SIGINT, signal.SIGTERM})


if __name__ == "__main__":
    main()
