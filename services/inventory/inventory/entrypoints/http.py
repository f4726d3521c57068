"""Inventory HTTP API (/v1): items, warehouses, movements (from a WMS), valuation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Response
from fincore import money
from fincore.auth import Authenticator, Principal, get_owned
from fincore.dates import Date
from fincore.db import Database
from fincore.errors import Conflict, Unprocessable
from fincore.http import service_router
from fincore.money import CurrencyCode
from fincore.schemas import StrictModel
from pydantic import ConfigDict, Field
from sqlalchemy.exc import IntegrityError

from inventory.adapters.tables import Item, Movement, MovementDoc, Warehouse
from inventory.service.movements import (
    InventoryError,
    LineIn,
    record_document,
    record_transfer,
    valuation,
)

Code = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\-]+$")]


class ItemIn(StrictModel):
    model_config = ConfigDict(extra="forbid")
    company_id: Code
    code: Code
    name: str = Field(min_length=1, max_length=200)
    category: str = Field("GOODS", max_length=40)
    unit: str = Field("pcs", max_length=12)
    costing_method: Literal["moving_average", "fifo"]
    currency: CurrencyCode = "CNY"


class WarehouseIn(StrictModel):
    model_config = ConfigDict(extra="forbid")
    company_id: Code
    code: Code
    name: str = Field(min_length=1, max_length=200)


class MovementLineIn(StrictModel):
    model_config = ConfigDict(extra="forbid")
    item: Code
    quantity: Decimal = Field(Decimal(0), ge=0, max_digits=20, decimal_places=6)
    unit_cost: Decimal | None = Field(None, ge=0, max_digits=20, decimal_places=6,
                                      description="receipts: quantity x unit cost must be at least the minor unit")
    returns_document: str | None = Field(None, max_length=40, description="a return: the issue (customer return) "
                                         "or receipt (return to the supplier) it returns, e.g. GI-2026-000001")
    returns_line: int | None = Field(None, ge=1, description="that document's line, when the item is on several")
    returns_movement_id: str | None = Field(None, max_length=36, description="alternative to returns_document")
    counted_quantity: Decimal | None = Field(None, ge=0, max_digits=20, decimal_places=6)


class TransferIn(StrictModel):
    model_config = ConfigDict(extra="forbid")
    company_id: Code
    movement_date: dt.date
    warehouse: Code = Field(description="from")
    to_warehouse: Code
    reference: str = Field("", max_length=80)
    lines: list[MovementLineIn] = Field(min_length=1, max_length=2000)


class DocumentIn(StrictModel):
    model_config = ConfigDict(extra="forbid")
    company_id: Code
    movement_date: dt.date
    warehouse: Code
    partner: str = Field("", max_length=40, description="supplier (receipts) or customer (issues, returns)")
    reference: str = Field("", max_length=80, description="purchase or sales order reference; count reason")
    lines: list[MovementLineIn] = Field(min_length=1, max_length=2000)


def build_router(db: Database, auth: Authenticator) -> APIRouter:
    r = service_router(prefix="/v1", tags=["inventory"])
    read, write = auth.require("inventory:read"), auth.require("inventory:write")

    @r.post("/items", status_code=201, summary="Create an item (costing method is fixed once stock moves)")
    async def post_item(body: ItemIn, principal: Principal = Depends(write)) -> dict:
        principal.require_company(body.company_id)
        try:
            async with db.transaction() as s:
                s.add(Item(**body.model_dump()))
        except IntegrityError:
            raise Conflict(f"item {body.code} exists") from None
        return body.model_dump()

    @r.post("/warehouses", status_code=201, summary="Create a warehouse")
    async def post_warehouse(body: WarehouseIn, principal: Principal = Depends(write)) -> dict:
        principal.require_company(body.company_id)
        try:
            async with db.transaction() as s:
                s.add(Warehouse(**body.model_dump()))
        except IntegrityError:
            raise Conflict(f"warehouse {body.code} exists") from None
        return body.model_dump()

    async def post_doc(kind: str, body: DocumentIn | TransferIn, response: Response, principal: Principal,
                       record=None):
        """Record a WMS document (or what `record(session)` records); retries are answered by the
        shared Idempotency-Key mechanism (fincore.idempotency)."""
        principal.require_company(body.company_id)
        lines = [LineIn(**ln.model_dump()) for ln in body.lines]
        record = record or (lambda s: record_document(
            s, company=body.company_id, kind=kind, movement_date=body.movement_date, warehouse=body.warehouse,
            partner=body.partner, reference=body.reference, lines=lines))
        try:
            async with db.transaction() as s:
                doc, _ = await record(s)
        except InventoryError as exc:
            raise Unprocessable(str(exc)) from exc
        response.headers["Location"] = f"/v1/movements/{doc.id}"
        return await doc_json(doc.id)

    async def doc_json(doc_id: str) -> dict:
        async with db.sessions() as s:
            doc = await s.get(MovementDoc, doc_id)
            ms = (await s.execute(sa.select(Movement).where(Movement.doc_id == doc_id)
                                  .order_by(Movement.line_no))).scalars().all()
            cur = {i.code: i.currency for i in (await s.execute(
                sa.select(Item).where(Item.company_id == doc.company_id))).scalars()}
        item_currency = cur.get(ms[0].item_code, "CNY") if ms else "CNY"  # a document's items share a company
        return {"id": doc.id, "number": doc.number, "kind": doc.kind, "company_id": doc.company_id,
                "movement_date": doc.movement_date.isoformat(), "warehouse": doc.warehouse, "partner": doc.partner,
                "reference": doc.reference,
                "lines": [{"movement_id": m.id, "line_no": m.line_no, "item": m.item_code, "kind": m.kind,
                           "quantity": format(m.quantity.normalize(), "f"),
                           "unit_cost": money.format_price(m.cost / m.quantity, item_currency) if m.quantity else None,
                           "cost": money.format_amount(m.cost, item_currency)} for m in ms],
                "total_cost": money.format_amount(sum((m.cost for m in ms if m.kind != "transfer_in"), Decimal(0)),
                                                  item_currency)}

    @r.post("/receipts", status_code=201, summary="Goods received (purchase), with unit costs")
    async def post_receipt(body: DocumentIn, response: Response,
                           principal: Principal = Depends(write)) -> dict:
        return await post_doc("receipt", body, response, principal)

    @r.post("/issues", status_code=201, summary="Goods issued (sale): costed, GoodsIssued carries the COGS")
    async def post_issue(body: DocumentIn, response: Response,
                         principal: Principal = Depends(write)) -> dict:
        return await post_doc("issue", body, response, principal)

    @r.post("/returns", status_code=201, summary="Customer return, re-entered at the original issue's cost")
    async def post_return(body: DocumentIn, response: Response,
                          principal: Principal = Depends(write)) -> dict:
        return await post_doc("customer_return", body, response, principal)

    @r.post("/supplier-returns", status_code=201, summary="Goods returned to the supplier, at their cost")
    async def post_supplier_return(body: DocumentIn, response: Response,
                                   principal: Principal = Depends(write)) -> dict:
        return await post_doc("supplier_return", body, response, principal)

    @r.post("/transfers", status_code=201, summary="Move goods between warehouses at their cost (in date order)")
    async def post_transfer(body: TransferIn, response: Response,
                            principal: Principal = Depends(write)) -> dict:
        return await post_doc("transfer", body, response, principal, lambda s: record_transfer(
            s, company=body.company_id, movement_date=body.movement_date, from_warehouse=body.warehouse,
            to_warehouse=body.to_warehouse, reference=body.reference,
            lines=[LineIn(**ln.model_dump()) for ln in body.lines]))

    @r.post("/counts", status_code=201, summary="Stock count: differences become adjustments")
    async def post_count(body: DocumentIn, response: Response,
                         principal: Principal = Depends(write)) -> dict:
        return await post_doc("count", body, response, principal)

    @r.get("/movements/{doc_id}", summary="A movement document with its costs")
    async def get_doc(doc_id: str, principal: Principal = Depends(read)) -> dict:
        async with db.sessions() as s:
            await get_owned(s, MovementDoc, doc_id, principal, "movement document")
        return await doc_json(doc_id)

    @r.get("/valuation", summary="Quantity and value per item and warehouse as of a date")
    async def get_valuation(company: str, as_of: Date = Query(default_factory=dt.date.today),
                            warehouse: str | None = None, principal: Principal = Depends(read)) -> dict:
        principal.require_company(company)
        async with db.sessions() as s:
            return await valuation(s, company, as_of, warehouse)

    return r
