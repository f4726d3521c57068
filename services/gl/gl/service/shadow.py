"""Shadow re-post: run candidate rules over the events the ledger already posted in a date
range and report how the books would differ, without writing anything. A rule change is
reviewed against real history before it goes live."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from fincore import money
from fincore.events.registry import registry
from sqlalchemy.ext.asyncio import AsyncSession

from gl.adapters.tables import Account, Company, Journal, JournalLine, SourceEvent
from gl.domain.chart import load_chart
from gl.domain.rules import RuleBook

ZERO = Decimal(0)


async def shadow_repost(session: AsyncSession, company: Company, book: RuleBook, *, start: dt.date,
                        end: dt.date) -> dict:
    chart = load_chart(company.chart_template)
    cur = company.functional_currency
    events = (await session.execute(
        sa.select(SourceEvent).join(Journal, Journal.source_event_id == SourceEvent.event_id)
        .where(SourceEvent.company_id == company.id, SourceEvent.occurrence_date >= start,
               SourceEvent.occurrence_date <= end).order_by(SourceEvent.occurrence_date))).scalars().all()
    posted: dict[str, Decimal] = {}
    jl, j = JournalLine.__table__, Journal.__table__
    rows = (await session.execute(
        sa.select(jl.c.account_code, sa.func.sum(jl.c.debit - jl.c.credit))
        .join(j, j.c.id == jl.c.journal_id)
        .where(j.c.company_id == company.id, j.c.kind == "event", j.c.source_event_id.in_([e.event_id for e in events]))
        .group_by(jl.c.account_code))).all() if events else []
    for code, net in rows:
        posted[code] = Decimal(net or 0)
    candidate: dict[str, Decimal] = {}
    changed, failed, rules_used = [], [], {}
    per_event_posted = {}
    if events:
        for jid, eid in (await session.execute(sa.select(j.c.id, j.c.source_event_id).where(
                j.c.source_event_id.in_([e.event_id for e in events])))).all():
            per_event_posted[eid] = jid
    for e in events:
        msg = registry.by_type(e.event_type).message_class.FromString(e.payload)
        try:
            d = book.draft(ce_type=e.event_type, msg=msg, chart=chart, functional_currency=cur, event_id=e.event_id)
        except (LookupError, ValueError) as exc:
            failed.append({"event_id": e.event_id, "document": e.document_number,
                           "error": f"{type(exc).__name__}: {exc}"})
            continue
        rules_used[f"{d.rule_id} v{d.rule_version}"] = rules_used.get(f"{d.rule_id} v{d.rule_version}", 0) + 1
        for ln in d.lines:
            candidate[ln.account_code] = candidate.get(ln.account_code, ZERO) + ln.debit - ln.credit
        changed.append(e.event_id)
    types = {a.code: a.type for a in (await session.execute(
        sa.select(Account).where(Account.company_id == company.id))).scalars()}
    diffs = []
    for code in sorted(set(posted) | set(candidate)):
        p, c = posted.get(code, ZERO), candidate.get(code, ZERO)
        if p != c:
            diffs.append({"account": code, "type": types.get(code, ""), "posted": str(money.quantize(p, cur)),
                          "candidate": str(money.quantize(c, cur)), "difference": str(money.quantize(c - p, cur))})

    def net_income(bal: dict[str, Decimal]) -> Decimal:
        return -sum((v for k, v in bal.items() if types.get(k) in ("revenue", "expense")), ZERO)

    return {"company": company.id, "from": start.isoformat(), "to": end.isoformat(), "events": len(events),
            "rules_applied": rules_used, "failed": failed, "trial_balance_differences": diffs,
            "income_statement": {"posted_net_income": str(money.quantize(net_income(posted), cur)),
                                 "candidate_net_income": str(money.quantize(net_income(candidate), cur))},
            "posted_anything": False}
