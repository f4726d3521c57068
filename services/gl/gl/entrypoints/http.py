# ruff: noqa: E501
"""GL HTTP API (/v1): companies and periods, journals (read, manual, reversal), parked events,
rules (list, dry run), reports and statements, hledger export, stored source events."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Body, Depends, Path, Query
from fastapi.responses import StreamingResponse
from fincore import money
from fincore.auth import OPS_ADMIN, Authenticator, Forbidden, Principal, get_owned
from fincore.dates import Date
from fincore.db import Database
from fincore.errors import Conflict, NotFound, Unprocessable
from fincore.events.registry import registry
from fincore.http import Page, pagination, service_router
from fincore.inbox import PermanentError
from fincore.money import CurrencyCode, MoneyError
from fincore.schemas import StrictModel, Text
from fincore.tables import utcnow
from google.protobuf import json_format
from pydantic import ConfigDict, Field, StrictBool, field_validator

from gl.adapters.tables import (
    Account,
    AwaitingDecision,
    Company,
    ExchangeRate,
    Journal,
    JournalLine,
    ManualJournal,
    ParkedEvent,
    Period,
    PeriodAudit,
    SourceEvent,
)
from gl.domain import postable
from gl.domain.chart import available_charts, load_chart
from gl.domain.journal import DIMENSIONS
from gl.domain.postable import PostingRefused
from gl.domain.rules import Rule, RuleError, parse_rules, with_candidates
from gl.service import awaiting, banks, legacy, reports
from gl.service.manual import DutiesNotSegregated, NotADraft, create_manual_journal, post_manual_journal
from gl.service.posting import (
    CompanyExists,
    LedgerError,
    PeriodClosed,
    Poster,
    close_period,
    create_company,
    lock_documents,
    open_items,
    reopen_period,
    resolve_parked,
    revalue,
    reverse_journal,
)
from gl.service.rates import RateError, RateInput, set_exchange_rates
from gl.service.shadow import shadow_repost
from gl.service.year_end import year_end_close

PERIOD = r"^(19\d\d|2[01]\d\d)-(0[1-9]|1[0-2])$"  # a month in the supported date range (fincore.dates)


class CompanyIn(StrictModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str = Field(min_length=1, max_length=200)
    functional_currency: CurrencyCode
    chart_template: str = "cas"

    @field_validator("chart_template")
    @classmethod
    def _known_chart(cls, v: str) -> str:
        if v not in available_charts():
            raise ValueError(f"unknown chart template; one of {available_charts()}")
        return v


class Reason(StrictModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field("", max_length=1000)


class ManualLineIn(StrictModel):
    model_config = ConfigDict(extra="forbid")
    account: str = Field(min_length=1, max_length=20)
    debit: Decimal = Field(Decimal(0), ge=0, max_digits=20, decimal_places=4)
    credit: Decimal = Field(Decimal(0), ge=0, max_digits=20, decimal_places=4)
    memo: str = Field("", max_length=500)
    cash_flow_item: str = ""
    dimensions: dict[str, Annotated[str, Field(max_length=40)]] = {}


class ManualJournalIn(StrictModel):
    model_config = ConfigDict(extra="forbid")
    company_id: str
    posting_date: dt.date
    description: str = Field(min_length=1, max_length=500)
    lines: list[ManualLineIn] = Field(min_length=2, max_length=1000)
    post: StrictBool = Field(False, description="post at once instead of saving a draft (refused to the author "
                                                "while duties are segregated)")


class ReverseIn(StrictModel):
    model_config = ConfigDict(extra="forbid")
    posting_date: dt.date
    reason: str = Field(min_length=1, max_length=500)


class ParkedPostIn(StrictModel):
    model_config = ConfigDict(extra="forbid")
    redate_to: dt.date | None = Field(None, description="explicit decision: post on this (open) date instead")


class ShadowIn(StrictModel):
    model_config = ConfigDict(extra="forbid")
    company_id: str
    date_from: dt.date = Field(alias="from")
    date_to: dt.date = Field(alias="to")
    rules_yaml: Text = Field(min_length=1, max_length=200_000, description="candidate rules, same format as gl/data/rules")


class RateIn(StrictModel):
    model_config = ConfigDict(extra="forbid")
    currency: CurrencyCode
    rate_date: dt.date
    rate: Decimal = Field(gt=0, max_digits=20, decimal_places=10,
                          description="functional-currency units per 1 unit of `currency`")


class AwaitingDecisionIn(StrictModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal["post", "dead-letter"] = Field(
        description="post: at the payment-date rate, the document never having posted; dead-letter: to the "
                    "posting consumer's dead letters (replay it once the document is published)")
    reason: str = Field(min_length=1, max_length=1000)


class DryRunIn(StrictModel):
    model_config = ConfigDict(extra="forbid")
    event_type: str = Field(description="CloudEvents type, e.g. finance.ar.InvoiceIssued.v1")
    payload: dict = Field(description="the event payload as protobuf JSON")


def dimension_filters(cost_centre: str = "", department: str = "", product: str = "", customer: str = "",
                      supplier: str = "", project: str = "", region: str = "", sales_team: str = "") -> dict:
    return {k: v for k, v in locals().items() if v}


def build_router(db: Database, auth: Authenticator, poster: Poster, *, segregate_duties: bool = True,
                 posting_group: str = "gl-posting") -> APIRouter:
    r = service_router(prefix="/v1")
    read, post, admin = auth.require("gl:read"), auth.require("gl:post"), auth.require("gl:admin")

    async def company_or_404(session, company_id: str, principal: Principal) -> Company:
        principal.require_company(company_id)
        company = await session.get(Company, company_id)
        if company is None:
            raise NotFound(f"company {company_id!r} is not set up in the ledger")
        return company

    def refused(exc: Exception):
        if isinstance(exc, (PeriodClosed, CompanyExists, NotADraft)):
            return Conflict(str(exc))
        if isinstance(exc, DutiesNotSegregated):
            return Forbidden(str(exc), type_="segregation-of-duties")
        return Unprocessable(str(exc))

    # --- companies and periods -------------------------------------------------------
    @r.post("/companies", status_code=201, tags=["companies"], summary="Set up a company's books from a chart template")
    async def post_company(body: CompanyIn, principal: Principal = Depends(admin)) -> dict:
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

    @r.get("/companies/{company_id}", tags=["companies"], summary="A company's ledger settings")
    async def get_company(company_id: str, principal: Principal = Depends(read)) -> dict:
        async with db.sessions() as s:
            c = await company_or_404(s, company_id, principal)
        return {"id": c.id, "name": c.name, "functional_currency": c.functional_currency,
                "chart_template": c.chart_template}

    @r.get("/companies/{company_id}/accounts", tags=["companies"], summary="Chart of accounts")
    async def get_accounts(company_id: str, principal: Principal = Depends(read)) -> list[dict]:
        async with db.sessions() as s:
            c = await company_or_404(s, company_id, principal)
            rows = (await s.execute(sa.select(Account).where(Account.company_id == c.id).order_by(Account.code))).scalars()
            chart = load_chart(c.chart_template)
            return [{"code": a.code, "name_zh": a.name_zh, "name_en": a.name_en, "type": a.type, "normal": a.normal,
                     "control": a.control, "cash": a.cash, "active": a.active,
                     "needs": list(chart.accounts[a.code].needs) if a.code in chart.accounts else []} for a in rows]

    @r.post("/companies/{company_id}/accounts/{code}/{action}", tags=["companies"],
            summary="Block an account (no new postings; events to it are parked) or unblock it")
    async def post_account_state(company_id: str, code: str, action: Annotated[str, Path(pattern="^(block|unblock)$")],
                                 principal: Principal = Depends(admin)) -> dict:
        async with db.transaction() as s:
            await company_or_404(s, company_id, principal)
            a = await s.get(Account, (company_id, code))
            if a is None:
                raise NotFound(f"no account {code}")
            a.active = action == "unblock"
        return {"account": code, "active": action == "unblock"}

    @r.get("/companies/{company_id}/periods", tags=["periods"], summary="Periods that are or were closed, with their audit")
    async def get_periods(company_id: str, principal: Principal = Depends(read)) -> dict:
        async with db.sessions() as s:
            await company_or_404(s, company_id, principal)
            periods = (await s.execute(sa.select(Period).where(Period.company_id == company_id)
                                       .order_by(Period.period))).scalars().all()
            audit = (await s.execute(sa.select(PeriodAudit).where(PeriodAudit.company_id == company_id)
                                     .order_by(PeriodAudit.id))).scalars().all()
        return {"company": company_id, "default_status": "open",
                "periods": [{"period": p.period, "status": p.status, "changed_at": p.changed_at.isoformat(),
                             "changed_by": p.changed_by} for p in periods],
                "audit": [{"period": a.period, "action": a.action, "reason": a.reason, "actor": a.actor,
                           "at": a.at.isoformat()} for a in audit]}

    @r.post("/companies/{company_id}/periods/{period}/close", tags=["periods"],
            summary="Close a month (closing a closed month changes nothing and answers its state)")
    async def post_close(company_id: str, period: Annotated[str, Path(pattern=PERIOD)],
                         body: Reason = Body(Reason()), principal: Principal = Depends(admin)) -> dict:
        async with db.transaction() as s:
            await company_or_404(s, company_id, principal)
            state = await close_period(s, company_id=company_id, period=period, actor=principal.subject,
                                       reason=body.reason)
        return period_json(company_id, state)

    @r.post("/companies/{company_id}/periods/{period}/reopen", tags=["periods"],
            summary="Reopen a closed month (a reason is required and audited)")
    async def post_reopen(company_id: str, body: Reason, period: Annotated[str, Path(pattern=PERIOD)],
                          principal: Principal = Depends(admin)) -> dict:
        try:
            async with db.transaction() as s:
                await company_or_404(s, company_id, principal)
                state = await reopen_period(s, company_id=company_id, period=period, actor=principal.subject,
                                            reason=body.reason)
        except (LedgerError, PostingRefused) as exc:
            raise refused(exc) from exc
        return period_json(company_id, state)

    @r.post("/companies/{company_id}/year-end-close", tags=["periods"],
            summary="After the year has ended: carry what remains of its profit or loss to retained earnings "
                    "(closing journal on 31 Dec) and close its months; run again to carry late adjustments")
    async def post_year_end(company_id: str, year: int = Body(embed=True, ge=1900, le=2199),
                            principal: Principal = Depends(admin)) -> dict:
        try:
            async with db.transaction() as s:
                c = await company_or_404(s, company_id, principal)
                return await year_end_close(s, c, year, actor=principal.subject, today=utcnow().date())
        except (LedgerError, PostingRefused) as exc:
            raise refused(exc) from exc

    @r.put("/companies/{company_id}/exchange-rates", tags=["currencies"], summary="Enter or correct exchange rates")
    async def put_rates(company_id: str, body: list[RateIn], principal: Principal = Depends(admin)) -> dict:
        try:
            async with db.transaction() as s:
                c = await company_or_404(s, company_id, principal)
                await set_exchange_rates(s, c, [RateInput(r.currency, r.rate_date, r.rate) for r in body])
        except (RateError, MoneyError) as exc:
            raise Unprocessable(str(exc)) from exc
        return {"company": company_id, "rates": len(body)}

    @r.get("/companies/{company_id}/exchange-rates", tags=["currencies"], summary="Exchange rates")
    async def get_rates(company_id: str, currency: str | None = None, principal: Principal = Depends(read)) -> list:
        async with db.sessions() as s:
            await company_or_404(s, company_id, principal)
            q = sa.select(ExchangeRate).where(ExchangeRate.company_id == company_id)
            if currency:
                q = q.where(ExchangeRate.currency == currency)
            rows = (await s.execute(q.order_by(ExchangeRate.currency, ExchangeRate.rate_date))).scalars().all()
        return [{"currency": x.currency, "rate_date": x.rate_date.isoformat(), "rate": money.format_rate(x.rate)}
                for x in rows]

    @r.post("/companies/{company_id}/periods/{period}/revalue", tags=["currencies"],
            summary="Revalue open foreign-currency receivables, payables and bank at the period-end rate")
    async def post_revalue(company_id: str, period: Annotated[str, Path(pattern=PERIOD)],
                           principal: Principal = Depends(admin)) -> dict:
        try:
            async with db.transaction() as s:
                c = await company_or_404(s, company_id, principal)
                return await revalue(s, c, period, actor=principal.subject)
        except (LedgerError, PostingRefused) as exc:
            raise refused(exc) from exc

    # --- parked events ---------------------------------------------------------------
    @r.get("/parked-events", tags=["periods"], summary="Events dated in a closed period, waiting for a decision")
    async def get_parked(company: str, include_resolved: bool = False, principal: Principal = Depends(read)) -> list:
        async with db.sessions() as s:
            await company_or_404(s, company, principal)
            q = (sa.select(ParkedEvent, SourceEvent).join(SourceEvent, SourceEvent.event_id == ParkedEvent.event_id)
                 .where(ParkedEvent.company_id == company).order_by(ParkedEvent.parked_at))
            if not include_resolved:
                q = q.where(ParkedEvent.resolved_at.is_(None))
            rows = (await s.execute(q)).all()
        return [{"event_id": p.event_id, "event_type": e.event_type, "document": e.document_number,
                 "occurrence_date": e.occurrence_date.isoformat(), "period": p.period, "reason": p.reason,
                 "parked_at": p.parked_at.isoformat(), "resolved_at": p.resolved_at and p.resolved_at.isoformat(),
                 "resolution": p.resolution, "resolved_by": p.resolved_by} for p, e in rows]

    @r.post("/parked-events/{event_id}/post", tags=["periods"],
            summary="Post a parked event: in its period once reopened, or re-dated by an explicit decision")
    async def post_parked(event_id: str, body: ParkedPostIn = Body(ParkedPostIn()),
                          principal: Principal = Depends(post)) -> dict:
        try:
            async with db.transaction() as s:
                p = await s.get(ParkedEvent, event_id)
                if p is None:
                    raise NotFound(f"no parked event {event_id}")
                principal.require_company(p.company_id)
                j = await resolve_parked(s, poster, event_id, actor=principal.subject, redate=body.redate_to)
        except (LedgerError, PostingRefused) as exc:
            raise refused(exc) from exc
        return {"journal_id": j["id"], "number": j["number"], "posting_date": j["posting_date"].isoformat()}

    # --- settlements awaiting a document (operators) ------------------------------------
    ops = auth.require(OPS_ADMIN)

    @r.get("/admin/awaiting-documents", tags=["operations"],
           summary="Settlements parked awaiting the document they settle, oldest first, with their age (ops:admin)")
    async def get_awaiting(company: str | None = None, _: Principal = Depends(ops)) -> list[dict]:
        async with db.sessions() as s:
            return await awaiting.awaiting_settlements(s, company)

    @r.get("/admin/awaiting-documents/decisions", tags=["operations"],
           summary="Operators' decisions on awaiting settlements, newest first (the audit trail; ops:admin)")
    async def get_awaiting_decisions(company: str | None = None, page: Page = Depends(pagination()),
                                     _: Principal = Depends(ops)) -> list[dict]:
        q = sa.select(AwaitingDecision).order_by(AwaitingDecision.id.desc())
        if company is not None:
            q = q.where(AwaitingDecision.company_id == company)
        async with db.sessions() as s:
            rows = (await s.execute(q.limit(page.limit).offset(page.offset))).scalars().all()
        return [awaiting.decision_json(d) for d in rows]

    @r.post("/admin/awaiting-documents/{event_id}/decide", tags=["operations"],
            summary="Decide an awaiting settlement: post it at the payment-date rate, or send it to the dead "
                    "letters, with a reason (ops:admin; audited; deciding the same again changes nothing)")
    async def post_awaiting_decision(event_id: str, body: AwaitingDecisionIn,
                                     principal: Principal = Depends(ops)) -> dict:
        try:
            async with db.transaction() as s:
                d = await awaiting.decide(s, poster, event_id, action=body.action, reason=body.reason,
                                          actor=principal.subject, consumer=posting_group)
                return awaiting.decision_json(d)
        except awaiting.NotAwaiting as exc:
            raise NotFound(str(exc)) from exc
        except awaiting.AlreadyDecided as exc:
            raise Conflict(str(exc), type_="already-decided") from exc
        except (LedgerError, PostingRefused) as exc:
            raise refused(exc) from exc

    # --- open items of documents booked before open items were tracked -----------------
    @r.post("/companies/{company_id}/legacy-open-items", tags=["operations"],
            summary="Derive the open items of documents booked before open items were tracked from their posted "
                    "journals (idempotent; also done by itself when such a document is settled)")
    async def post_legacy_open_items(company_id: str, principal: Principal = Depends(admin)) -> dict:
        async with db.transaction() as s:
            await company_or_404(s, company_id, principal)
            await lock_documents(s, {company_id})
            books = await poster.company(s, company_id)
            return (await legacy.scan(s, poster.rules, books, actor=principal.subject)).as_dict()

    @r.get("/open-items", tags=["journals"],
           summary="Documents' open items: tagged journal lines plus what older journals did to them")
    async def get_open_items(company: str, document: Annotated[list[str], Query()],
                             principal: Principal = Depends(read)) -> list[dict]:
        async with db.sessions() as s:
            await company_or_404(s, company, principal)
            legacy_refs: set[str] = set()
            items = await open_items(s, company, set(document), None, legacy_refs)
            functional = (await s.get(Company, company)).functional_currency
        return [{"document": ref, "currency": it.currency or functional,
                 "open": money.format_amount(it.txn, it.currency) if it.currency else None,
                 "carrying_amount": money.format_amount(it.functional, functional),
                 "includes_legacy": ref in legacy_refs} for ref, it in sorted(items.items())]

    # --- journals ----------------------------------------------------------------------
    @r.get("/journals", tags=["journals"], summary="Posted journals, newest first, filtered")
    async def list_journals(
        company: str, date_from: Date | None = Query(None, alias="from"),
        date_to: Date | None = Query(None, alias="to"), source_document: str | None = None,
        source_event_id: str | None = None, account: str | None = None, kind: str | None = None,
        page: Page = Depends(pagination()), principal: Principal = Depends(read),
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
            if kind:
                q = q.where(Journal.kind == kind)
            if account:
                if not re.fullmatch(r"[0-9A-Za-z]{1,20}", account):
                    raise Unprocessable("account must be an account code")
                q = q.where(Journal.id.in_(sa.select(JournalLine.journal_id).where(
                    JournalLine.company_id == company, JournalLine.account_code == account)))
            total = (await s.execute(sa.select(sa.func.count()).select_from(q.subquery()))).scalar_one()
            rows = (await s.execute(q.order_by(Journal.posting_date.desc(), Journal.number.desc())
                                    .limit(page.limit).offset(page.offset))).scalars().all()
        return {"total": total, "items": [journal_json(j) for j in rows]}

    @r.get("/journals/{journal_id}", tags=["journals"], summary="One journal with its lines, source event and trace id")
    async def get_journal(journal_id: str, principal: Principal = Depends(read)) -> dict:
        async with db.sessions() as s:
            j = await get_owned(s, Journal, journal_id, principal, "journal")
            lines = (await s.execute(sa.select(JournalLine).where(JournalLine.journal_id == j.id))).scalars().all()
            reversed_by = (await s.execute(sa.select(Journal.id).where(Journal.reverses_journal_id == j.id))).scalar()
        out = journal_json(j, list(lines))
        out["reversed_by"] = reversed_by
        return out

    @r.post("/journals/{journal_id}/reverse", status_code=201, tags=["journals"],
            summary="Reverse a journal: a mirror journal linked to the original (posted journals are never edited)")
    async def post_reverse(journal_id: str, body: ReverseIn, principal: Principal = Depends(post)) -> dict:
        try:
            async with db.transaction() as s:
                await get_owned(s, Journal, journal_id, principal, "journal")
                rev = await reverse_journal(s, journal_id, on=body.posting_date, actor=principal.subject,
                                            reason=body.reason)
        except (LedgerError, PostingRefused) as exc:
            raise refused(exc) from exc
        return {"journal_id": rev["id"], "number": rev["number"], "reverses": journal_id}

    @r.post("/manual-journals", status_code=201, tags=["journals"],
            summary="Create a manual journal draft (post=true posts it at once, unless duties are segregated)")
    async def post_manual(body: ManualJournalIn, principal: Principal = Depends(post)) -> dict:
        try:
            async with db.transaction() as s:
                c = await company_or_404(s, body.company_id, principal)
                mj, journal = await create_manual_journal(
                    s, c, posting_date=body.posting_date, description=body.description,
                    lines=[postable.ManualLine(**ln.model_dump()) for ln in body.lines], author=principal.subject,
                    post=body.post, segregate_duties=segregate_duties)
        except (LedgerError, PostingRefused) as exc:
            raise refused(exc) from exc
        return manual_json(mj) | {"number": journal and journal["number"]}

    @r.get("/manual-journals/{draft_id}", tags=["journals"], summary="A manual journal: its lines, author and state")
    async def get_manual(draft_id: str, principal: Principal = Depends(read)) -> dict:
        async with db.sessions() as s:
            mj = await get_owned(s, ManualJournal, draft_id, principal, "manual journal")
            posted_by = mj.journal_id and (await s.get(Journal, mj.journal_id)).posted_by
        return manual_json(mj) | {"lines": mj.lines, "posted_by": posted_by}

    @r.post("/manual-journals/{draft_id}/post", tags=["journals"],
            summary="Post a manual journal draft (by someone other than its author, unless duties are not segregated)")
    async def post_manual_draft(draft_id: str, principal: Principal = Depends(post)) -> dict:
        try:
            async with db.transaction() as s:
                mj = await get_owned(s, ManualJournal, draft_id, principal, "manual journal")
                c = await company_or_404(s, mj.company_id, principal)
                journal = await post_manual_journal(s, c, mj, poster=principal.subject,
                                                    segregate_duties=segregate_duties)
        except (LedgerError, PostingRefused) as exc:
            raise refused(exc) from exc
        return manual_json(mj) | {"number": journal["number"], "posted_by": principal.subject}

    # --- source events and rules -----------------------------------------------------
    @r.get("/events/{event_id}", tags=["journals"], summary="A source event as the ledger received it")
    async def get_event(event_id: str, principal: Principal = Depends(read)) -> dict:
        async with db.sessions() as s:
            e = await get_owned(s, SourceEvent, event_id, principal, "event")
            parked = await s.get(ParkedEvent, event_id)
            journal = (await s.execute(sa.select(Journal.id).where(Journal.source_event_id == event_id))).scalar()
        msg = registry.by_type(e.event_type).message_class.FromString(e.payload)
        return {"id": e.event_id, "type": e.event_type, "source": e.source, "subject": e.subject,
                "company": e.company_id, "document": e.document_number,
                "occurrence_date": e.occurrence_date.isoformat(), "trace_id": e.trace_id,
                "received_at": e.received_at.isoformat(), "journal_id": journal,
                "parked": bool(parked and parked.resolved_at is None),
                "payload": json_format.MessageToDict(msg, preserving_proto_field_name=True)}

    @r.get("/bank-accounts", tags=["rules"],
           summary="Bank accounts the ledger learned from cash management: the sub-account each posts to")
    async def get_bank_accounts(company: str, principal: Principal = Depends(read)) -> list[dict]:
        async with db.sessions() as s:
            await company_or_404(s, company, principal)
            return [{"code": code, "gl_account": gl_account, "currency": currency}
                    for code, gl_account, currency in await banks.learned(s, company)]

    @r.get("/rules", tags=["rules"],
            summary="The posting rules, every version with the dates it is in force (effective_to null: open-ended)")
    async def get_rules(principal: Principal = Depends(read)) -> list[dict]:
        return [rule_json(x) for x in poster.rules.rules]

    @r.post("/rules/dry-run", tags=["rules"], summary="The journal an event would produce (nothing is posted)")
    async def post_dry_run(body: DryRunIn, principal: Principal = Depends(read)) -> dict:
        try:
            spec = registry.by_type(body.event_type)
            msg = json_format.ParseDict(body.payload, spec.message_class())
        except (KeyError, json_format.ParseError) as exc:
            raise Unprocessable(f"not a valid {body.event_type}: {exc}") from exc
        async with db.sessions() as s:
            c = await company_or_404(s, msg.company_id, principal)
            books = await poster.company(s, c.id)
            try:
                d = await poster.draft(s, books, body.event_type, msg, "")
            except (LookupError, ValueError, PermanentError) as exc:
                raise Unprocessable(str(exc)) from exc
        used = poster.rules.version(d.rule_id, d.rule_version)
        return {"posting_date": d.posting_date.isoformat(), "period": d.period, "currency": d.currency,
                "description": d.description,
                "rule": {"id": d.rule_id, "version": d.rule_version, "effective_from": used.effective_from.isoformat(),
                         "effective_to": used.effective_to and used.effective_to.isoformat()},
                "total_debit": money.format_amount(d.total_debit, d.currency),
                "total_credit": money.format_amount(d.total_credit, d.currency),
                "lines": [{"account": ln.account_code, "debit": money.format_amount(ln.debit, d.currency),
                           "credit": money.format_amount(ln.credit, d.currency), "memo": ln.memo,
                           "dimensions": ln.dimensions, "cash_flow_item": ln.cash_flow_item} for ln in d.lines]}

    @r.post("/rules/shadow-repost", tags=["rules"],
            summary="Run candidate rules over posted events of a date range; report the differences, post nothing")
    async def post_shadow(body: ShadowIn, principal: Principal = Depends(read)) -> dict:
        try:
            candidates = parse_rules(body.rules_yaml, [load_chart(c) for c in available_charts()])
        except RuleError as exc:
            raise Unprocessable(str(exc)) from exc
        async with db.sessions() as s:
            c = await company_or_404(s, body.company_id, principal)
            return await shadow_repost(s, c, with_candidates(poster.rules, candidates), start=body.date_from,
                                       end=body.date_to)

    # --- reports -----------------------------------------------------------------------
    @r.get("/trial-balance", tags=["reports"], summary="Trial balance: opening, turnover and closing per account")
    async def get_trial_balance(company: str, as_of: Date = Query(default_factory=dt.date.today),
                                date_from: Date | None = Query(None, alias="from"),
                                group_by: str | None = Query(None, description=f"a dimension: {', '.join(DIMENSIONS)}"),
                                dims: dict = Depends(dimension_filters), principal: Principal = Depends(read)) -> dict:
        if group_by is not None and group_by not in DIMENSIONS:
            raise Unprocessable(f"group_by must be one of {', '.join(DIMENSIONS)}")
        async with db.sessions() as s:
            c = await company_or_404(s, company, principal)
            return await reports.trial_balance(s, c, start=date_from, end=as_of, dims=dims, group_by=group_by)

    @r.get("/ledger", tags=["reports"], summary="General-ledger detail of an account (or several), with running balance")
    async def get_ledger(company: str,
                         account: Annotated[str, Query(pattern=r"^[0-9A-Za-z]{1,20}(,[0-9A-Za-z]{1,20}){0,49}$",
                                                       description="an account code, or several separated by commas")],
                         date_to: Date = Query(alias="to"),
                         date_from: Date | None = Query(None, alias="from"), dims: dict = Depends(dimension_filters),
                         cash_flow_item: Annotated[str, Query(max_length=40, description=(
                             "only lines of this cash-flow item (the cash-flow statement's drill-down)"))] = "",
                         page: Page = Depends(pagination(500, 5000)),
                         exclude_kind: Annotated[str | None, Query(pattern="^closing$", description=(
                             "leave out year-end closing journals (as the income statement does)"))] = None,
                         principal: Principal = Depends(read)) -> dict:
        async with db.sessions() as s:
            c = await company_or_404(s, company, principal)
            return await reports.ledger_detail(s, c, account=account, start=date_from, end=date_to,
                                               dims=dims | ({"cash_flow_item": cash_flow_item} if cash_flow_item else {}),
                                               limit=page.limit, offset=page.offset, exclude_kind=exclude_kind)

    @r.get("/statements/balance-sheet", tags=["reports"], summary="Balance sheet as of a date", description=(
        "Assets, liabilities and equity. Balances on the wrong side are presented where they belong (a customer's "
        "credit on receivables as an advance from customers, ...): such a line lists its `sources`. A source kept by "
        "a counterparty (receivables by customer, payables by supplier) is one figure per account with `by` (the "
        "dimension) and `counterparties` (how many it adds up); its `drill_down` is "
        "/statements/balance-sheet/counterparties, which lists them."))
    async def get_bs(company: str, as_of: Date, dims: dict = Depends(dimension_filters),
                     principal: Principal = Depends(read)) -> dict:
        async with db.sessions() as s:
            c = await company_or_404(s, company, principal)
            return await reports.balance_sheet(s, c, as_of=as_of, dims=dims)

    @r.get("/statements/balance-sheet/counterparties", tags=["reports"],
           summary="The counterparties a balance-sheet line presents, each with its ledger", description=(
               "The drill-down of a balance-sheet source kept by a counterparty: each customer or supplier whose "
               "balance the line presents (e.g. line 2203: the customers in credit), with its amount as the line "
               "shows it and its ledger as of the date. `amount` and `total` are the whole line's (every page)."))
    async def get_bs_counterparties(company: str, as_of: Date,
                                    line: Annotated[str, Query(pattern=r"^[0-9A-Za-z_]{1,40}$", description=(
                                        "a balance-sheet line that presents balances per counterparty"))],
                                    dims: dict = Depends(dimension_filters), page: Page = Depends(pagination(500, 5000)),
                                    principal: Principal = Depends(read)) -> dict:
        async with db.sessions() as s:
            c = await company_or_404(s, company, principal)
            try:
                return await reports.counterparty_detail(s, c, line=line, as_of=as_of, dims=dims, limit=page.limit,
                                                         offset=page.offset)
            except KeyError as exc:
                raise Unprocessable(exc.args[0]) from exc

    @r.get("/statements/income-statement", tags=["reports"], summary="Income statement for a date range")
    async def get_is(company: str, date_from: Date = Query(alias="from"), date_to: Date = Query(alias="to"),
                     include_closing: bool = Query(False, description=(
                         "include year-end closing journals: what is not yet closed to retained earnings")),
                     dims: dict = Depends(dimension_filters), principal: Principal = Depends(read)) -> dict:
        async with db.sessions() as s:
            c = await company_or_404(s, company, principal)
            return await reports.income_statement(s, c, start=date_from, end=date_to, dims=dims,
                                                  include_closing=include_closing)

    @r.get("/statements/cash-flow", tags=["reports"], summary="Cash-flow statement (direct method)")
    async def get_cf(company: str, date_from: Date = Query(alias="from"), date_to: Date = Query(alias="to"),
                     principal: Principal = Depends(read)) -> dict:
        async with db.sessions() as s:
            c = await company_or_404(s, company, principal)
            return await reports.cash_flow(s, c, start=date_from, end=date_to)

    @r.get("/export/hledger", tags=["reports"], summary="Every posted journal in hledger journal format")
    async def get_hledger(company: str, bank_assertions: bool = Query(
            False, description="end with a balance assertion per bank sub-account: it equals the closing balance "
                               "of the bank account's last imported statement (once reconciled, hledger passes)"),
            principal: Principal = Depends(read)) -> StreamingResponse:
        async with db.sessions() as s:
            c = await company_or_404(s, company, principal)

        async def body():
            async with db.sessions() as s2:
                async for chunk in reports.hledger_export(s2, c, bank_assertions=bank_assertions):
                    yield chunk

        return StreamingResponse(body(), media_type="text/plain; charset=utf-8",
                                 headers={"Content-Disposition": f'attachment; filename="{company}.journal"'})

    return r


def journal_json(j: Journal, lines: list[JournalLine] | None = None) -> dict:
    cur = j.currency
    out = {
        "id": j.id, "company": j.company_id, "number": j.number, "posting_date": j.posting_date.isoformat(),
        "period": j.period, "currency": j.currency, "description": j.description, "kind": j.kind,
        "total_debit": money.format_amount(j.total_debit, cur), "total_credit": money.format_amount(j.total_credit, cur),
        "posted_by": j.posted_by, "drafted_by": j.drafted_by,
        "reverses_journal_id": j.reverses_journal_id,
        "source": {"event_id": j.source_event_id, "event_type": j.source_event_type,
                   "document": j.source_document, "service": j.source_event_type.split(".")[1]
                   if j.source_event_type.startswith("finance.") else "gl", "trace_id": j.trace_id,
                   "event": f"/v1/events/{j.source_event_id}" if j.source_event_id else None},
        "rule": {"id": j.rule_id, "version": j.rule_version}, "posted_at": j.posted_at.isoformat(),
    }
    if lines is not None:
        out["lines"] = [{
            "line_no": ln.line_no, "account": ln.account_code, "debit": money.format_amount(ln.debit, cur), "credit": money.format_amount(ln.credit, cur),
            "memo": ln.memo, "cash_flow_item": ln.cash_flow_item,
            "dimensions": {d: getattr(ln, d) for d in DIMENSIONS if getattr(ln, d)},
            **({"txn_currency": ln.txn_currency, "txn_amount": money.format_amount(ln.txn_amount, ln.txn_currency)}
               if ln.txn_currency else {}),
            **({"open_item": ln.open_item} if ln.open_item else {}),
        } for ln in sorted(lines, key=lambda x: x.line_no)]
    return out


def manual_json(mj: ManualJournal) -> dict:
    return {"id": mj.id, "company": mj.company_id, "posting_date": mj.posting_date.isoformat(),
            "description": mj.description, "status": mj.status, "drafted_by": mj.created_by,
            "created_at": mj.created_at.isoformat(), "journal_id": mj.journal_id}


def period_json(company_id: str, state) -> dict:
    return {"company": company_id, "period": state.period, "status": state.status,
            "changed_at": state.changed_at and state.changed_at.isoformat(), "changed_by": state.changed_by,
            "changed": state.changed}


def rule_json(x: Rule) -> dict:
    """A rule as GET /v1/rules shows it (finance-verify reads what each event is due from it)."""
    return {"id": x.id, "version": x.version, "effective_from": x.effective_from.isoformat(),
            "effective_to": x.effective_to and x.effective_to.isoformat(), "event": x.event,
            "description": x.description, "when": {k: list(v) for k, v in x.when.items()},
            "lines": [{"side": ln.side, "account": ln.account, "amount": ln.amount, "each": ln.each or None,
                       "subtract": ln.subtract or None, "cash_flow": ln.cash_flow or None,
                       "account_by": {"field": ln.account_by[0], "map": ln.account_by[1]} if ln.account_by else None,
                       "dimensions": ln.dimensions} for ln in x.lines]}
