"""Use cases of the ledger: set up a company, post an event by the rules, read balances."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from finance.common.v1 import types_pb2
from finance.gl.v1 import events_pb2 as gl_events
from fincore import dates, money
from fincore.events.envelope import Envelope
from fincore.inbox import PermanentError
from fincore.outbox import add_event
from fincore.sequences import allocate
from fincore.tables import utcnow
from fincore.telemetry import current_trace_id
from opentelemetry import trace
from sqlalchemy.ext.asyncio import AsyncSession
from uuid6 import uuid7

from gl.adapters.tables import Account, Company, Journal, JournalLine
from gl.domain.chart import load_chart
from gl.domain.journal import DIMENSIONS, JournalDraft, UnbalancedJournal
from gl.domain.rules import CurrencyMismatch, NoRule, RuleBook

log = logging.getLogger(__name__)
tracer = trace.get_tracer("gl.posting")


class CompanyExists(Exception):
    pass


async def create_company(session: AsyncSession, *, company_id: str, name: str, functional_currency: str,
                         chart_template: str) -> Company:
    chart = load_chart(chart_template)
    money.minor_units(functional_currency)
    if await session.get(Company, company_id) is not None:
        raise CompanyExists(company_id)
    company = Company(id=company_id, name=name, functional_currency=functional_currency,
                      chart_template=chart_template, created_at=utcnow())
    session.add(company)
    await session.flush()
    for a in chart.accounts.values():
        session.add(Account(company_id=company_id, code=a.code, name_zh=a.name_zh, name_en=a.name_en,
                            type=a.type, normal=a.normal, control=a.control, cash=a.cash))
    return company


@dataclass(frozen=True)
class CompanyBooks:
    """What posting needs to know of a company; plain values, so a cached copy never
    depends on a session (an ORM instance would be expired by the next rollback)."""

    id: str
    functional_currency: str
    chart_template: str


class Poster:
    """Turns events into journals (the GL's consumer handler)."""

    def __init__(self, rules: RuleBook) -> None:
        self.rules = rules
        self._companies: dict[str, CompanyBooks] = {}
        self.posting_types = set(rules.event_types)

    async def _company(self, session: AsyncSession, company_id: str) -> CompanyBooks:
        books = self._companies.get(company_id)
        if books is None:
            company = await session.get(Company, company_id)
            if company is None:
                raise PermanentError(f"company {company_id!r} is not set up in the ledger")
            books = CompanyBooks(company.id, company.functional_currency, company.chart_template)
            self._companies[company_id] = books
        return books

    async def __call__(self, session: AsyncSession, env: Envelope) -> None:
        if env.type not in self.posting_types:
            return  # not a posting event (master data and the like): recorded in the inbox only
        msg = env.payload
        company = await self._company(session, msg.company_id)
        with tracer.start_as_current_span("gl.post_journal", attributes={
            "finance.company_id": company.id, "finance.document": msg.document_number,
            "cloudevents.event_type": env.type,
        }) as span:
            try:
                draft = self.rules.draft(ce_type=env.type, msg=msg, chart=load_chart(company.chart_template),
                                         functional_currency=company.functional_currency, event_id=env.id)
            except (NoRule, CurrencyMismatch, UnbalancedJournal, ValueError) as exc:
                raise PermanentError(f"{type(exc).__name__}: {exc}") from exc
            journal = await post_journal(session, draft)
            span.set_attribute("finance.journal_number", journal.number)


async def post_journal(session: AsyncSession, draft: JournalDraft) -> Journal:
    seq = await allocate(session, f"journal:{draft.company_id}:{draft.period}")
    journal = Journal(
        id=str(uuid7()), company_id=draft.company_id, number=f"JV{draft.period.replace('-', '')}-{seq:06d}",
        posting_date=draft.posting_date, period=draft.period, currency=draft.currency,
        description=draft.description[:500], total_debit=draft.total_debit, total_credit=draft.total_credit,
        source_event_id=draft.source_event_id or None, source_event_type=draft.source_event_type,
        source_document=draft.source_document, rule_id=draft.rule_id, rule_version=draft.rule_version,
        trace_id=current_trace_id(), posted_at=utcnow(),
    )
    session.add(journal)
    await session.flush()  # header before lines (lines reference it)
    event = gl_events.JournalPosted(
        company_id=draft.company_id, document_number=journal.number,
        occurrence_date=dates.to_proto(draft.posting_date), journal_id=journal.id, period=draft.period,
        source_event_id=draft.source_event_id, source_event_type=draft.source_event_type,
        source_document=draft.source_document, rule_id=draft.rule_id, rule_version=draft.rule_version,
    )
    for i, line in enumerate(draft.lines, start=1):
        session.add(JournalLine(
            journal_id=journal.id, line_no=i, company_id=draft.company_id, posting_date=draft.posting_date,
            account_code=line.account_code, debit=line.debit, credit=line.credit, currency=line.currency,
            memo=line.memo[:500], cash_flow_item=line.cash_flow_item, **line.dimensions,
        ))
        event.lines.append(gl_events.JournalLine(
            line_no=i, account_code=line.account_code,
            debit=money.to_proto(line.debit, line.currency), credit=money.to_proto(line.credit, line.currency),
            dimensions=types_pb2.Dimensions(**line.dimensions), cash_flow_item=line.cash_flow_item,
        ))
    add_event(session, event, source="gl")
    return journal


async def trial_balance(session: AsyncSession, company: Company, as_of: dt.date) -> dict:
    jl = JournalLine.__table__
    rows = (await session.execute(
        sa.select(jl.c.account_code, sa.func.sum(jl.c.debit), sa.func.sum(jl.c.credit))
        .where(jl.c.company_id == company.id, jl.c.posting_date <= as_of)
        .group_by(jl.c.account_code).order_by(jl.c.account_code)
    )).all()
    accounts = {a.code: a for a in (await session.execute(
        sa.select(Account).where(Account.company_id == company.id))).scalars()}
    q = lambda v: money.quantize(Decimal(v or 0), company.functional_currency)  # noqa: E731
    lines, total_dr, total_cr = [], Decimal(0), Decimal(0)
    for code, dr, cr in rows:
        dr, cr = q(dr), q(cr)
        net = dr - cr
        acct = accounts.get(code)
        lines.append({
            "account": code, "name_zh": acct.name_zh if acct else "", "name_en": acct.name_en if acct else "",
            "type": acct.type if acct else "", "debit_turnover": str(dr), "credit_turnover": str(cr),
            "debit_balance": str(net if net > 0 else Decimal(0).quantize(dr)),
            "credit_balance": str(-net if net < 0 else Decimal(0).quantize(dr)),
        })
        total_dr += dr
        total_cr += cr
    bal_dr = sum((Decimal(x["debit_balance"]) for x in lines), Decimal(0))
    bal_cr = sum((Decimal(x["credit_balance"]) for x in lines), Decimal(0))
    n_journals = (await session.execute(
        sa.select(sa.func.count()).select_from(Journal)
        .where(Journal.company_id == company.id, Journal.posting_date <= as_of))).scalar_one()
    return {
        "company": company.id, "as_of": as_of.isoformat(), "currency": company.functional_currency,
        "journals": n_journals, "lines": lines,
        "totals": {"debit_turnover": str(q(total_dr)), "credit_turnover": str(q(total_cr)),
                   "debit_balance": str(q(bal_dr)), "credit_balance": str(q(bal_cr))},
        "balanced": total_dr == total_cr and bal_dr == bal_cr,
    }


def journal_json(j: Journal, lines: list[JournalLine] | None = None) -> dict:
    out = {
        "id": j.id, "company": j.company_id, "number": j.number, "posting_date": j.posting_date.isoformat(),
        "period": j.period, "currency": j.currency, "description": j.description,
        "total_debit": str(money.quantize(j.total_debit, j.currency)),
        "total_credit": str(money.quantize(j.total_credit, j.currency)),
        "source": {"event_id": j.source_event_id, "event_type": j.source_event_type,
                   "document": j.source_document, "trace_id": j.trace_id},
        "rule": {"id": j.rule_id, "version": j.rule_version}, "posted_at": j.posted_at.isoformat(),
    }
    if lines is not None:
        out["lines"] = [{
            "line_no": ln.line_no, "account": ln.account_code,
            "debit": str(money.quantize(ln.debit, ln.currency)), "credit": str(money.quantize(ln.credit, ln.currency)),
            "memo": ln.memo, "cash_flow_item": ln.cash_flow_item,
            "dimensions": {d: getattr(ln, d) for d in DIMENSIONS if getattr(ln, d)},
        } for ln in sorted(lines, key=lambda x: x.line_no)]
    return out
