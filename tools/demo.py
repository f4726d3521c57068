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

import httpx
from fincore.auth import ALL_SCOPES, mint_token
from fincore.settings import ServiceSettings

GL = os.environ.get("GL_URL", "http://127.0.0.1:8001")
AR = os.environ.get("AR_URL", "http://127.0.0.1:8002")
INV = os.environ.get("INVENTORY_URL", "http://127.0.0.1:8004")
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
        r = c.post(f"{GL}/v1/companies", json={"id": "DEMO", "name": "Demo Trading Co., Ltd. (演示贸易有限公司)",
                                               "functional_currency": "CNY", "chart_template": "cas"})
        if r.status_code not in (201, 409):
            sys.exit(f"setting up DEMO failed: {r.status_code} {r.text}")
        for code, name in (("P-100", "Industrial pump"), ("P-200", "Valve kit"), ("F-010", "Feed (t)")):
            c.post(f"{INV}/v1/items", json={"company_id": "DEMO", "code": code, "name": name,
                                            "costing_method": "fifo" if code == "P-100" else "moving_average"})
        c.post(f"{INV}/v1/warehouses", json={"company_id": "DEMO", "code": "WH-SH", "name": "Shanghai"})
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
        as_of = (month + dt.timedelta(days=40)).replace(day=1) - dt.timedelta(days=1)
        deadline = time.monotonic() + 60
        while True:
            tb = c.get(f"{GL}/v1/trial-balance", params={"company": "DEMO", "as_of": as_of.isoformat()}).json()
            if tb["journals"] >= n_docs or time.monotonic() > deadline:
                break
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
    print(f"GL API docs   {GL}/docs        trial balance: {GL}/v1/trial-balance?company=DEMO&as_of={as_of}")
    print(f"AR API docs   {AR}/docs        invoices:      {AR}/v1/invoices?company=DEMO")
    print(f"Inventory     {INV}/docs        valuation:     {INV}/v1/valuation?company=DEMO")
    print(f"Statements    {GL}/v1/statements/income-statement?company=DEMO&from={month}&to={as_of}")
    print("Metrics       /metrics on each service; readiness /readyz")
    print(f"Dev token     export TOKEN={token}")
    print("Ctrl-C stops everything.\n", flush=True)
    if args.stay:
        signal.sigwait({signal.SIGINT, signal.SIGTERM})


if __name__ == "__main__":
    main()
