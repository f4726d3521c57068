"""Read-only routes a cash-flow forecast calls (cash management, with an ar:read token)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fincore.auth import Authenticator, Principal
from fincore.dates import Date
from fincore.db import Database
from fincore.http import service_router

from ar.service.collections import open_invoices, open_sales_orders, payment_history


def build_collections_router(db: Database, auth: Authenticator) -> APIRouter:
    r = service_router(prefix="/v1", tags=["receipts"])
    read = auth.require("ar:read")

    @r.get("/open-invoices", summary="Open invoices of a company with what is still outstanding, by due date")
    async def get_open_invoices(company: str, principal: Principal = Depends(read)) -> list[dict]:
        principal.require_company(company)
        async with db.sessions() as s:
            return await open_invoices(s, company)

    @r.get("/payment-history", summary="Every receipt applied to an invoice: when the cash came beside the "
                                       "invoice's due date (what a forecast learns customers' habits from)")
    async def get_payment_history(company: str, since: Date | None = None,
                                  principal: Principal = Depends(read)) -> list[dict]:
        principal.require_company(company)
        async with db.sessions() as s:
            return await payment_history(s, company, since)

    @r.get("/open-sales-orders", tags=["sales orders"],
           summary="Accepted sales orders not yet fully invoiced, with when each is expected to ship (and be "
                   "invoiced) and the customer's payment terms, by expected delivery date")
    async def get_open_orders(company: str, principal: Principal = Depends(read)) -> list[dict]:
        principal.require_company(company)
        async with db.sessions() as s:
            return await open_sales_orders(s, company)

    return r
