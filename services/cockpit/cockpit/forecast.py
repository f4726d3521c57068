"""The 13-week cash-flow forecast pages' use cases: cash management's kept forecasts, their
weekly buckets per currency (inflows and outflows by source, forecast vs the bank for the
weeks passed) and the documents behind a bucket. Cash management computes; this only shows."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlencode

from cockpit.adapters.apis import Apis

INFLOWS = ("receivables", "sales_orders")
OUTFLOWS = ("payables", "purchase_orders", "budget")


def documents_link(company: str, forecast_id: str, currency: str, week: int | str, source: str = "") -> str:
    q = {"company": company, "id": forecast_id, "currency": currency, "week": week}
    if source:
        q["source"] = source
    return "/cash/forecast/documents?" + urlencode(q)


async def cash_forecast(apis: Apis, token: str, company: str, forecast_id: str = "") -> dict:
    kept = await apis.get("cashmgmt", "/v1/cash-forecasts", token, company=company, limit=20)
    forecast_id = forecast_id or (kept[0]["id"] if kept else "")
    if not forecast_id:
        return {"kept": kept, "forecast": None, "currencies": []}
    fc = await apis.get("cashmgmt", f"/v1/cash-forecasts/{forecast_id}", token, company=company)
    currencies = []
    for cur in fc["currencies"]:
        c = cur["currency"]
        weeks = []
        for w in cur["weeks"]:
            cells = {s: (w["inflows"].get(s) or w["outflows"].get(s)) for s in (*INFLOWS, *OUTFLOWS)}
            weeks.append({**w, "cells": cells,
                          "links": {s: documents_link(company, fc["id"], c, w["week"], s)
                                    for s, v in cells.items() if v is not None},
                          "link": documents_link(company, fc["id"], c, w["week"]) if w["documents"] else ""})
        currencies.append({**cur, "weeks": weeks,
                           "beyond_link": documents_link(company, fc["id"], c, "beyond")
                           if cur["beyond_documents"] else "",
                           "chart": {"labels": [w["start"] for w in weeks],
                                     "net": [w["net"] for w in weeks],
                                     "closing": [w["closing"] or "NaN" for w in weeks]}})
    return {"kept": kept, "forecast": fc, "currencies": currencies}


async def forecast_documents(apis: Apis, token: str, company: str, forecast_id: str, currency: str, week: str,
                             source: str = "") -> dict:
    got = await apis.get("cashmgmt", f"/v1/cash-forecasts/{forecast_id}/documents", token, company=company,
                         currency=currency, week=week, source=source)
    total = sum((Decimal(d["amount"]) for d in got["documents"]), Decimal(0))
    return {**got, "total": str(total), "back": "/cash/forecast?" + urlencode({"company": company,
                                                                              "id": forecast_id})}


async def make_forecast(apis: Apis, token: str, company: str, as_of: str, idempotency_key: str) -> dict:
    return await apis.post("cashmgmt", "/v1/cash-forecasts", token, idempotency_key=idempotency_key,
                           json={"company_id": company, "as_of": as_of})
