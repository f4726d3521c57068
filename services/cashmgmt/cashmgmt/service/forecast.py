"""Use cases of the cash-flow forecast: make one (and keep it as a snapshot with every document
behind it), read it back bucket by bucket, drill into a bucket, compare past weeks with the bank.

The snapshot is what was forecast then, never recomputed: comparing it with the bank's lines
once its weeks have passed is the point. Actuals are the company's bank statement lines (what
the bank booked), counted only for weeks every account in the currency has statements for."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from fincore import money
from fincore.db import Database
from fincore.tables import utcnow
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils import uuid7

from cashmgmt.adapters.forecast_sources import ForecastSources
from cashmgmt.adapters.forecast_tables import CashForecast, CashForecastLine, ForecastBudgetMapping
from cashmgmt.adapters.tables import BankAccount, Statement, StatementLine
from cashmgmt.domain.forecast import (
    SOURCES,
    Actual,
    BudgetMapping,
    Flow,
    actuals_by_week,
    days_late,
    forecast,
    horizon,
    summarise,
)

ZERO = Decimal(0)


class MappingError(ValueError):
    pass


async def mappings(session: AsyncSession, company: str) -> list[ForecastBudgetMapping]:
    return list((await session.execute(sa.select(ForecastBudgetMapping).where(
        ForecastBudgetMapping.company_id == company).order_by(ForecastBudgetMapping.budget_item))).scalars())


async def map_budget_item(session: AsyncSession, company: str, budget_item: str, *, direction: str,
                          day_of_month: int, actor: str) -> ForecastBudgetMapping:
    if direction not in ("in", "out") or not 1 <= day_of_month <= 31:
        raise MappingError("direction is in or out; day_of_month 1..31 (past a month's end: its last day)")
    row = await session.get(ForecastBudgetMapping, (company, budget_item))
    if row is None:
        row = ForecastBudgetMapping(company_id=company, budget_item=budget_item, direction=direction,
                                    day_of_month=day_of_month, updated_by=actor, updated_at=utcnow())
        session.add(row)
    else:
        row.direction, row.day_of_month, row.updated_by, row.updated_at = direction, day_of_month, actor, utcnow()
    return row


async def unmap_budget_item(session: AsyncSession, company: str, budget_item: str) -> None:
    row = await session.get(ForecastBudgetMapping, (company, budget_item))
    if row is None:
        raise LookupError(f"budget item {budget_item} is not mapped to the forecast")
    await session.delete(row)


async def opening_balances(session: AsyncSession, company: str, as_of: dt.date) -> dict[str, Decimal]:
    """Per currency, the last closing balance the bank reported by `as_of`, over every account."""
    out: dict[str, Decimal] = {}
    accounts = (await session.execute(sa.select(BankAccount).where(BankAccount.company_id == company))).scalars()
    for a in accounts:
        last = (await session.execute(sa.select(Statement).where(
            Statement.bank_account_id == a.id, Statement.closing_date <= as_of)
            .order_by(Statement.seq.desc()).limit(1))).scalar_one_or_none()
        if last is not None:
            out[a.currency] = out.get(a.currency, ZERO) + Decimal(last.closing_balance)
    return out


async def make_forecast(db: Database, sources: ForecastSources, *, company: str, as_of: dt.date, token: str,
                        actor: str) -> CashForecast:
    async with db.sessions() as s:
        mapped = [BudgetMapping(m.budget_item, m.direction, m.day_of_month) for m in await mappings(s, company)]
        opening = await opening_balances(s, company, as_of)
    inputs = await sources.inputs(company, as_of, token, mapped)  # no transaction held while others answer
    dated, _ = forecast(inputs, as_of, opening)
    fc = CashForecast(id=str(uuid7()), company_id=company, as_of=as_of, first_week=horizon(as_of)[0],
                      opening={c: str(v) for c, v in opening.items()}, days_late=days_late(inputs.history),
                      created_by=actor, created_at=utcnow())
    async with db.transaction() as s:
        s.add(fc)
        await s.flush()
        s.add_all(CashForecastLine(forecast_id=fc.id, week=w, source=f.source, currency=f.currency,
                                   expected_on=f.expected_on, amount=f.amount, document_kind=f.document_kind,
                                   document_id=f.document_id, number=f.number, party=f.party, basis=f.basis[:300])
                  for w, f in dated)
    return fc


async def _lines(session: AsyncSession, fc: CashForecast, **where) -> list[CashForecastLine]:
    q = sa.select(CashForecastLine).where(CashForecastLine.forecast_id == fc.id)
    for k, v in where.items():
        q = q.where(getattr(CashForecastLine, k) == v if v is not None else getattr(CashForecastLine, k).is_(None))
    return list((await session.execute(q.order_by(CashForecastLine.expected_on, CashForecastLine.source,
                                                  CashForecastLine.number))).scalars())


def _flow(ln: CashForecastLine) -> Flow:
    return Flow(ln.source, ln.currency, ln.expected_on, Decimal(ln.amount), ln.document_kind, ln.document_id,
                ln.number, ln.party, ln.basis)


async def actuals(session: AsyncSession, company: str, as_of: dt.date) -> dict[str, list]:
    """(in, out) per currency and week from the bank's lines, None for weeks not fully reported."""
    start, end = horizon(as_of)
    known: dict[str, dt.date | None] = {}
    for a in (await session.execute(sa.select(BankAccount).where(BankAccount.company_id == company))).scalars():
        last = (await session.execute(sa.select(sa.func.max(Statement.closing_date)).where(
            Statement.bank_account_id == a.id))).scalar()
        prev = known.get(a.currency, dt.date.max)
        known[a.currency] = None if last is None or prev is None else min(prev, last)
    lines = (await session.execute(sa.select(StatementLine.currency, StatementLine.booking_date,
                                             StatementLine.amount).where(
        StatementLine.company_id == company, StatementLine.booking_date >= start,
        StatementLine.booking_date < end))).all()
    return actuals_by_week([Actual(c, d, Decimal(a)) for c, d, a in lines], as_of,
                           {c: d for c, d in known.items() if d is not None})


def _amounts(d: dict[str, Decimal], cur: str) -> dict[str, str]:
    return {s: money.format_amount(d[s], cur) for s in SOURCES if s in d}


async def forecast_json(session: AsyncSession, fc: CashForecast, *, with_actuals: bool = True) -> dict:
    lines = await _lines(session, fc)
    opening = {c: Decimal(v) for c, v in fc.opening.items()}
    buckets = summarise(((ln.week, _flow(ln)) for ln in lines), fc.as_of, opening)
    actual = await actuals(session, fc.company_id, fc.as_of) if with_actuals else {}
    fmt = money.format_amount
    currencies = []
    for cur, cf in buckets.items():
        weeks = []
        for b, closing, act in zip(cf.buckets, cf.closing(), actual.get(cur) or [None] * len(cf.buckets),
                                   strict=True):
            weeks.append({
                "week": b.week, "start": b.start.isoformat(), "end": b.end.isoformat(),
                "inflows": _amounts(b.inflows, cur), "outflows": _amounts(b.outflows, cur),
                "inflow": fmt(b.inflow, cur), "outflow": fmt(b.outflow, cur), "net": fmt(b.net, cur),
                "closing": fmt(closing, cur) if closing is not None else None, "documents": b.documents,
                "actual": None if act is None else {
                    "inflow": fmt(act[0], cur), "outflow": fmt(act[1], cur), "net": fmt(act[0] + act[1], cur),
                    "variance": fmt(act[0] + act[1] - b.net, cur)}})
        currencies.append({"currency": cur, "opening": fmt(cf.opening, cur) if cf.opening is not None else None,
                           "beyond": fmt(cf.beyond, cur), "beyond_documents": cf.beyond_documents, "weeks": weeks})
    return {**header_json(fc), "days_late": fc.days_late, "currencies": currencies}


def header_json(fc: CashForecast) -> dict:
    return {"id": fc.id, "company": fc.company_id, "as_of": fc.as_of.isoformat(),
            "first_week": fc.first_week.isoformat(), "created_by": fc.created_by,
            "created_at": fc.created_at.isoformat()}


def line_json(ln: CashForecastLine) -> dict:
    return {"week": ln.week, "source": ln.source, "currency": ln.currency, "expected_on": ln.expected_on.isoformat(),
            "amount": money.format_amount(ln.amount, ln.currency), "document_kind": ln.document_kind,
            "document_id": ln.document_id, "number": ln.number, "party": ln.party, "basis": ln.basis}


async def bucket_documents(session: AsyncSession, fc: CashForecast, currency: str, week: int | None,
                           source: str = "") -> list[dict]:
    rows = await _lines(session, fc, currency=currency, week=week, **({"source": source} if source else {}))
    return [line_json(ln) for ln in rows]
