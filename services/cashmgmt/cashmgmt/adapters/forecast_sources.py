"""The forecast's inputs, read from AR's, AP's and the budget's public APIs (never their
databases), with a service token when one is configured, else the caller's own token."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal
from typing import Any

import httpx
from fincore.errors import ProblemError
from opentelemetry import propagate

from cashmgmt.domain.forecast import (
    BudgetMapping,
    BudgetMonth,
    ExpectedPayment,
    Inputs,
    OpenInvoice,
    OpenPurchaseOrder,
    OpenSalesOrder,
    PaidInvoice,
)

D = dt.date.fromisoformat


class SourceUnavailable(ProblemError):
    status, type_, title = 503, "forecast-source-unavailable", "A forecast source did not answer"


class SourceRefused(ProblemError):
    status, type_, title = 502, "forecast-source-refused", "A forecast source refused the request"


class ForecastSources:
    def __init__(self, *, ar_url: str, ap_url: str, budget_url: str, token: str = "", timeout_s: float = 30,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.urls = {"ar": ar_url.rstrip("/"), "ap": ap_url.rstrip("/"), "budget": budget_url.rstrip("/")}
        self.service_token = token
        self.timeout_s, self.transport = timeout_s, transport

    async def _get(self, client: httpx.AsyncClient, service: str, path: str, token: str, **params: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.service_token or token}"}
        propagate.inject(headers)
        try:
            r = await client.get(self.urls[service] + path, params=params, headers=headers)
        except httpx.HTTPError as exc:
            raise SourceUnavailable(f"{service} {path}: {type(exc).__name__}: {exc}") from exc
        if r.status_code >= 500:
            raise SourceUnavailable(f"{service} {path} answered {r.status_code}")
        if r.status_code >= 400:
            try:
                detail = r.json().get("detail") or r.text
            except ValueError:
                detail = r.text
            raise SourceRefused(f"{service} {path} answered {r.status_code}: {detail}", source=service,
                                source_status=r.status_code)
        return r.json()

    async def inputs(self, company: str, as_of: dt.date, token: str, mappings: list[BudgetMapping]) -> Inputs:
        last = as_of + dt.timedelta(weeks=14)
        async with httpx.AsyncClient(timeout=self.timeout_s, transport=self.transport) as c:
            calls = [self._get(c, "ar", "/v1/open-invoices", token, company=company),
                     self._get(c, "ar", "/v1/payment-history", token, company=company),
                     self._get(c, "ar", "/v1/open-sales-orders", token, company=company),
                     self._get(c, "ap", "/v1/expected-payments", token, company=company, as_of=as_of.isoformat()),
                     self._get(c, "ap", "/v1/open-purchase-orders", token, company=company)]
            if mappings:  # the budget is asked only when something of it is mapped
                calls.append(self._get(c, "budget", "/v1/reports/budget-vs-actual", token, company=company,
                                       period_from=f"{as_of:%Y-%m}", period_to=f"{last:%Y-%m}",
                                       group_by="budget_item,period"))
            inv, hist, sos, pays, pos, *budget = await asyncio.gather(*calls)
        return Inputs(
            open_invoices=[OpenInvoice(i["id"], i["number"], i["customer_code"], i["currency"], D(i["due_date"]),
                                       Decimal(i["outstanding"])) for i in inv],
            history=[PaidInvoice(h["customer_code"], D(h["due_date"]), D(h["paid_on"]), Decimal(h["amount"]))
                     for h in hist],
            # an AR or AP of before expected dates lists none: the order date is what it meant
            sales_orders=[OpenSalesOrder(o["id"], o["crm_order_id"], o["customer_code"], o["currency"],
                                         D(o.get("expected_delivery_date") or o["order_date"]),
                                         Decimal(o["not_invoiced"]), int(o["payment_terms_days"]))
                          for o in sos],
            payments=[ExpectedPayment(p["id"], p["number"], p["supplier_code"], p["currency"], D(p["pay_on"]),
                                      Decimal(p["amount"]), p["basis"]) for p in pays],
            purchase_orders=[OpenPurchaseOrder(p["id"], p["number"], p["supplier_code"], p["currency"],
                                               D(p.get("expected_receipt_date") or p["order_date"]),
                                               Decimal(p["not_received"]), int(p["net_days"]))
                             for p in pos],
            budget=[BudgetMonth(b["budget_item"], b["period"], b["currency"],
                                Decimal(b["budget"]) - Decimal(b["consumed"]) - Decimal(b["reserved"]))
                    for rep in budget for b in rep["rows"]],
            mappings=mappings)
