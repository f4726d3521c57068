"""Budget HTTP API: items, versions (import and approval), lines, the budget report."""

from __future__ import annotations

import csv
import io
import itertools
from decimal import Decimal, InvalidOperation
from typing import Annotated, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Body, Depends, Query
from fincore import money
from fincore.auth import Authenticator, Principal, get_owned
from fincore.db import Database
from fincore.errors import Conflict, Unprocessable
from fincore.http import Page, pagination, service_router
from fincore.money import CurrencyCode, MoneyError
from fincore.rates import converted_from_json
from fincore.schemas import StrictModel
from pydantic import ConfigDict, Field

from budget.adapters.tables import (
    Actual,
    BudgetItem,
    BudgetLine,
    BudgetVersion,
    ItemAccount,
    Reservation,
    VersionLine,
)
from budget.service.budgets import BudgetDataError, LineIn, add_lines, approve, create_version, upsert_item
from budget.service.report import GROUPS, budget_report

Code = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\-]+$")]
CSV_COLUMNS = ("cost_centre", "budget_item", "period", "amount", "control_mode", "tolerance_pct")
MAX_LINES = 5000  # per request, JSON or CSV alike (an import sends a larger budget in chunks)


class ItemIn(StrictModel):
    model_config = ConfigDict(extra="forbid")
    company_id: Code
    name: str = Field(min_length=1, max_length=200)
    accounts: list[Annotated[str, Field(min_length=1, max_length=20)]] = Field(
        min_length=1, description="GL accounts whose postings are actuals of this item")


class VersionIn(StrictModel):
    model_config = ConfigDict(extra="forbid")
    company_id: Code
    code: Code
    kind: Literal["original", "revised"] = "original"
    currency: CurrencyCode
    description: str = Field("", max_length=300)


class BudgetLineIn(StrictModel):
    model_config = ConfigDict(extra="forbid")
    cost_centre: Code
    budget_item: Code
    period: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    amount: Decimal = Field(ge=0, max_digits=20, decimal_places=4, description="at the version currency's minor unit")
    control_mode: Literal["block", "warn", "none"] = "block"
    tolerance_pct: Decimal = Field(Decimal(0), ge=0, le=100, max_digits=7, decimal_places=3)


class LinesIn(StrictModel):
    model_config = ConfigDict(extra="forbid")
    lines: list[BudgetLineIn] = Field(min_length=1, max_length=MAX_LINES)


def _version_json(v: BudgetVersion, lines: int | None = None) -> dict:
    return {"id": v.id, "company_id": v.company_id, "code": v.code, "kind": v.kind, "currency": v.currency,
            "status": v.status, "description": v.description, "created_by": v.created_by,
            "approved_by": v.approved_by, "approved_at": v.approved_at.isoformat() if v.approved_at else None,
            **({"lines": lines} if lines is not None else {})}


def parse_csv(text: str) -> list[BudgetLineIn]:
    """CSV with a header row: cost_centre,budget_item,period,amount[,control_mode][,tolerance_pct]
    (other columns are ignored; quoted fields may hold commas and newlines). At most MAX_LINES
    lines, like the JSON body."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        missing = {"cost_centre", "budget_item", "period", "amount"} - set(reader.fieldnames or [])
    except csv.Error as exc:
        raise Unprocessable(f"CSV header: {exc}") from exc
    if missing:
        raise Unprocessable(f"CSV header lacks {', '.join(sorted(missing))} (columns: {', '.join(CSV_COLUMNS)})")
    rows, errors = [], []
    try:
        records = list(itertools.islice(reader, MAX_LINES + 1))
    except csv.Error as exc:
        raise Unprocessable(f"CSV row {reader.line_num}: {exc}") from exc
    if len(records) > MAX_LINES:
        raise Unprocessable(f"the CSV holds more than {MAX_LINES} lines: send a larger budget in chunks "
                            "(finance-budget import --chunk)")
    for n, row in enumerate(records, start=2):
        try:
            values = {k: (row.get(k) or "").strip() for k in CSV_COLUMNS}
            rows.append(BudgetLineIn(**{k: v for k, v in values.items() if v}))
        except (ValueError, InvalidOperation) as exc:
            errors.append(f"row {n}: {str(exc).splitlines()[0] if str(exc) else exc}")
    if errors:
        raise Unprocessable("; ".join(errors[:20]))
    if not rows:
        raise Unprocessable("the CSV holds no lines")
    return rows


def build_router(db: Database, auth: Authenticator) -> APIRouter:
    r = service_router(prefix="/v1", tags=["budget"])
    read, write = auth.require("budget:read"), auth.require("budget:write")

    @r.put("/budget-items/{code}", summary="Create or change a budget item and the GL accounts mapped to it")
    async def put_item(code: Code, body: ItemIn, principal: Principal = Depends(write)) -> dict:
        principal.require_company(body.company_id)
        try:
            async with db.transaction() as s:
                await upsert_item(s, body.company_id, code, body.name, body.accounts)
        except BudgetDataError as exc:
            raise Conflict(str(exc)) from exc
        return {"code": code, **body.model_dump()}

    @r.get("/budget-items", summary="Budget items with their accounts")
    async def list_items(company: str, principal: Principal = Depends(read)) -> list[dict]:
        principal.require_company(company)
        async with db.sessions() as s:
            items = (await s.execute(sa.select(BudgetItem).where(BudgetItem.company_id == company)
                                     .order_by(BudgetItem.code))).scalars().all()
            accts = (await s.execute(sa.select(ItemAccount).where(ItemAccount.company_id == company))).scalars().all()
        by_item: dict[str, list[str]] = {}
        for a in accts:
            by_item.setdefault(a.budget_item, []).append(a.account_code)
        return [{"code": i.code, "name": i.name, "accounts": sorted(by_item.get(i.code, []))} for i in items]

    @r.post("/budget-versions", status_code=201, summary="Open a draft budget version (original or revised)")
    async def post_version(body: VersionIn, principal: Principal = Depends(write)) -> dict:
        principal.require_company(body.company_id)
        try:
            async with db.transaction() as s:
                v = await create_version(s, company=body.company_id, code=body.code, kind=body.kind,
                                         currency=body.currency, description=body.description,
                                         created_by=principal.subject)
        except MoneyError as exc:
            raise Unprocessable(str(exc)) from exc
        except BudgetDataError as exc:
            raise Conflict(str(exc)) from exc
        return _version_json(v, 0)

    async def _version(s, version_id: str, principal: Principal) -> BudgetVersion:
        return await get_owned(s, BudgetVersion, version_id, principal, "budget version")

    async def _add(version_id: str, lines: list[BudgetLineIn], principal: Principal) -> dict:
        try:
            async with db.transaction() as s:
                v = await _version(s, version_id, principal)
                n = await add_lines(s, v, [LineIn(**ln.model_dump()) for ln in lines])
                total = (await s.execute(sa.select(sa.func.count()).where(VersionLine.version_id == v.id))).scalar()
        except BudgetDataError as exc:
            raise Unprocessable(str(exc)) from exc
        return {"added": n, **_version_json(v, total)}

    @r.post("/budget-versions/{version_id}/lines", summary="Add or replace lines of a draft version (JSON)")
    async def post_lines(version_id: str, body: LinesIn, principal: Principal = Depends(write)) -> dict:
        return await _add(version_id, body.lines, principal)

    @r.post("/budget-versions/{version_id}/lines.csv",
            summary="Import lines of a draft version from CSV (header: " + ",".join(CSV_COLUMNS) + ")",
            openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}}})
    async def post_lines_csv(version_id: str, body: Annotated[bytes, Body(media_type="text/csv")],
                             principal: Principal = Depends(write)) -> dict:
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise Unprocessable("the CSV must be UTF-8") from exc
        return await _add(version_id, parse_csv(text), principal)

    @r.post("/budget-versions/{version_id}/approve", summary="Approve: the version's lines become the budget")
    async def post_approve(version_id: str, principal: Principal = Depends(write)) -> dict:
        try:
            async with db.transaction() as s:
                v = await _version(s, version_id, principal)
                n = await approve(s, v, principal.subject)
        except BudgetDataError as exc:
            raise Unprocessable(str(exc)) from exc
        return _version_json(v, n)

    @r.get("/budget-versions", summary="Versions of a company's budget")
    async def list_versions(company: str, principal: Principal = Depends(read)) -> list[dict]:
        principal.require_company(company)
        async with db.sessions() as s:
            vs = (await s.execute(sa.select(BudgetVersion).where(BudgetVersion.company_id == company)
                                  .order_by(BudgetVersion.created_at))).scalars().all()
        return [_version_json(v) for v in vs]

    @r.get("/reservations", summary="Reservations (encumbrances) of a company, optionally of one document")
    async def list_reservations(company: str, document_ref: str | None = None,
                                principal: Principal = Depends(read)) -> list[dict]:
        principal.require_company(company)
        async with db.sessions() as s:
            q = sa.select(Reservation, BudgetLine).join(BudgetLine, BudgetLine.id == Reservation.line_id).where(
                Reservation.company_id == company)
            if document_ref:
                q = q.where(Reservation.document_ref.startswith(document_ref, autoescape=True))
            rows = (await s.execute(q.order_by(Reservation.created_at).limit(1000))).all()
        return [{"document_ref": res.document_ref, "cost_centre": ln.cost_centre, "budget_item": ln.budget_item,
                 "period": ln.period, "currency": ln.currency,
                 "requested": money.format_amount(res.requested, ln.currency),
                 "reserved": money.format_amount(res.amount, ln.currency),
                 "conversion": converted_from_json(res.original_amount, res.original_currency, res.rate,
                                                   res.rate_date),
                 "status": res.status, "warning": res.warning, "expires_at": res.expires_at.isoformat()}
                for res, ln in rows]

    @r.get("/reports/budget-vs-actual", summary="Budget vs actual vs committed with variance and % consumed")
    async def report(company: str, period_from: str = "", period_to: str = "", cost_centre: str = "",
                     budget_item: str = "",
                     group_by: str = Query(",".join(GROUPS), description="any of " + ", ".join(GROUPS)),
                     principal: Principal = Depends(read)) -> dict:
        principal.require_company(company)
        groups = tuple(g.strip() for g in group_by.split(",") if g.strip())
        if not groups or any(g not in GROUPS for g in groups) or len(set(groups)) != len(groups):
            raise Unprocessable(f"group_by takes distinct values among {', '.join(GROUPS)}")
        async with db.sessions() as s:
            return await budget_report(s, company, period_from=period_from, period_to=period_to,
                                       cost_centre=cost_centre, budget_item=budget_item, group_by=groups)


    @r.get("/actuals", summary="Every actual charged to a budget line: the journal line it came from (account "
                               "empty: a stock purchase's commitment made actual by the invoice's journal)")
    async def list_actuals(company: str, page: Page = Depends(pagination(1000, 10000)),
                           principal: Principal = Depends(read)) -> dict:
        principal.require_company(company)
        async with db.sessions() as s:
            rows = (await s.execute(
                sa.select(Actual, BudgetLine).join(BudgetLine, BudgetLine.id == Actual.line_id)
                .where(Actual.company_id == company).order_by(Actual.id)
                .limit(page.limit).offset(page.offset))).all()
        return {"items": [{"id": a.id, "cost_centre": ln.cost_centre, "budget_item": ln.budget_item,
                           "period": ln.period, "currency": ln.currency, "journal_id": a.journal_id,
                           "journal_line_no": a.journal_line_no, "journal_number": a.journal_number,
                           "source_document": a.source_document, "account": a.account_code,
                           "amount": money.format_amount(a.amount, ln.currency)} for a, ln in rows]}

    return r
