"""Cash-flow forecast API: make a 13-week forecast (kept as a snapshot), read its weekly
buckets per currency with forecast vs actual for the weeks passed, drill into a bucket's
documents, and map budget items to the forecast."""

from __future__ import annotations

from typing import Annotated, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from fincore.auth import Authenticator, Principal
from fincore.dates import Date
from fincore.db import Database
from fincore.errors import NotFound, Unprocessable
from fincore.http import Page, pagination, service_router
from fincore.money import CurrencyCode
from fincore.schemas import StrictModel
from pydantic import Field

from cashmgmt.adapters.forecast_sources import ForecastSources
from cashmgmt.adapters.forecast_tables import CashForecast, ForecastBudgetMapping
from cashmgmt.domain.forecast import SOURCES, WEEKS, ForecastError
from cashmgmt.service.forecast import (
    MappingError,
    bucket_documents,
    forecast_json,
    header_json,
    make_forecast,
    map_budget_item,
    mappings,
    unmap_budget_item,
)

Code = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\-]+$")]


class ForecastIn(StrictModel):
    company_id: Code
    as_of: Date = Field(description="the forecast's day: week 1 is the week (Monday to Sunday) holding it")


class BudgetMappingIn(StrictModel):
    direction: Literal["in", "out"] = Field("out", description="out: paid (rent, salaries); in: received")
    day_of_month: int = Field(ge=1, le=31, description="the day of each month the money moves (past a month's "
                                                       "end: its last day)")


def _mapping_json(m: ForecastBudgetMapping) -> dict:
    return {"budget_item": m.budget_item, "direction": m.direction, "day_of_month": m.day_of_month,
            "updated_by": m.updated_by, "updated_at": m.updated_at.isoformat()}


def build_forecast_router(db: Database, auth: Authenticator, sources: ForecastSources) -> APIRouter:
    r = service_router(prefix="/v1", tags=["forecast"])
    read, write = auth.require("cashmgmt:read"), auth.require("cashmgmt:write")

    @r.post("/cash-forecasts", status_code=201,
            summary="Make a 13-week cash-flow forecast of a company from AR, AP and the budget, and keep it")
    async def post_forecast(body: ForecastIn, request: Request, principal: Principal = Depends(write)) -> dict:
        principal.require_company(body.company_id)
        token = request.headers.get("authorization", "").partition(" ")[2]
        try:
            fc = await make_forecast(db, sources, company=body.company_id, as_of=body.as_of, token=token,
                                     actor=principal.subject)
        except ForecastError as exc:
            raise Unprocessable(str(exc)) from exc
        async with db.sessions() as s:
            return await forecast_json(s, fc)

    @r.get("/cash-forecasts", summary="Forecasts kept for a company, newest first")
    async def list_forecasts(company: str, page: Page = Depends(pagination()),
                             principal: Principal = Depends(read)) -> list[dict]:
        principal.require_company(company)
        async with db.sessions() as s:
            rows = (await s.execute(sa.select(CashForecast).where(CashForecast.company_id == company)
                                    .order_by(CashForecast.created_at.desc()).limit(page.limit)
                                    .offset(page.offset))).scalars().all()
        return [header_json(fc) for fc in rows]

    async def _fc(s, forecast_id: str, company: str, principal: Principal) -> CashForecast:
        principal.require_company(company)
        fc = await s.get(CashForecast, forecast_id)
        if fc is None or fc.company_id != company:
            raise NotFound(f"no forecast {forecast_id} of {company}")
        return fc

    @r.get("/cash-forecasts/{forecast_id}",
           summary="A forecast's weekly buckets per currency (inflows and outflows by source, closing balance), "
                   "with the bank's actuals for the weeks it has fully reported")
    async def get_forecast(forecast_id: str, company: str, principal: Principal = Depends(read)) -> dict:
        async with db.sessions() as s:
            return await forecast_json(s, await _fc(s, forecast_id, company, principal))

    @r.get("/cash-forecasts/{forecast_id}/documents",
           summary="The documents behind one bucket: a week (1-13, or beyond) of a currency, optionally one source")
    async def get_documents(forecast_id: str, company: str, currency: CurrencyCode,
                            week: Annotated[int | Literal["beyond"], Query(description=f"1..{WEEKS} or beyond")],
                            source: Literal[SOURCES] | None = None,  # type: ignore[valid-type]
                            principal: Principal = Depends(read)) -> dict:
        if week != "beyond" and not 1 <= week <= WEEKS:
            raise Unprocessable(f"week is 1..{WEEKS} or beyond")
        async with db.sessions() as s:
            fc = await _fc(s, forecast_id, company, principal)
            docs = await bucket_documents(s, fc, currency, None if week == "beyond" else week, source or "")
        return {**header_json(fc), "currency": currency, "week": week, "source": source, "documents": docs}

    @r.get("/forecast-budget-items", summary="Budget items mapped to the forecast (recurring payments or receipts)")
    async def list_mappings(company: str, principal: Principal = Depends(read)) -> list[dict]:
        principal.require_company(company)
        async with db.sessions() as s:
            return [_mapping_json(m) for m in await mappings(s, company)]

    @r.put("/forecast-budget-items/{budget_item}",
           summary="Map a budget item to the forecast: each month's budget not yet spent moves on a day of the month")
    async def put_mapping(budget_item: Code, company: str, body: BudgetMappingIn,
                          principal: Principal = Depends(write)) -> dict:
        principal.require_company(company)
        try:
            async with db.transaction() as s:
                m = await map_budget_item(s, company, budget_item, direction=body.direction,
                                          day_of_month=body.day_of_month, actor=principal.subject)
        except MappingError as exc:
            raise Unprocessable(str(exc)) from exc
        return _mapping_json(m)

    @r.delete("/forecast-budget-items/{budget_item}", status_code=204, summary="Take a budget item off the forecast")
    async def delete_mapping(budget_item: str, company: str, principal: Principal = Depends(write)) -> None:
        principal.require_company(company)
        try:
            async with db.transaction() as s:
                await unmap_budget_item(s, company, budget_item)
        except LookupError as exc:
            raise NotFound(str(exc)) from exc

    return r
