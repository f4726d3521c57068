"""Consolidation, known answer: a CNY parent and its USD subsidiary post a year through the public
APIs (GL manual journals and rates, AR invoices, AP purchase to invoice, inventory receipts and
issues) on the real broker and PostgreSQL; the consolidation service builds its copy of both
ledgers from finance.gl.events.v1 and consolidates when both have closed December. Every figure
is derived by hand below and must equal the service's to the cent.

The group: P (CNY, China Accounting Standards chart) bought 80 % of S (USD, CAS chart) on
2025-12-31 for CNY 9,000.00; S's identifiable net assets at fair value were USD 1,600.00.
Rates USD -> CNY: P's ledger has 7.0 from 2025-12-01 and 7.2 from 2026-01-01 (published to
consolidation by ExchangeRatesSet): so the historical rate of 2025-12-31 and every day of 2026
is 7.0 / 7.2 and every 2026 month's average is 7.2. The group's rate table gives the closing
rate of 2026-12-31: 7.5.

What happens (P in CNY, S in USD):
  P 2025-12-01  share capital paid in                 Dr bank 30,000           Cr share capital 30,000
  P 2025-12-31  investment in S                       Dr 1511 (S) 9,000        Cr bank 9,000
  S 2025-06-01  S's equity before the acquisition    Dr bank 1,500            Cr capital 1,000, RE 500
  P 2026-01-10  buys 100 widgets at 50.40 (receipt)   Dr inventory 5,040       Cr GRNI 5,040
  S 2026-03-20  administrative expenses               Dr 6602 200              Cr bank 200
  P 2026-04-15  ships the 100 widgets to S            Dr cost of sales 5,040   Cr inventory 5,040
  P 2026-04-15  invoices S USD 1,000 (x 7.2)          Dr AR (S) 7,200          Cr revenue (S) 7,200
  S 2026-04-15  receives them (PO, receipt, invoice)  Dr inventory 1,000       Cr AP (P) 1,000 (via GRNI)
  S 2026-05-10  sells 60 outside for USD 900          Dr AR 900, COGS 600      Cr revenue 900, inventory 600
  S 2026-06-30  pays a dividend of USD 100            Dr RE (P) 100            Cr bank 100
  P 2026-06-30  receives its 80 % (80 x 7.2)          Dr bank 576              Cr investment income (S) 576
The intercompany invoice stays unpaid (an open balance); S still holds 40 widgets bought from P.
"""

from __future__ import annotations

import time
import uuid
from decimal import Decimal

import pytest

pytestmark = pytest.mark.e2e
D = Decimal


def ok(r, status=(200, 201)):
    assert r.status_code in ((status,) if isinstance(status, int) else status), r.text
    return r.json()


def eventually(check, suite, what: str, timeout: float = 180):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached after {timeout}s\n{suite.logs()}")
        time.sleep(0.5)


def company(suite, prefix: str, currency: str, item_cost_currency: str) -> str:
    h = suite.http
    cid = f"{prefix}-{uuid.uuid4().hex[:6]}"
    ok(h.post(f"{suite.gl_url}/v1/companies", json={"id": cid, "name": f"Company {cid}",
                                                      "functional_currency": currency}), 201)
    ok(h.post(f"{suite.inv_url}/v1/items", json={"company_id": cid, "code": "WIDGET", "name": "Widget",
                                                  "costing_method": "moving_average",
                                                  "currency": item_cost_currency}), 201)
    ok(h.post(f"{suite.inv_url}/v1/warehouses", json={"company_id": cid, "code": "WH1", "name": "Main"}), 201)
    return cid


def journal(suite, cid: str, on: str, description: str, *lines, cash: str = "") -> None:
    """lines: (account, debit, credit[, dimensions]); `cash`: the cash-flow item of bank lines."""
    suite.manual_journal({"company_id": cid, "posting_date": on, "description": description, "lines": [
        {"account": a, "debit": dr, "credit": cr, **({"dimensions": dims[0]} if dims else {}),
         **({"cash_flow_item": cash} if a == "1002" else {})} for a, dr, cr, *dims in lines]})


def test_parent_and_foreign_subsidiary_consolidate_to_the_cent(suite):
    h = suite.http
    P = company(suite, "GRP-P", "CNY", "CNY")  # noqa: N806 - the parent, as in the docstring
    S = company(suite, "GRP-S", "USD", "USD")  # noqa: N806 - the subsidiary
    ok(h.put(f"{suite.gl_url}/v1/companies/{P}/exchange-rates", json=[
        {"currency": "USD", "rate_date": "2025-12-01", "rate": "7.0"},
        {"currency": "USD", "rate_date": "2026-01-01", "rate": "7.2"}]))

    # The group: structure, acquisition, the closing rate in the group's table.
    g = f"G-{uuid.uuid4().hex[:6]}"
    ok(h.put(f"{suite.consol_url}/v1/groups/{g}", json={
        "name": "P group", "presentation_currency": "CNY",
        "parent": {"company_id": P, "name": "Parent", "functional_currency": "CNY", "chart": "cas"}}))
    ok(h.put(f"{suite.consol_url}/v1/groups/{g}/subsidiaries/{S}", json={
        "company_id": S, "name": "Sub", "functional_currency": "USD", "chart": "cas", "acquired_on": "2025-12-31",
        "ownership_pct": "80", "consideration": "9000", "fv_net_assets": "1600"}))
    ok(h.put(f"{suite.consol_url}/v1/groups/{g}/rates",
             json=[{"rate_type": "closing", "currency": "USD", "key": "2026-12-31", "rate": "7.5"}]))
    bad = h.put(f"{suite.consol_url}/v1/groups/{g}/rates",
                json=[{"rate_type": "average", "currency": "USD", "key": "2026-12-31", "rate": "7.5"}])
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")

    # Equity and the acquisition (manual journals: drafted by e2e, posted by a second person).
    journal(suite, P, "2025-12-01", "Share capital", ("1002", "30000", "0"), ("4001", "0", "30000"),
            cash="capital_contributed")
    journal(suite, P, "2025-12-31", "Acquisition of 80 % of S", ("1511", "9000", "0", {"intercompany_partner": S}),
            ("1002", "0", "9000"), cash="asset_purchase_payments")
    journal(suite, S, "2025-06-01", "Opening equity", ("1002", "1500", "0"), ("4001", "0", "1000"),
            ("4104", "0", "500"), cash="capital_contributed")
    journal(suite, S, "2026-03-20", "Administration", ("6602", "200", "0", {"cost_centre": "ADMIN"}),
            ("1002", "0", "200"), cash="other_operating_payments")

    # P buys and ships the widgets; invoices S in USD (customer SCO is the group company S).
    ok(h.post(f"{suite.inv_url}/v1/receipts", json={
        "company_id": P, "movement_date": "2026-01-10", "warehouse": "WH1", "partner": "EXT",
        "lines": [{"item": "WIDGET", "quantity": "100", "unit_cost": "50.40"}]}), 201)
    ok(h.post(f"{suite.inv_url}/v1/issues", json={
        "company_id": P, "movement_date": "2026-04-15", "warehouse": "WH1", "partner": "SCO",
        "lines": [{"item": "WIDGET", "quantity": "100"}]}), 201)
    ok(h.put(f"{suite.ar_url}/v1/customers/SCO", json={"company_id": P, "code": "SCO", "name": "S (group)",
                                                        "currency": "USD", "intercompany_partner": S}))
    ic_invoice = ok(h.post(f"{suite.ar_url}/v1/invoices", json={
        "company_id": P, "customer_code": "SCO", "currency": "USD", "issue_date": "2026-04-15",
        "lines": [{"description": "Widgets", "item_code": "WIDGET", "quantity": "100", "unit_price": "10.00",
                   "tax_code": "EXEMPT"}]}, headers={"Idempotency-Key": f"{P}-ic"}), 201)

    # S buys them through AP (budget, requisition, order, receipt, invoice matched to both).
    ok(h.put(f"{suite.budget_url}/v1/budget-items/STOCK", json={"company_id": S, "name": "Stock",
                                                                 "accounts": ["1405"]}))
    v = ok(h.post(f"{suite.budget_url}/v1/budget-versions", json={"company_id": S, "code": "FY2026",
                                                                   "currency": "USD"}), 201)
    ok(h.post(f"{suite.budget_url}/v1/budget-versions/{v['id']}/lines.csv",
              content="cost_centre,budget_item,period,amount,control_mode,tolerance_pct\nOPS,STOCK,2026-04,5000,block,0\n",
              headers={"Content-Type": "text/csv"}))
    ok(h.post(f"{suite.budget_url}/v1/budget-versions/{v['id']}/approve"))
    ok(h.put(f"{suite.ap_url}/v1/suppliers/PCO", json={"company_id": S, "name": "P (group)", "currency": "USD",
                                                        "intercompany_partner": P}))
    req = ok(h.post(f"{suite.ap_url}/v1/requisitions", json={
        "company_id": S, "request_date": "2026-04-10", "currency": "USD",
        "lines": [{"item_code": "WIDGET", "description": "Widgets", "quantity": "100", "unit_price": "10.00",
                   "tax_code": "EXEMPT", "cost_centre": "OPS", "budget_item": "STOCK"}]}), 201)
    po = ok(h.post(f"{suite.ap_url}/v1/purchase-orders", json={
        "requisition_id": req["id"], "supplier_code": "PCO", "order_date": "2026-04-10"}), 201)
    ok(h.post(f"{suite.inv_url}/v1/receipts", json={
        "company_id": S, "movement_date": "2026-04-15", "warehouse": "WH1", "partner": "PCO",
        "reference": po["number"], "lines": [{"item": "WIDGET", "quantity": "100", "unit_cost": "10.00"}]}), 201)
    eventually(lambda: ok(h.get(f"{suite.ap_url}/v1/purchase-orders/{po['id']}"))["lines"][0]["received_qty"]
               == "100", suite, "AP sees S's receipt")
    sinv = ok(h.post(f"{suite.ap_url}/v1/supplier-invoices", json={
        "company_id": S, "kind": "stock", "supplier_code": "PCO", "supplier_invoice_number": ic_invoice["number"],
        "invoice_date": "2026-04-15", "purchase_order": po["number"],
        "stock_lines": [{"item_code": "WIDGET", "quantity": "100", "unit_price": "10.00", "tax_code": "EXEMPT"}]}),
        201)
    assert sinv["status"] == "matched", sinv
    ok(h.post(f"{suite.ap_url}/v1/supplier-invoices/{sinv['id']}/approve"))

    # S sells 60 outside; both book the dividend.
    ok(h.post(f"{suite.inv_url}/v1/issues", json={
        "company_id": S, "movement_date": "2026-05-10", "warehouse": "WH1", "partner": "X1",
        "lines": [{"item": "WIDGET", "quantity": "60"}]}), 201)
    ok(h.put(f"{suite.ar_url}/v1/customers/X1", json={"company_id": S, "code": "X1", "name": "Outside",
                                                       "currency": "USD"}))
    ok(h.post(f"{suite.ar_url}/v1/invoices", json={
        "company_id": S, "customer_code": "X1", "currency": "USD", "issue_date": "2026-05-10",
        "lines": [{"description": "Widgets", "quantity": "60", "unit_price": "15.00", "tax_code": "EXEMPT"}]},
        headers={"Idempotency-Key": f"{S}-x1"}), 201)
    journal(suite, S, "2026-06-30", "Dividend", ("4104", "100", "0", {"intercompany_partner": P}),
            ("1002", "0", "100"), cash="other_operating_payments")
    journal(suite, P, "2026-06-30", "Dividend from S", ("1002", "576", "0"),
            ("6111", "0", "576", {"intercompany_partner": S}), cash="other_operating_receipts")
    # 40 widgets from P are in S's stock at the year end: USD 400 at the transfer price, P's margin
    # (7,200 - 5,040) / 7,200 = 30 %.
    ok(h.put(f"{suite.consol_url}/v1/groups/{g}/ic-inventory", json=[{
        "holder": S, "seller": P, "held_on": "2026-12-31", "amount": "400", "margin_pct": "30",
        "bought_on": "2026-04-15"}]))

    # The ledgers: P 6 journals (3 manual, receipt, issue, invoice), S 7 (3 manual, receipt, AP
    # invoice, issue, AR invoice).
    suite.wait_journals(P, 6)
    suite.wait_journals(S, 7)
    for cid, n in ((P, 6), (S, 7)):
        eventually(lambda c=cid, n=n: (h.get(f"{suite.consol_url}/v1/entities/{c}").json().get("journals") or 0) >= n,
                   suite, f"consolidation has {cid}'s {n} journals")

    # Both close 2026; when both have closed December, the group is consolidated (a final run).
    for m in range(1, 13):
        for cid in (P, S):
            ok(h.post(f"{suite.gl_url}/v1/companies/{cid}/periods/2026-{m:02d}/close", json={"reason": "month end"}))
    run = eventually(lambda: (r := h.get(f"{suite.consol_url}/v1/groups/{g}/runs/latest",
                                         params={"period_to": "2026-12"})).status_code == 200
                     and r.json()["final"] and r.json(), suite, "final consolidation of 2026-12")
    assert run["trigger"] == "period-closed" and run["period_from"] == "2026-01" and run["balanced"]

    # --- S translated at 2026-12-31 --------------------------------------------------------------
    # Assets and liabilities at 7.5: bank 1,200 -> 9,000; inventory 400 -> 3,000; receivable 900 ->
    # 6,750; payable to P 1,000 -> 7,500: net assets 1,500 USD = 11,250.
    # Equity at acquisition at 7.0: capital 7,000 + RE 3,500 = 10,500. Profit at 7.2: revenue 6,480
    # - cost of sales 4,320 - admin 1,440 = 720. Dividend at 7.2 (30 June): 720.
    # CTA = 11,250 - (10,500 + 720 - 720) = 750.
    # --- Acquisition ------------------------------------------------------------------------------
    # Net assets at fair value 1,600 x 7.0 = 11,200 (fair-value adjustment 100 USD = 700);
    # NCI 20 % x 11,200 = 2,240; goodwill = 9,000 + 2,240 - 11,200 = 40.
    # At the closing rate: fair-value adjustment 100 x 7.5 = 750 (+50), goodwill 40 / 7.0 x 7.5 =
    # 42.857 -> 42.86 (+2.86).
    # --- Eliminations -----------------------------------------------------------------------------
    # Intercompany sale: revenue 7,200 (P) against S's cost of sales 7,200.
    # Unrealised profit: 400 USD x 30 % x 7.2 = 864 off S's inventory, onto cost of sales (P's: a
    # downstream sale, all the owners').
    # Open balance: P's receivable USD 1,000 at 7,200 (P has not revalued it), S's payable at 7,500:
    # the same document on both sides (nothing in transit); -300 is the exchange difference, a gain
    # in the group's profit (IAS 21.45).
    # Dividend: S's 720 against P's income 576 and the NCI's 20 % x 720 = 144.
    # NCI: share of profit 20 % x 720 = 144; of OCI 20 % x (750 + 50) = 160;
    # NCI = 2,240 + 144 + 160 - 144 = 2,400 (= 20 % x (11,250 + 750)).
    # --- Income statement 2026 -------------------------------------------------------------------
    # Revenue 7,200 (P) + 6,480 (S) - 7,200 = 6,480. Cost of sales 5,040 + 4,320 - 7,200 + 864 = 3,024.
    # Operating expenses 1,440. Investment income 576 - 576 = 0. Exchange gain 300.
    # Profit = 6,480 - 3,024 - 1,440 + 300 = 2,316: NCI 144, owners 2,172.
    # --- OCI --------------------------------------------------------------------------------------
    # Translation: 750 + 50 + 2.86 = 802.86: NCI 160, owners 642.86. Total comprehensive income
    # 3,118.86: owners 2,814.86, NCI 304.
    # --- Balance sheet 2026-12-31 ----------------------------------------------------------------
    # Cash: P 30,000 - 9,000 + 576 = 21,576 + S 9,000 = 30,576. Receivables: 7,200 + 6,750 - 7,200 =
    # 6,750. Inventories 3,000 - 864 = 2,136. Fair-value adjustment 750, goodwill 42.86, investment 0.
    # Total assets 40,254.86. Liabilities: P's goods received not invoiced 5,040 (S's payable is
    # eliminated). Equity: share capital 30,000 (P's), retained earnings 2,172, translation reserve
    # 642.86, NCI 2,400: 35,214.86; with liabilities 40,254.86.
    # --- Changes in equity -----------------------------------------------------------------------
    # Opening (2025-12-31): capital 30,000, NCI 2,240. Profit: RE 2,172, NCI 144. OCI: reserve 642.86,
    # NCI 160. Dividends: NCI -144. Closing as the balance sheet.
    bs, is_, sci, soce = (run[k] for k in ("balance_sheet", "income_statement", "comprehensive_income",
                                           "changes_in_equity"))
    assert {a["account"]: D(a["amount"]) for a in bs["assets"]} == {
        "1000": D("30576.00"), "1100": D("6750.00"), "1200": D("2136.00"), "1550": D("750.00"), "1700": D("42.86")}
    assert D(bs["total_assets"]) == D("40254.86")
    assert {x["account"]: D(x["amount"]) for x in bs["liabilities"]} == {"2050": D("5040.00")}
    assert {k: D(v) for k, v in bs["equity"].items()} == {
        "share_capital": D("30000.00"), "retained_earnings": D("2172.00"), "translation_reserve": D("642.86"),
        "owners": D("32814.86"), "nci": D("2400.00"), "total": D("35214.86")}
    assert bs["balanced"] and D(bs["total_equity_and_liabilities"]) == D("40254.86")
    assert {x["account"]: D(x["amount"]) for x in is_["lines"]} == {
        "4000": D("6480.00"), "5000": D("3024.00"), "5100": D("1440.00"), "5200": D("-300.00")}
    assert (D(is_["profit"]), D(is_["attributable"]["owners"]), D(is_["attributable"]["nci"])) == (
        D("2316.00"), D("2172.00"), D("144.00"))
    cta = sci["other_comprehensive_income"]["exchange_differences_on_translation"]
    assert (D(cta["total"]), D(cta["owners"]), D(cta["nci"])) == (D("802.86"), D("642.86"), D("160.00"))
    assert (D(sci["total_comprehensive_income"]), D(sci["attributable"]["owners"]), D(sci["attributable"]["nci"])) \
        == (D("3118.86"), D("2814.86"), D("304.00"))
    rows = {k: {c: D(x) for c, x in v.items()} for k, v in soce["rows"].items()}
    assert (rows["opening"]["share_capital"], rows["opening"]["retained_earnings"], rows["opening"]["nci"]) == (
        D("30000.00"), D("0"), D("2240.00"))
    assert (rows["profit"]["retained_earnings"], rows["profit"]["nci"]) == (D("2172.00"), D("144.00"))
    assert (rows["other_comprehensive_income"]["translation_reserve"],
            rows["other_comprehensive_income"]["nci"]) == (D("642.86"), D("160.00"))
    assert rows["dividends"]["nci"] == D("-144.00") and rows["dividends"]["retained_earnings"] == 0
    assert all(v == 0 for v in rows["other"].values())
    assert rows["closing"] == {k: D(v) for k, v in bs["equity"].items()}

    # Mismatch report: the open balance by partner pair, all of it exchange difference.
    [mm] = ok(h.get(f"{suite.consol_url}/v1/runs/{run['id']}/mismatches"))
    assert (D(mm["difference"]), D(mm["in_transit"]), D(mm["fx"]), mm["documents"]) == (
        D("-300.00"), D("0"), D("-300.00"), [])

    # Drill-down: cash -> S -> S's ledger in the GL (USD 1,200 at 7.5 = 9,000).
    cash = ok(h.get(f"{suite.consol_url}/v1/runs/{run['id']}/figures/1000"))
    by_entity = {e["company_id"]: e for e in cash["entities"]}
    assert D(by_entity[S]["amount"]) == D("9000.00") and D(by_entity[P]["amount"]) == D("21576.00")
    [bank] = by_entity[S]["accounts"]
    ledger = ok(h.get(bank["ledger"]))
    assert ledger["company"] == S and D(ledger["lines"][-1]["balance"]) == D("1200.00")
    # Revenue -> the intercompany-sales journal, explained.
    revenue = ok(h.get(f"{suite.consol_url}/v1/runs/{run['id']}/figures/4000"))
    [elim] = [j for j in revenue["journals"] if j["kind"] == "ic_revenue"]
    assert D(elim["amount"]) == D("7200.00")
    explained = ok(h.get(f"{suite.consol_url}{elim['href']}"))
    assert "inside the group" in explained["explanation"] and sum(D(x["amount"]) for x in explained["lines"]) == 0

    # Reproducible: the same inputs give the same figures (and digest). A reopened period flags
    # the final run; a new run is provisional until it is closed again.
    again = ok(h.post(f"{suite.consol_url}/v1/groups/{g}/runs", json={"period_from": "2026-01", "period_to": "2026-12"},
                      headers={"Idempotency-Key": f"{g}-again"}), 201)
    assert again["digest"] == run["digest"] and again["balance_sheet"] == bs and again["final"]
    ok(h.post(f"{suite.gl_url}/v1/companies/{S}/periods/2026-06/reopen", json={"reason": "late invoice"}))
    eventually(lambda: all(x["superseded"] for x in ok(h.get(f"{suite.consol_url}/v1/groups/{g}/runs"))
                           if x["id"] in (run["id"], again["id"])), suite, "runs flagged after the reopen")
    provisional = ok(h.post(f"{suite.consol_url}/v1/groups/{g}/runs",
                            json={"period_from": "2026-01", "period_to": "2026-12"},
                            headers={"Idempotency-Key": f"{g}-reopened"}), 201)
    assert not provisional["final"] and provisional["balance_sheet"] == bs
