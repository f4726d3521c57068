"""GL HTTP API: companies, trial balance, journals (read), all under /v1."""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from fincore.auth import Authenticator, Principal
from fincore.db import Database
from fincore.errors import Conflict, NotFound, Unprocessable
from fincore.money import MoneyError
from pydantic import BaseModel, Field, field_validator

from gl.adapters.tables import Company, Journal, JournalLine
from gl.domain.chart import available_charts
from gl.service.posting import CompanyExists, create_company, journal_json, trial_balance


class CompanyIn(BaseModel):
    id: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str = Field(min_length=1, max_length=200)
    functional_currency: str = Field(pattern=r"^[A-Z]{3}$")
    chart_template: str = "cas"

    @field_validator("chart_template")
    @classmethod
    def _known_chart(cls, v: str) -> str:
        if v not in available_charts():
            raise ValueError(f"unknown chart template; one of {available_charts()}")
        return v


def build_router(db: Database, auth: Authenticator) -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["ledger"])

    async def company_or_404(session, company_id: str, principal: Principal) -> Company:
        principal.require_company(company_id)
        company = await session.get(Company, company_id)
        if company is None:
            raise NotFound(f"company {company_id!r} is not set up in the ledger")
        return company

    @r.post("/companies", status_code=201, summary="Set up a company's books from a chart template")
    async def post_company(body: CompanyIn, principal: Principal = Depends(auth.require("gl:admin"))) -> dict:
        principal.require_company(body.id)
        try:
            async with db.transaction() as s:
                c = await create_company(s, company_id=body.id, name=body.name,
                                         functional_currency=body.functional_currency,
                                         chart_template=body.chart_template)
        except CompanyExists:
            raise Conflict(f"company {body.id!r} already exists") from None
        except MoneyError as exc:
            raise Unprocessable(str(exc)) from exc
        return {"id": c.id, "name": c.name, "functional_currency": c.functional_currency,
                "chart_template": c.chart_template}

    @r.get("/companies/{company_id}", summary="A company's ledger settings")
    async def get_company(company_id: str, principal: Principal = Depends(auth.require("gl:read"))) -> dict:
        async with db.sessions() as s:
            c = await company_or_404(s, company_id, principal)
        return {"id": c.id, "name": c.name, "functional_currency": c.functional_currency,
                "chart_template": c.chart_template}

    @r.get("/trial-balance", summary="Trial balance: turnover and balance per account up to a date")
    async def get_trial_balance(company: str, as_of: dt.date = Query(default_factory=dt.date.today),
                                principal: Principal = Depends(auth.require("gl:read"))) -> dict:
        async with db.sessions() as s:
            c = await company_or_404(s, company, principal)
            return await trial_balance(s, c, as_of)

    @r.get("/journals", summary="Posted journals, newest first, filtered")
    async def list_journals(
        company: str, request: Request, date_from: dt.date | None = Query(None, alias="from"),
        date_to: dt.date | None = Query(None, alias="to"), source_document: str | None = None,
        source_event_id: str | None = None, account: str | None = None,
        limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0),
        principal: Principal = Depends(auth.require("gl:read")),
    ) -> dict:
        async with db.sessions() as s:
            await company_or_404(s, company, principal)
            q = sa.select(Journal).where(Journal.company_id == company)
            if date_from:
                q = q.where(Journal.posting_date >= date_from)
            if date_to:
                q = q.where(Journal.posting_date <= date_to)
            if source_document:
                q = q.where(Journal.source_document == source_document)
            if source_event_id:
                q = q.where(Journal.source_event_id == source_event_id)
            if account:
                if not re.fullmatch(r"[0-9A-Za-z]{1,20}", account):
                    raise Unprocessable("account must be an account code")
                q = q.where(Journal.id.in_(sa.select(JournalLine.journal_id).where(
                    JournalLine.company_id == company, JournalLine.account_code == account)))
            total = (await s.execute(sa.select(sa.func.count()).select_from(q.subquery()))).scalar_one()
            rows = (await s.execute(q.order_by(Journal.posting_date.desc(), Journal.number.desc())
                                    .limit(limit).offset(offset))).scalars().all()
        return {"total": total, "items": [journal_json(j) for j in rows]}

    @r.get("/journals/{journal_id}", summary="One journal with its lines, source event and trace id")
    async def get_journal(journal_id: str, principal: Principal = Depends(auth.require("gl:read"))) -> dict:
        async with db.sessions() as s:
            j = await s.get(Journal, journal_id)
            if j is None or not principal.can_access(j.company_id):
                raise NotFound(f"no journal {journal_id}")
            lines = (await s.execute(sa.select(JournalLine).where(JournalLine.journal_id == j.id))).scalars().all()
        return journal_json(j, list(lines))

    return r
