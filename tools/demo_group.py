"""The demo's second company and its group: DEMO-US (USD), 80 % owned by DEMO since the end of last
month, with intercompany sales and an open intercompany balance; consolidated by the
consolidation service (a projection of the GL's events) and printed beside DEMO's own figures.

Used by tools/demo.py; every request carries an Idempotency-Key or is idempotent (PUT)."""

from __future__ import annotations

import datetime as dt
import os
import sys
import time

import httpx

GL = os.environ.get("GL_URL", "http://127.0.0.1:8001")
AR = os.environ.get("AR_URL", "http://127.0.0.1:8002")
CONSOL = os.environ.get("CONSOLIDATION_URL", "http://127.0.0.1:8007")
CASH = os.environ.get("CASHMGMT_URL", "http://127.0.0.1:8005")
SUB, GROUP = "DEMO-US", "DEMO-GROUP"


def _ok(r: httpx.Response) -> dict:
    if r.status_code not in (200, 201, 409):
        sys.exit(f"{r.request.method} {r.request.url} failed: {r.status_code} {r.text}")
    return r.json()


def _journal(c: httpx.Client, approver: httpx.Client, key: str, company: str, on: dt.date, text: str, *lines,
             cash: str = "") -> None:
    r = c.post(f"{GL}/v1/manual-journals", headers={"Idempotency-Key": key}, json={
        "company_id": company, "posting_date": on.isoformat(), "description": text,
        "lines": [{"account": a, "debit": dr, "credit": cr, **({"dimensions": d[0]} if d else {}),
                   **({"cash_flow_item": cash} if a == "1002" else {})} for a, dr, cr, *d in lines]})
    mj = _ok(r)
    if mj.get("status") == "draft":  # posted by a second person (duties are segregated); a re-run finds it posted
        posted = approver.post(f"{GL}/v1/manual-journals/{mj['id']}/post")
        if posted.status_code not in (200, 409, 422):
            sys.exit(f"posting manual journal {mj['id']} failed: {posted.status_code} {posted.text}")


def load(c: httpx.Client, approver: httpx.Client, month: dt.date) -> int:
    """Set up DEMO-US and the group; returns the number of documents it posted in DEMO's ledger."""
    acquired = month - dt.timedelta(days=1)
    start = (acquired.replace(day=1))
    end = (month + dt.timedelta(days=40)).replace(day=1) - dt.timedelta(days=1)
    r = c.post(f"{GL}/v1/companies", json={"id": SUB, "name": "Demo Trading (US) Inc.", "functional_currency": "USD",
                                           "chart_template": "cas"})
    if r.status_code not in (201, 409):
        sys.exit(f"setting up {SUB} failed: {r.status_code} {r.text}")
    _ok(c.put(f"{GL}/v1/companies/DEMO/exchange-rates", json=[
        {"currency": "USD", "rate_date": start.isoformat(), "rate": "7.10"},
        {"currency": "USD", "rate_date": month.isoformat(), "rate": "7.12"}]))
    # DEMO-US before the acquisition; DEMO buys 80 % of it on the last day of last month (a bank loan).
    _journal(c, approver, "demo-us-equity", SUB, start, "Share capital and retained earnings",
                  ("1002", "200000", "0"), ("4001", "0", "150000"), ("4104", "0", "50000"),
             cash="capital_contributed")
    _journal(c, approver, "demo-acquisition", "DEMO", acquired, f"Acquisition of 80 % of {SUB}",
                  ("1511", "1200000", "0", {"intercompany_partner": SUB}), ("2001", "0", "1200000"))
    # DEMO sells pumps to DEMO-US (USD 20,000, export: exempt); DEMO-US sells them on.
    _ok(c.put(f"{AR}/v1/customers/C-DEMO-US", json={
        "company_id": "DEMO", "code": "C-DEMO-US", "name": SUB, "currency": "USD", "credit_limit": "100000.00",
        "intercompany_partner": SUB}))
    inv = _ok(c.post(f"{AR}/v1/invoices", headers={"Idempotency-Key": f"demo-{month:%Y%m}-ic"}, json={
        "company_id": "DEMO", "customer_code": "C-DEMO-US", "currency": "USD",
        "issue_date": month.replace(day=5).isoformat(),
        "lines": [{"description": "Industrial pump (export)", "quantity": "10", "unit_price": "2000.00",
                   "tax_code": "EXEMPT"}]}))
    _journal(c, approver, f"demo-us-{month:%Y%m}-purchase", SUB, month.replace(day=5),
                  f"Pumps bought from DEMO ({inv.get('number', '')}), resold", (
                      "6401", "20000", "0", {"intercompany_partner": "DEMO"}),
                  ("2241", "0", "20000", {"intercompany_partner": "DEMO"}))
    _journal(c, approver, f"demo-us-{month:%Y%m}-sales", SUB, month.replace(day=12), "Sales in the US",
                  ("1002", "34000", "0"), ("6001", "0", "34000"), cash="sales_receipts")
    _journal(c, approver, f"demo-us-{month:%Y%m}-costs", SUB, month.replace(day=20), "Selling costs",
                  ("6601", "6000", "0", {"cost_centre": "SALES-US"}), ("1002", "0", "6000"),
             cash="other_operating_payments")
    # DEMO-US pays 12,000 of the 20,000: the rest is an open intercompany balance.
    _journal(c, approver, f"demo-us-{month:%Y%m}-pay", SUB, month.replace(day=25), "Payment to DEMO",
                  ("2241", "12000", "0", {"intercompany_partner": "DEMO"}), ("1002", "0", "12000"),
             cash="supplier_payments")
    # DEMO receives US dollars on a USD bank account of its own, known to cash management (which
    # then holds its reconciled balance: the receipt, not yet on a statement), not on the CNY
    # BANK-1: otherwise the ledger's bank account would hold USD that no bank account holds
    # (finance-verify I7 "reconciled bank = bank account"). Already open is fine (422).
    r = c.post(f"{CASH}/v1/bank-accounts", json={
        "company_id": "DEMO", "code": "BANK-USD", "name": "Bank of China Shanghai USD account", "currency": "USD",
        "account_number": "4567 8901 2345", "gl_account": "1002", "opened_on": month.isoformat()})
    if r.status_code not in (201, 422):
        sys.exit(f"opening DEMO's USD bank account failed: {r.status_code} {r.text}")
    _ok(c.post(f"{AR}/v1/receipts", headers={"Idempotency-Key": f"demo-{month:%Y%m}-icpay"}, json={
        "company_id": "DEMO", "customer_code": "C-DEMO-US", "receipt_date": month.replace(day=25).isoformat(),
        "amount": "12000.00", "bank_account": "BANK-USD"}))
    # The group.
    _ok(c.put(f"{CONSOL}/v1/groups/{GROUP}", json={
        "name": "Demo group", "presentation_currency": "CNY",
        "parent": {"company_id": "DEMO", "name": "Demo Trading Co., Ltd.", "functional_currency": "CNY",
                   "chart": "cas"}}))
    _ok(c.put(f"{CONSOL}/v1/groups/{GROUP}/subsidiaries/{SUB}", json={
        "company_id": SUB, "name": "Demo Trading (US) Inc.", "functional_currency": "USD", "chart": "cas",
        "acquired_on": acquired.isoformat(), "ownership_pct": "80", "consideration": "1200000",
        "fv_net_assets": "210000"}))
    _ok(c.put(f"{CONSOL}/v1/groups/{GROUP}/rates", json=[
        {"rate_type": "closing", "currency": "USD", "key": end.isoformat(), "rate": "7.15"}]))
    return 3  # DEMO: the acquisition journal, the intercompany invoice, the receipt


def wait_projection(c: httpx.Client, as_of: dt.date, timeout: float = 90) -> None:
    """Until consolidation has every journal the GL has posted for DEMO and DEMO-US."""
    deadline = time.monotonic() + timeout
    for company in ("DEMO", SUB):
        while True:
            gl = c.get(f"{GL}/v1/trial-balance", params={"company": company, "as_of": as_of.isoformat()}).json()
            seen = c.get(f"{CONSOL}/v1/entities/{company}")
            if seen.status_code == 200 and seen.json()["journals"] >= gl["journals"]:
                break
            if time.monotonic() > deadline:
                print(f"consolidation has not caught up with {company}'s ledger; consolidating what it has")
                break
            time.sleep(0.5)


def report(c: httpx.Client, month: dt.date, as_of: dt.date) -> None:
    wait_projection(c, as_of)
    period = f"{month:%Y-%m}"
    r = c.post(f"{CONSOL}/v1/groups/{GROUP}/runs", headers={"Idempotency-Key": f"demo-run-{period}-{time.time()}"},
               json={"period_from": period, "period_to": period})
    if r.status_code != 201:
        print(f"consolidation run failed: {r.status_code} {r.text}")
        return
    run = r.json()
    bs = c.get(f"{GL}/v1/statements/balance-sheet", params={"company": "DEMO", "as_of": as_of.isoformat()}).json()
    inc = c.get(f"{GL}/v1/statements/income-statement",
                params={"company": "DEMO", "from": month.isoformat(), "to": as_of.isoformat()}).json()
    g_bs, g_is = run["balance_sheet"], run["income_statement"]
    eq, sci = g_bs["equity"], run["comprehensive_income"]
    rows = [
        ("Total assets", bs["assets"]["total"], g_bs["total_assets"]),
        ("Total liabilities", bs["liabilities"]["total"], g_bs["total_liabilities"]),
        ("Equity (owners of DEMO)", bs["equity"]["total"], eq["owners"]),
        ("Non-controlling interests", "", eq["nci"]),
        ("Revenue", inc["revenue"]["total"], g_is["revenue"]),
        ("Profit for the month", inc["net_income"], g_is["profit"]),
        ("  of which NCI", "", g_is["attributable"]["nci"]),
        ("Translation difference (OCI)", "", sci["other_comprehensive_income"]
         ["exchange_differences_on_translation"]["total"]),
    ]
    print(f"Consolidated statements of {GROUP} (DEMO + 80 % of {SUB}, CNY) for {period}, run {run['id']} "
          f"({'final' if run['final'] else 'provisional: periods still open'}; "
          f"{'balanced' if g_bs['balanced'] else 'NOT BALANCED'})")
    print(f"{'':<32} {'DEMO (GL)':>16} {'group':>16}")
    for name, own, group in rows:
        print(f"{name:<32} {own:>16} {group:>16}")
    for m in run["mismatches"]:
        print(f"Intercompany {m['entity']}/{m['partner']}: {m['entity_total']} vs {m['partner_total']} "
              f"(difference {m['difference']}: in transit {m['in_transit']}, exchange {m['fx']})")
    for j in c.get(f"{CONSOL}/v1/runs/{run['id']}").json().get("journals", []):
        print(f"  consolidation journal {j['id']}: {j['title']}")
    print(f"Consolidation {CONSOL}/docs        run: {CONSOL}/v1/runs/{run['id']}  "
          f"drill-down: {CONSOL}/v1/runs/{run['id']}/figures/1000\n")
