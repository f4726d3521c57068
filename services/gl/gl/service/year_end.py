"""Year-end close: the year's profit or loss moves to retained earnings, and the year's
months are closed.

The procedure, run after the year has ended (refused before):
1. what remains on the year's revenue and expense accounts (per account and dimension set,
   earlier runs included) is moved to retained earnings by a closing journal dated 31
   December; the year's last period takes it even when already closed;
2. every month of the year still open is closed (audited, PeriodClosed published).

It can be run again: a late adjustment posted into the closed year (its month reopened, with
a reason) leaves a remainder, and the next run carries exactly that remainder; a run with
nothing left carries nothing and changes nothing. A closing journal is never reversed (the
reversal endpoint refuses it), so the year's income statement, which leaves closing journals
out, never counts a revenue twice. Reopening a closed year is not offered: adjustments are
carried by running the close again."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from fincore import money
from fincore.tables import utcnow
from sqlalchemy.ext.asyncio import AsyncSession

from gl.adapters.tables import Account, Company, Journal, JournalLine, ParkedEvent, PeriodAudit
from gl.domain.chart import load_chart
from gl.domain.journal import DIMENSIONS, DraftLine, JournalDraft
from gl.service.posting import LedgerError, close_period, post_journal


class YearNotEnded(LedgerError):
    pass


async def year_end_close(session: AsyncSession, company: Company, year: int, *, actor: str,
                         today: dt.date) -> dict:
    end = dt.date(year, 12, 31)
    if today <= end:
        raise YearNotEnded(f"{year} has not ended: its year-end close can run from {end + dt.timedelta(days=1)}")
    # One run at a time per company: a second concurrent run waits, then finds nothing left.
    await session.get(Company, company.id, with_for_update=True, populate_existing=True)
    cur = company.functional_currency
    jl, acct, j = JournalLine.__table__, Account.__table__, Journal.__table__
    dims = [jl.c[d] for d in DIMENSIONS]
    rows = (await session.execute(
        sa.select(jl.c.account_code, *dims, sa.func.sum(jl.c.debit - jl.c.credit))
        .join(acct, sa.and_(acct.c.company_id == jl.c.company_id, acct.c.code == jl.c.account_code))
        .where(jl.c.company_id == company.id, acct.c.type.in_(("revenue", "expense")),
               jl.c.posting_date >= dt.date(year, 1, 1), jl.c.posting_date <= end)
        .group_by(jl.c.account_code, *dims).order_by(jl.c.account_code, *dims))).all()
    lines, profit = [], Decimal(0)
    for code, *values, net in rows:
        net = money.quantize(Decimal(net or 0), cur)
        if net == 0:
            continue
        profit -= net
        lines.append(DraftLine(code, max(-net, Decimal(0)), max(net, Decimal(0)), cur, f"year-end close {year}",
                               {d: v for d, v in zip(DIMENSIONS, values, strict=True) if v}))
    run = 1 + (await session.execute(sa.select(sa.func.count()).where(
        j.c.company_id == company.id, j.c.kind == "closing", j.c.posting_date == end))).scalar_one()
    re_code = load_chart(company.chart_template).account_for("retained_earnings")
    journal = None
    if lines:
        lines.append(DraftLine(re_code, max(-profit, Decimal(0)), max(profit, Decimal(0)), cur,
                               f"profit of {year}" if run == 1 else f"late adjustments to {year}"))
        draft = JournalDraft(company_id=company.id, posting_date=end, currency=cur,
                             description=f"Year-end close {year}" + (f" (run {run})" if run > 1 else ""),
                             lines=tuple(lines), source_event_type="gl.year_end_close",
                             source_document=f"YE{year}-{run}", rule_id="year_end_close", rule_version=1)
        journal = await post_journal(session, draft, kind="closing", posted_by=actor, into_closed_period=True)
    closed = []
    for month in range(1, 13):
        period = f"{year:04d}-{month:02d}"
        state = await close_period(session, company_id=company.id, period=period, actor=actor,
                                   reason=f"year-end close {year}")
        if state.changed:
            closed.append(period)
    if journal or closed:
        session.add(PeriodAudit(company_id=company.id, period=f"{year:04d}-12", action="year_end_closed",
                                reason=f"run {run}: profit {money.quantize(profit, cur)} to {re_code}"
                                       + (f"; closed {', '.join(closed)}" if closed else ""),
                                actor=actor, at=utcnow()))
    parked = (await session.execute(
        sa.select(sa.func.count()).where(ParkedEvent.company_id == company.id, ParkedEvent.resolved_at.is_(None),
                                         ParkedEvent.period.between(f"{year:04d}-01", f"{year:04d}-12")))).scalar_one()
    return {"company": company.id, "year": year, "run": run if journal else run - 1,
            "journal_id": journal and journal["id"], "number": journal and journal["number"],
            "carried": str(money.quantize(profit, cur)), "retained_earnings": re_code, "periods_closed": closed,
            "parked_events": parked}
