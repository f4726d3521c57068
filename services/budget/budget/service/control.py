"""Check, reserve, commit and release budget (the gRPC BudgetService and AP's requests use these).

A reservation or commit locks the budget line (SELECT ... FOR UPDATE on PostgreSQL) before
it reads the line's consumption, so two concurrent requests that together exceed a BLOCK
line cannot both pass: the second waits for the first and then sees its reservation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from finance.budget.v1 import events_pb2 as budget_events
from fincore import dates, money
from fincore.outbox import add_event
from fincore.tables import utcnow
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from budget.adapters.tables import Actual, BudgetLine, Commitment, ItemAccount, Reservation, ThresholdHit
from budget.domain.control import ZERO, Decision, LineFigures, decide, reached, refused


class BudgetError(ValueError):
    """A request that cannot be answered (unknown reservation...)."""


def _figures_statement():
    """A line with its consumption in one statement, built once (CheckBudget is a hot path)."""
    co, cc, item, period, now = (sa.bindparam(n) for n in ("co", "cc", "item", "period", "now"))
    t = BudgetLine.__table__
    actual = sa.select(sa.func.coalesce(sa.func.sum(Actual.amount), 0)).where(
        Actual.line_id == t.c.id).scalar_subquery()
    committed = sa.select(sa.func.coalesce(sa.func.sum(Commitment.amount - Commitment.actualised), 0)).where(
        Commitment.line_id == t.c.id).scalar_subquery()
    reserved = sa.select(sa.func.coalesce(sa.func.sum(Reservation.amount), 0)).where(
        Reservation.line_id == t.c.id, Reservation.status == "reserved", Reservation.expires_at > now).scalar_subquery()
    mapped = sa.select(sa.func.count()).where(
        ItemAccount.company_id == t.c.company_id, ItemAccount.budget_item == t.c.budget_item).scalar_subquery()
    cols = (t.c.id, t.c.currency, t.c.amount, t.c.tolerance_pct, t.c.control_mode, actual, committed, reserved, mapped)
    by_key = sa.select(*cols).where(t.c.company_id == co, t.c.cost_centre == cc, t.c.budget_item == item,
                                    t.c.period == period)
    by_id = sa.select(*cols).where(t.c.id == sa.bindparam("line_id"))
    return by_key, by_id


_BY_KEY, _BY_ID = _figures_statement()


def _row_figures(row) -> LineFigures:
    return LineFigures(row[0], row[1], Decimal(row[2]), Decimal(row[3]), row[4], Decimal(row[5]), Decimal(row[6]),
                       Decimal(row[7]))


async def _conn(s: AsyncSession | AsyncConnection) -> AsyncConnection:
    return await s.connection() if isinstance(s, AsyncSession) else s


async def figures_by_id(s: AsyncSession | AsyncConnection, line_id: str) -> LineFigures:
    row = (await (await _conn(s)).execute(_BY_ID, {"line_id": line_id, "now": utcnow()})).one()
    return _row_figures(row)


async def _lookup(s, company: str, cost_centre: str, item: str, period: str, amount: Decimal):
    """(figures, None) or (None, refusal) when the spend cannot be mapped to a budget line."""
    if not cost_centre:
        return None, refused("no cost centre: the spend cannot be mapped to a budget line", amount)
    if not item:
        return None, refused("no budget item: the spend cannot be mapped to a budget line", amount)
    row = (await (await _conn(s)).execute(_BY_KEY, {"co": company, "cc": cost_centre, "item": item, "period": period,
                                                    "now": utcnow()})).one_or_none()
    if row is None:
        return None, refused(f"no approved budget for cost centre {cost_centre}, item {item}, period {period} "
                             f"in company {company}", amount)
    if not row[8]:
        return None, refused(f"budget item {item} is mapped to no GL account, so its actuals could not be "
                             f"tracked", amount)
    return _row_figures(row), None


async def check_budget(s: AsyncSession | AsyncConnection, company: str, cost_centre: str, item: str, period: str,
                       amount: Decimal) -> Decision:
    """Read-only; one round trip."""
    f, refusal = await _lookup(s, company, cost_centre, item, period, amount)
    return refusal or decide(f, amount)


async def _lock(session: AsyncSession, line_id: str) -> None:
    q = sa.select(BudgetLine.id).where(BudgetLine.id == line_id)
    if session.bind.dialect.name == "postgresql":
        q = q.with_for_update()
    await session.execute(q)


def _after(d: Decision, f: LineFigures) -> Decision:
    return Decision(d.allowed, d.warning, d.reason, f, d.requested)


async def reserve(session: AsyncSession, company: str, cost_centre: str, item: str, period: str, amount: Decimal,
                  document_ref: str, *, ttl: dt.timedelta) -> Decision:
    """Encumber `amount` for a document if it fits (or the line only warns). Idempotent by document."""
    if amount <= 0:
        raise BudgetError("amount must be positive")
    f, refusal = await _lookup(session, company, cost_centre, item, period, amount)
    if refusal:
        return refusal
    await _lock(session, f.line_id)
    f = await figures_by_id(session, f.line_id)  # re-read under the lock
    existing = await session.get(Reservation, (company, document_ref))
    if existing is not None and existing.status in ("reserved", "committed"):
        if existing.line_id != f.line_id:
            raise BudgetError(f"document {document_ref} already holds budget on another line")
        return Decision(True, existing.warning, f"already reserved for {document_ref}", f, existing.requested)
    d = decide(f, amount)
    if not d.allowed:
        return d
    now = utcnow()
    if existing is None:
        session.add(Reservation(company_id=company, document_ref=document_ref, line_id=f.line_id, requested=amount,
                                amount=amount, status="reserved", warning=d.warning, expires_at=now + ttl,
                                created_at=now))
    else:  # a released reservation asked for again
        existing.requested, existing.amount, existing.status, existing.warning = amount, amount, "reserved", d.warning
        existing.expires_at = now + ttl
    await session.flush()
    after = await figures_by_id(session, f.line_id)
    await _events(session, company, document_ref, d, f, after)
    return _after(d, after)


async def commit(session: AsyncSession, company: str, document_ref: str, amount: Decimal, invoice_ref: str) -> Decision:
    """Reserved -> consumed: an invoice for the document was approved. The part of `amount` the
    reservation does not cover (a price increase, a lapsed reservation) is checked like a new
    spend. Idempotent by (document_ref, invoice_ref)."""
    if amount <= 0:
        raise BudgetError("amount must be positive")
    res = await session.get(Reservation, (company, document_ref))
    if res is None:
        raise BudgetError(f"no reservation for {document_ref} in company {company}: Reserve before Commit")
    await _lock(session, res.line_id)
    await session.refresh(res)
    f = await figures_by_id(session, res.line_id)
    invoice_ref = invoice_ref or document_ref
    if await session.get(Commitment, (company, document_ref, invoice_ref)) is not None:
        return Decision(True, False, f"already committed for {invoice_ref}", f, amount)
    live = res.amount if res.status == "reserved" and _aware(res.expires_at) > utcnow() else ZERO
    extra = amount - live
    d = Decision(True, False, "within the reservation", f, amount)
    if extra > 0:
        d = decide(f, extra)
        if not d.allowed:
            return Decision(False, False, d.reason, f, amount)
    session.add(Commitment(company_id=company, document_ref=document_ref, invoice_ref=invoice_ref,
                           line_id=res.line_id, amount=amount, actualised=ZERO, created_at=utcnow()))
    res.amount = max(ZERO, live - amount)
    if res.amount == 0:
        res.status = "committed"
    await session.flush()
    after = await figures_by_id(session, res.line_id)
    await _events(session, company, invoice_ref, d, f, after)
    return _after(Decision(True, d.warning, d.reason, f, amount), after)


async def release(session: AsyncSession, company: str, document_ref: str) -> Decision:
    """Drop what is still reserved for a document (request or order cancelled, order closed). Idempotent."""
    res = await session.get(Reservation, (company, document_ref))
    if res is None:
        return refused(f"no reservation for {document_ref}")
    await _lock(session, res.line_id)
    await session.refresh(res)
    released = res.amount if res.status == "reserved" else ZERO
    if res.status == "reserved":
        res.amount, res.status = ZERO, "released"
        await session.flush()
    f = await figures_by_id(session, res.line_id)
    return Decision(True, False, f"released {money.quantize(released, f.currency)}" if released
                    else f"nothing reserved for {document_ref}", f, released)


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


async def _events(session: AsyncSession, company: str, document: str, d: Decision, before: LineFigures,
                  after: LineFigures) -> None:
    line = await session.get(BudgetLine, after.line_id)
    m = lambda v: money.to_proto(money.quantize(v, after.currency), after.currency)  # noqa: E731
    today = dates.to_proto(dt.date.today())
    if d.warning:
        add_event(session, budget_events.BudgetWarningRaised(
            company_id=company, document_number=document, occurrence_date=today, budget_line_id=line.id,
            cost_centre=line.cost_centre, budget_item=line.budget_item, period=line.period, requested=m(d.requested),
            available=m(before.headroom), reason=d.reason), source="budget")
    await threshold_events(session, line, after)


async def threshold_events(session: AsyncSession, line: BudgetLine, f: LineFigures) -> None:
    """BudgetThresholdReached once per line, version and threshold."""
    for t in reached(f):
        if await session.get(ThresholdHit, (line.id, line.version_id, t)) is not None:
            continue
        session.add(ThresholdHit(line_id=line.id, version_id=line.version_id, threshold=t, reached_at=utcnow()))
        m = lambda v: money.to_proto(money.quantize(v, f.currency), f.currency)  # noqa: E731
        add_event(session, budget_events.BudgetThresholdReached(
            company_id=line.company_id, document_number=f"{line.cost_centre}/{line.budget_item}/{line.period}",
            occurrence_date=dates.to_proto(dt.date.today()), budget_line_id=line.id, cost_centre=line.cost_centre,
            budget_item=line.budget_item, period=line.period, threshold_percent=t, budget=m(f.budget),
            consumed=m(f.consumed), committed=m(f.reserved)), source="budget")
    await session.flush()
