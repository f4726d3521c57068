"""Read-only routes a cash-flow forecast calls (cash management, with an ap:read token)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fincore.auth import Authenticator, Principal
from fincore.dates import Date
from fincore.db import Database
from fincore.http import service_router

from ap.service.outlook import expected_payments, open_purchase_orders


def build_outlook_router(db: Database, auth: Authenticator) -> APIRouter:
    r = service_router(prefix="/v1", tags=["payments"])
    read = auth.require("ap:read")

    @r.get("/expected-payments", summary="Each approved, unpaid invoice with the date and amount the payment run "
                                         "would pay it (its open run; its discount date where the discount is "
                                         "still open; else its due date)")
    async def get_expected(company: str, as_of: Date, principal: Principal = Depends(read)) -> list[dict]:
        principal.require_company(company)
        async with db.sessions() as s:
            return await expected_payments(s, company, as_of)

    @r.get("/open-purchase-orders", tags=["purchasing"],
           summary="Open purchase orders with the value (VAT included) not yet received and when the goods "
                   "are expected in, by expected receipt date")
    async def get_open_orders(company: str, principal: Principal = Depends(read)) -> list[dict]:
        principal.require_company(company)
        async with db.sessions() as s:
            return await open_purchase_orders(s, company)

    return r
