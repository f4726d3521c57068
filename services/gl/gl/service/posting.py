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
from opentelemetry import context as otel_context
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
        """Draft the event's journal (pure, per event, in the event's trace) and stage it;
        `before_commit` writes the whole batch's journals in a few statements."""
        if env.type not in self.posting_types:
            return  # not a posting event (master data and the like): recorded in the inbox only
        msg = env.payload
        company = await self._company(session, msg.company_id)
        with tracer.start_as_current_span("gl.post_journal", attributes={
            "finance.company_id": company.id, "finance.document": msg.document_number,
            "cloudevents.event_type": env.type,
        }):
            try:
                draft = self.rules.draft(ce_type=env.type, msg=msg, chart=load_chart(company.chart_template),
                                         functional_currency=company.functional_currency, event_id=env.id)
            except (NoRule, CurrencyMismatch, UnbalancedJournal, ValueError) as exc:
                raise PermanentError(f"{type(exc).__name__}: {exc}") from exc
            session.info.setdefault(_STAGED, []).append(_Staged(draft, current_trace_id(), otel_context.get_current()))

    async def before_commit(self, session: AsyncSession) -> None:
        staged = session.info.pop(_STAGED, [])
        if staged:
            with tracer.start_as_current_span("gl.write_journals", attributes={"finance.journals": len(staged)}):
                await write_journals(session, staged)


_STAGED = "gl.staged_journals"


@dataclass(frozen=True)
class _Staged:
    draft: JournalDraft
    trace_id: str
    context: otel_context.Context


async def post_journal(session: AsyncSession, draft: JournalDraft) -> dict:
    """Write one balanced journal now (in the caller's transaction)."""
    return (await write_journals(session, [_Staged(draft, current_trace_id(), otel_context.get_current())]))[0]


async def write_journals(session: AsyncSession, staged: list[_Staged]) -> list[dict]:
    """Insert journals, their lines and their JournalPosted events: gap-free numbers taken in
    one block per company and period, rows inserted as multi-row statements."""
    scopes: dict[tuple[str, str], list[_Staged]] = {}
    for s in staged:
        scopes.setdefault((s.draft.company_id, s.draft.period), []).append(s)
    numbers: dict[int, str] = {}
    for (company_id, period), items in scopes.items():
        first = await allocate(session, f"journal:{company_id}:{period}", len(items))
        for k, s in enumerate(items):
            numbers[id(s)] = f"JV{period.replace('-', '')}-{first + k:06d}"
    now = utcnow()
    journals, lines, events = [], [], []
    for s in staged:
        d = s.draft
        jid = str(uuid7())
        journals.append({
            "id": jid, "company_id": d.company_id, "number": numbers[id(s)], "posting_date": d.posting_date,
            "period": d.period, "currency": d.currency, "description": d.description[:500],
            "total_debit": d.total_debit, "total_credit": d.total_credit,
            "source_event_id": d.source_event_id or None, "source_event_type": d.source_event_type,
            "source_document": d.source_document, "rule_id": d.rule_id, "rule_version": d.rule_version,
            "trace_id": s.trace_id, "posted_at": now,
        })
        event = gl_events.JournalPosted(
            company_id=d.company_id, document_number=numbers[id(s)], occurrence_date=dates.to_proto(d.posting_date),
            journal_id=jid, period=d.period, source_event_id=d.source_event_id,
            source_event_type=d.source_event_type, source_document=d.source_document, rule_id=d.rule_id,
            rule_version=d.rule_version,
        )
        for i, line in enumerate(d.lines, start=1):
            lines.append({
                "journal_id": jid, "line_no": i, "company_id": d.company_id, "posting_date": d.posting_date,
                "account_code": line.account_code, "debit": line.debit, "credit": line.credit,
                "currency": line.currency, "memo": line.memo[:500], "cash_flow_item": line.cash_flow_item,
                **{dim: line.dimensions.get(dim, "") for dim in DIMENSIONS},
            })
            event.lines.append(gl_events.JournalLine(
                line_no=i, account_code=line.account_code,
                debit=money.to_proto(line.debit, line.currency), credit=money.to_proto(line.credit, line.currency),
                dimensions=types_pb2.Dimensions(**line.dimensions), cash_flow_item=line.cash_flow_item,
            ))
        events.append((s, event))
    await session.execute(sa.insert(Journal.__table__), journals)
    await session.execute(sa.insert(JournalLine.__table__), lines)
    for s, event in events:
        token = otel_context.attach(s.context)  # the event continues the trace of its source
        try:
            add_event(session, event, source="gl")
        finally:
            otel_context.detach(token)
    return journals


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
