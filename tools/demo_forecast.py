"""The demo's 13-week cash-flow forecast: cash management makes it for DEMO from what AR, AP
and the budget hold (through their APIs), keeps it, and the loader prints it week by week."""

from __future__ import annotations

import datetime as dt

import httpx

SOURCES = (("receivables", "AR invoices"), ("sales_orders", "sales ord."), ("payables", "AP invoices"),
           ("purchase_orders", "purch. ord."), ("budget", "budget"))


def report(c: httpx.Client, cash_url: str, company: str, as_of: dt.date, cockpit_url: str) -> None:
    # the month's travel budget not yet spent is paid out on the 28th (a recurring item mapped to the forecast)
    c.put(f"{cash_url}/v1/forecast-budget-items/TRAVEL", params={"company": company},
          json={"direction": "out", "day_of_month": 28})
    r = c.post(f"{cash_url}/v1/cash-forecasts", json={"company_id": company, "as_of": as_of.isoformat()})
    if r.status_code != 201:
        print(f"Cash forecast of {company}: {r.status_code} {r.text}\n")
        return
    fc = r.json()
    late = ", ".join(f"{k} {v:+d}" for k, v in sorted(fc["days_late"].items())) or "no payment history yet"
    print(f"13-week cash forecast of {company} as of {as_of} (kept as {fc['id']}; customers' average days late: "
          f"{late})")
    for cur in fc["currencies"]:
        c_ = cur["currency"]
        print(f"{c_}, opening balance (bank) {cur['opening'] or '-'}")
        print(f"{'week':>4} {'from':<10} " + " ".join(f"{label:>12}" for _, label in SOURCES)
              + f" {'net':>12} {'closing':>12}")
        for w in cur["weeks"]:
            cells = [w["inflows"].get(s) or w["outflows"].get(s) or "" for s, _ in SOURCES]
            print(f"{w['week']:>4} {w['start']:<10} " + " ".join(f"{x:>12}" for x in cells)
                  + f" {w['net']:>12} {w['closing'] or '':>12}")
        print(f"{'':>4} {'later':<10} {cur['beyond']:>12} ({cur['beyond_documents']} document(s) after week 13)")
    print(f"Forecast page {cockpit_url}/cash/forecast?company={company}&id={fc['id']}\n")
