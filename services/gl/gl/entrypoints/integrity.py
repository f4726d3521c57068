"""Read-only views for auditors and the invariant checker (`finance-verify`): the companies a
token may read, the raw journal lines, period balances and balances per counterparty (so
anyone can add the lines up and compare), control-account balances per counterparty and transaction currency (to hold
against the sub-ledgers), and what the ledger did with given event ids (journal, parked,
dead letter, or recorded without a journal). Every list is paginated; every route needs
`gl:read` and the company in the token."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query
from fincore import money
from fincore.auth import Authenticator, Principal
from fincore.dates import Date
from fincore.db import Database
from fincore.errors import NotFound, Unprocessable
from fincore.http import Page, pagination, service_router
from fincore.tables import DeadLetter, InboxRecord

from gl.adapters.tables import (
    Company,
    CounterpartyBalance,
    CounterpartyTotal,
    Journal,
    JournalLine,
    ParkedEvent,
    PeriodBalance,
)
from gl.domain.chart import load_chart
from gl.domain.journal import DIMENSIONS

ACCOUNTS = r"^[0-9A-Za-z]{1,20}(,[0-9A-Za-z]{1,20}){0,49}$"
EVENT_ID = r"^[0-9A-Za-z_.:-]{1,64}$"


def build_integrity_router(db: Database, auth: Authenticator, *, posting_consumer: str) -> APIRouter:
    r = service_router(prefix="/v1", tags=["integrity"])
    read = auth.require("gl:read")

    async def company_of(session, company_id: str, principal: Principal) -> Company:
        principal.require_company(company_id)
        c = await session.get(Company, company_id)
        if c is None:
            raise NotFound(f"company {company_id!r} is not set up in the ledger")
        return c

    @r.get("/companies", summary="The companies of the ledger the token may read, with their control accounts")
    async def list_companies(page: Page = Depends(pagination()), principal: Principal = Depends(read)) -> dict:
        q = sa.select(Company)
        if "*" not in principal.companies:
            q = q.where(Company.id.in_(sorted(principal.companies)))
        async with db.sessions() as s:
            total = (await s.execute(sa.select(sa.func.count()).select_from(q.subquery()))).scalar_one()
            rows = (await s.execute(q.order_by(Company.id).limit(page.limit).offset(page.offset))).scalars().all()
        return {"total": total, "items": [company_json(c) for c in rows]}

    @r.get("/journal-lines", summary="Journal lines as posted (functional and transaction amounts), by line id")
    async def list_lines(company: str, account: Annotated[str | None, Query(pattern=ACCOUNTS)] = None,
                         date_to: Date | None = Query(None, alias="to"),
                         page: Page = Depends(pagination(1000, 10000)), principal: Principal = Depends(read)) -> dict:
        jl = JournalLine.__table__
        q = sa.select(jl).where(jl.c.company_id == company)
        if account:
            q = q.where(jl.c.account_code.in_(account.split(",")))
        if date_to:
            q = q.where(jl.c.posting_date <= date_to)
        async with db.sessions() as s:
            c = await company_of(s, company, principal)
            rows = (await s.execute(q.order_by(jl.c.id).limit(page.limit).offset(page.offset))).all()
        cur = c.functional_currency
        return {"currency": cur, "items": [{
            "id": ln.id, "journal_id": ln.journal_id, "line_no": ln.line_no,
            "posting_date": ln.posting_date.isoformat(),
            "account": ln.account_code, "debit": money.format_amount(ln.debit, cur),
            "credit": money.format_amount(ln.credit, cur),
            "txn_currency": ln.txn_currency or cur,
            "txn_amount": money.format_amount(ln.txn_amount if ln.txn_currency else ln.debit - ln.credit,
                                              ln.txn_currency or cur),
            "open_item": ln.open_item, "dimensions": {d: getattr(ln, d) for d in DIMENSIONS if getattr(ln, d)},
        } for ln in rows]}

    @r.get("/period-balances", summary="The stored debit and credit turnover per account and month")
    async def list_period_balances(company: str, page: Page = Depends(pagination(1000, 10000)),
                                   principal: Principal = Depends(read)) -> dict:
        pb = PeriodBalance.__table__
        async with db.sessions() as s:
            c = await company_of(s, company, principal)
            rows = (await s.execute(sa.select(pb).where(pb.c.company_id == company)
                                    .order_by(pb.c.period, pb.c.account_code)
                                    .limit(page.limit).offset(page.offset))).all()
        cur = c.functional_currency
        return {"currency": cur, "items": [{"account": b.account_code, "period": b.period,
                                            "debit": money.format_amount(b.debit, cur),
                                            "credit": money.format_amount(b.credit, cur)} for b in rows]}

    @r.get("/counterparty-balances",
           summary="The stored turnover per account, counterparty, transaction currency and month")
    async def list_counterparty_balances(company: str, page: Page = Depends(pagination(1000, 10000)),
                                         principal: Principal = Depends(read)) -> dict:
        """On the accounts the chart keeps by a counterparty (`by_counterparty` of
        /v1/companies): debit and credit in the functional currency, `txn_amount` in
        `currency` (the functional debit - credit where the lines have no other currency), as
        /v1/journal-lines shows each line, so anyone can add the lines up and compare."""
        cb = CounterpartyBalance.__table__
        async with db.sessions() as s:
            c = await company_of(s, company, principal)
            rows = (await s.execute(sa.select(cb).where(cb.c.company_id == company)
                                    .order_by(cb.c.period, cb.c.account_code, cb.c.counterparty, cb.c.currency)
                                    .limit(page.limit).offset(page.offset))).all()
        cur = c.functional_currency
        return {"currency": cur, "items": [{
            "account": b.account_code, "counterparty": b.counterparty, "period": b.period,
            "currency": b.currency or cur, "debit": money.format_amount(b.debit, cur),
            "credit": money.format_amount(b.credit, cur),
            "txn_amount": money.format_amount(b.txn_amount if b.currency else b.debit - b.credit, b.currency or cur),
        } for b in rows]}

    @r.get("/counterparty-totals", summary="The stored turnover per account, counterparty and transaction currency, "
                                           "over all months")
    async def list_counterparty_totals(company: str, page: Page = Depends(pagination(1000, 10000)),
                                       principal: Principal = Depends(read)) -> dict:
        """/v1/counterparty-balances added up over the months, as the ledger keeps it for the
        balance sheet (which reads the total less the months after its date)."""
        ct = CounterpartyTotal.__table__
        async with db.sessions() as s:
            c = await company_of(s, company, principal)
            rows = (await s.execute(sa.select(ct).where(ct.c.company_id == company)
                                    .order_by(ct.c.account_code, ct.c.counterparty, ct.c.currency)
                                    .limit(page.limit).offset(page.offset))).all()
        cur = c.functional_currency
        return {"currency": cur, "items": [{
            "account": b.account_code, "counterparty": b.counterparty, "currency": b.currency or cur,
            "debit": money.format_amount(b.debit, cur), "credit": money.format_amount(b.credit, cur),
            "txn_amount": money.format_amount(b.txn_amount if b.currency else b.debit - b.credit, b.currency or cur),
        } for b in rows]}

    @r.get("/balances", summary="Balances of accounts per counterparty and transaction currency (sub-ledger view)")
    async def get_balances(company: str, account: Annotated[str, Query(pattern=ACCOUNTS)],
                           by: Annotated[str, Query(pattern="^(customer|supplier|none)$")] = "none",
                           as_of: Date | None = None, principal: Principal = Depends(read)) -> dict:
        """Per account, counterparty (`by`) and transaction currency: the balance in that
        currency (functional amounts for lines without one) and in the functional currency
        (revaluations included: their lines carry the currency with a zero amount)."""
        jl = JournalLine.__table__
        dim = [jl.c[by]] if by != "none" else []
        q = (sa.select(jl.c.account_code, *dim, jl.c.txn_currency,
                       sa.func.sum(sa.case((jl.c.txn_currency == "", jl.c.debit - jl.c.credit), else_=jl.c.txn_amount)),
                       sa.func.sum(jl.c.debit - jl.c.credit))
             .where(jl.c.company_id == company, jl.c.account_code.in_(account.split(",")))
             .group_by(jl.c.account_code, *dim, jl.c.txn_currency))
        if as_of:
            q = q.where(jl.c.posting_date <= as_of)
        async with db.sessions() as s:
            c = await company_of(s, company, principal)
            rows = (await s.execute(q)).all()
        cur = c.functional_currency
        merged: dict[tuple, list[Decimal]] = {}
        for row in rows:
            code, txn_cur = row[0], row[-3] or cur
            key = (code, row[1] if dim else "", txn_cur)
            acc = merged.setdefault(key, [Decimal(0), Decimal(0)])
            acc[0] += Decimal(row[-2] or 0)
            acc[1] += Decimal(row[-1] or 0)
        return {"company": company, "currency": cur, "by": by, "items": [
            {"account": code, **({by: who} if by != "none" else {}), "currency": txn_cur,
             "balance": money.format_amount(txn, txn_cur), "functional_balance": money.format_amount(func, cur)}
            for (code, who, txn_cur), (txn, func) in sorted(merged.items())]}

    @r.get("/event-effects", summary="What the ledger did with each of these events (at most 200 ids)")
    async def get_effects(company: str,
                          event_id: Annotated[list[Annotated[str, Query(pattern=EVENT_ID)]], Query()],
                          principal: Principal = Depends(read)) -> dict:
        """For each id: `handled` (the posting consumer recorded it), the journal it made,
        its parking (reason, resolved), and its dead letters (error, replayed). An event
        handled with neither journal nor parking was recorded without one (not a posting
        event, or nothing to post)."""
        ids = sorted(set(event_id))
        if not 1 <= len(ids) <= 200:
            raise Unprocessable("give 1 to 200 event_id values")
        async with db.sessions() as s:
            await company_of(s, company, principal)
            handled = set((await s.execute(sa.select(InboxRecord.event_id).where(
                InboxRecord.consumer == posting_consumer, InboxRecord.event_id.in_(ids)))).scalars())
            journals = (await s.execute(sa.select(Journal.source_event_id, Journal.id, Journal.company_id).where(
                Journal.source_event_id.in_(ids)))).all()
            parked = (await s.execute(sa.select(ParkedEvent).where(ParkedEvent.event_id.in_(ids)))).scalars().all()
            dead = (await s.execute(sa.select(DeadLetter).where(
                DeadLetter.consumer == posting_consumer, DeadLetter.event_id.in_(ids)))).scalars().all()
        out = {i: {"event_id": i, "handled": i in handled, "journals": [], "parked": None, "dead_letters": []}
               for i in ids}
        for eid, jid, comp in journals:
            if comp == company:
                out[eid]["journals"].append(jid)
        for p in parked:
            if p.company_id == company:
                out[p.event_id]["parked"] = {"reason": p.reason, "resolved": p.resolved_at is not None,
                                             "resolution": p.resolution}
        for d in dead:
            if d.company_id in (company, None):
                out[d.event_id]["dead_letters"].append({"id": d.id, "error": d.error.splitlines()[0] if d.error else "",
                                                        "replayed": d.replayed_at is not None})
        return {"company": company, "items": list(out.values())}

    return r


def company_json(c: Company) -> dict:
    chart = load_chart(c.chart_template)
    return {"id": c.id, "name": c.name, "functional_currency": c.functional_currency,
            "chart_template": c.chart_template, "roles": dict(sorted(chart.roles.items())),
            "by_counterparty": dict(sorted(chart.by_counterparty.items()))}
