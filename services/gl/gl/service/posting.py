"""Use cases that write the ledger: set up a company, post events by the rules (or park
them when their period is closed), manual journals, reversals, periods, year-end close."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cache

import sqlalchemy as sa
from finance.gl.v1 import events_pb2 as gl_events
from fincore import dates, money
from fincore.db import HotStatement, bulk_insert, locked
from fincore.events.envelope import Envelope
from fincore.events.registry import registry
from fincore.inbox import PermanentError
from fincore.outbox import add_event, event_rows
from fincore.sequences import allocate_many
from fincore.tables import OutboxRecord, utcnow
from fincore.telemetry import current_trace_id, recording
from google.protobuf.message import Message
from opentelemetry import context as otel_context
from opentelemetry import trace
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils import uuid7

from gl.adapters.tables import (
    NOT_FROM_EVENTS,
    Account,
    BankAccountMap,
    Company,
    CounterpartyBalance,
    CounterpartyTotal,
    ExchangeRate,
    Journal,
    JournalLine,
    ParkedEvent,
    Period,
    PeriodAudit,
    PeriodBalance,
    SourceEvent,
)
from gl.domain.chart import load_chart
from gl.domain.journal import DIMENSIONS, DraftLine, JournalDraft, UnbalancedJournal
from gl.domain.postable import AccountBlocked, PostingRefused, blocked_in, check_lines
from gl.domain.rules import MissingRate, NothingToPost, RuleBook
from gl.domain.settlement import BANK_ACCOUNT, AwaitingDocument, OpenItem, awaited_bank_account, awaiting
from gl.service import banks, legacy

log = logging.getLogger(__name__)
tracer = trace.get_tracer("gl.posting")


class LedgerError(Exception):
    """A request the ledger refuses (mapped to 409/422 by the API)."""


class CompanyExists(LedgerError):
    pass


class LedgerStateChanged(Exception):
    """A period closed or an account blocked between drafting a batch and taking the companies'
    lock: the batch is rolled back and done again (never written into the closed period)."""


class PeriodClosed(LedgerError):
    pass


@dataclass(frozen=True)
class CompanyBooks:
    """What posting needs to know of a company; plain values, so a cached copy never
    depends on a session (an ORM instance would be expired by the next rollback)."""

    id: str
    functional_currency: str
    chart_template: str


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
    await session.execute(sa.insert(Account.__table__), [
        {"company_id": company_id, "code": a.code, "name_zh": a.name_zh, "name_en": a.name_en, "type": a.type,
         "normal": a.normal, "control": a.control, "cash": a.cash, "active": True}
        for a in chart.accounts.values()])
    return company


# --- periods ---------------------------------------------------------------------------

async def closed_periods(session: AsyncSession, keys: set[tuple[str, str]]) -> set[tuple[str, str]]:
    if not keys:
        return set()
    companies = {c for c, _ in keys}
    rows = (await session.execute(
        sa.select(Period.company_id, Period.period).where(Period.company_id.in_(companies), Period.status == "closed")
    )).all()
    return {(c, p) for c, p in rows} & keys


async def blocked_accounts(session: AsyncSession, companies: set[str]) -> dict[str, set[str]]:
    if not companies:
        return {}
    rows = (await session.execute(sa.select(Account.company_id, Account.code).where(
        Account.company_id.in_(companies), Account.active.is_(False)))).all()
    out: dict[str, set[str]] = {}
    for c, code in rows:
        out.setdefault(c, set()).add(code)
    return out


async def assert_open(session: AsyncSession, company_id: str, period: str) -> None:
    if await closed_periods(session, {(company_id, period)}):
        raise PeriodClosed(f"period {period} of company {company_id} is closed")


@dataclass(frozen=True)
class PeriodState:
    period: str
    status: str  # open | closed
    changed_at: dt.datetime | None = None  # None: never closed
    changed_by: str | None = None
    changed: bool = True  # False: it already was in that state (nothing written, nothing published)


async def set_period_status(session: AsyncSession, *, company_id: str, period: str, status: str, actor: str,
                            reason: str, action: str) -> PeriodState:
    """Change a period's status with its audit row; a period already in that status is left
    alone (no second audit row, no second event). The period's row is read as locked, not as
    the session may hold it from earlier in the transaction (fincore.db.locked): a concurrent
    close or reopen that committed while this one waited is seen, not written over.

    The company's posting lock (`lock_documents`) is taken first: a month that was never closed
    has no row to lock, and two first closes would otherwise both insert it (the second failing
    on the key); with it they queue, and the second finds the month closed. It also keeps a
    close from committing while a posting transaction of the company holds that lock."""
    await lock_documents(session, {company_id})
    row = (await session.execute(locked(sa.select(Period).where(
        Period.company_id == company_id, Period.period == period)))).scalar_one_or_none()
    current = row.status if row is not None else "open"
    if current == status:
        return PeriodState(period, status, row and row.changed_at, row and row.changed_by, changed=False)
    now = utcnow()
    if row is None:
        session.add(Period(company_id=company_id, period=period, status=status, changed_at=now, changed_by=actor))
    else:
        row.status, row.changed_at, row.changed_by = status, now, actor
    session.add(PeriodAudit(company_id=company_id, period=period, action=action, reason=reason, actor=actor, at=now))
    return PeriodState(period, status, now, actor)


async def close_period(session: AsyncSession, *, company_id: str, period: str, actor: str,
                       reason: str = "") -> PeriodState:
    """Close a month: PeriodClosed is published once; closing a closed period changes nothing."""
    state = await set_period_status(session, company_id=company_id, period=period, status="closed", actor=actor,
                                    reason=reason or "period end", action="closed")
    if state.changed:
        add_event(session, gl_events.PeriodClosed(
            company_id=company_id, document_number=f"{company_id}:{period}",
            occurrence_date=dates.to_proto(dates.period_end(period)), period=period, closed_by=actor), source="gl")
    return state


async def reopen_period(session: AsyncSession, *, company_id: str, period: str, actor: str,
                        reason: str) -> PeriodState:
    if not reason.strip():
        raise LedgerError("reopening a period needs a reason")
    state = await set_period_status(session, company_id=company_id, period=period, status="open", actor=actor,
                                    reason=reason, action="reopened")
    if state.changed:  # consolidation flags the period's figures as no longer final
        add_event(session, gl_events.PeriodReopened(
            company_id=company_id, document_number=f"{company_id}:{period}",
            occurrence_date=dates.to_proto(utcnow().date()), period=period, reopened_by=actor, reason=reason),
            source="gl")
    return state


# --- posting events --------------------------------------------------------------------

_STAGED = "gl.staged_journals"
_DEFERRED = "gl.deferred_settlements"
_OPENED = "gl.staged_open_items"
_POSTED = "gl.staged_documents"  # (company, event key) of the events staged to post in this batch
_LEGACY = "gl.staged_legacy"  # companies with journals staged by a rule without open items (gl.service.legacy)
_LEARNED = "gl.learned_bank_accounts"  # (company, bank-account:<code>) the batch learned (BankAccountOpened)


@dataclass(frozen=True)
class Staged:
    draft: JournalDraft
    trace_id: str
    context: otel_context.Context
    kind: str = "event"
    posted_by: str = "gl-posting"
    reverses_journal_id: str | None = None
    drafted_by: str | None = None
    chart_template: str = field(kw_only=True)  # which accounts are kept per counterparty


@dataclass(frozen=True)
class _Parked:
    company_id: str
    msg: object
    reason: str
    awaiting: str | None = None  # the document a settlement waits for (it posts when that one does)
    origin: tuple | None = field(default=None, compare=False)  # (trace id, context) of the event

    @property
    def period(self) -> str:
        return dates.period_of(dates.from_proto(self.msg.occurrence_date))


@cache
def _currency_reader(descriptor) -> Callable[[Message, set[str]], None] | None:
    """Per message type, once: a function that adds the currency of every Money field of a
    message (nested and repeated ones included) to a set; None if the type holds no Money."""
    singles, repeated, nested = [], [], []
    for fd in descriptor.fields:
        mt = fd.message_type
        if mt is None:
            continue
        if mt.full_name == "finance.common.v1.Money":
            (repeated if fd.is_repeated else singles).append(fd.name)
        elif (sub := _currency_reader(mt)) is not None:
            nested.append((fd.name, fd.is_repeated, sub))
    if not (singles or repeated or nested):
        return None

    def read(m: Message, out: set[str]) -> None:
        for name in singles:
            out.add(getattr(m, name).currency_code)
        for name in repeated:
            out.update(v.currency_code for v in getattr(m, name))
        for name, is_repeated, sub in nested:
            if is_repeated:
                for v in getattr(m, name):
                    sub(v, out)
            else:
                sub(getattr(m, name), out)

    return read


def foreign_currencies(msg, functional: str) -> set[str]:
    """Currencies of every Money field in the message other than the functional one."""
    found: set[str] = set()
    if (read := _currency_reader(msg.DESCRIPTOR)) is not None:
        read(msg, found)
    found.discard(functional)
    found.discard("")
    return found


async def rates_on(session: AsyncSession, company_id: str, currencies: set[str], on: dt.date) -> dict[str, Decimal]:
    """The rate of the day: the latest rate dated on or before `on`, per currency."""
    out = {}
    for cur in sorted(currencies):
        rate = (await session.execute(
            sa.select(ExchangeRate.rate).where(ExchangeRate.company_id == company_id, ExchangeRate.currency == cur,
                                               ExchangeRate.rate_date <= on)
            .order_by(ExchangeRate.rate_date.desc()).limit(1))).scalar()
        if rate is not None:
            out[cur] = Decimal(rate)
    return out


async def open_items(session: AsyncSession, company_id: str, refs: set[str],
                     staged: dict[tuple[str, str], OpenItem] | None = None,
                     legacy_refs: set[str] | None = None) -> dict[str, OpenItem]:
    """The open items of these documents: their lines' sums in the transaction and the
    functional currency (the ledger's, plus journals staged in this transaction), plus what
    journals posted before open items were tracked did to them (gl.service.legacy; the
    documents that have such parts are added to `legacy_refs`)."""
    out: dict[str, OpenItem] = {}
    if refs:
        jl = JournalLine.__table__
        rows = (await session.execute(
            sa.select(jl.c.open_item, jl.c.txn_currency, sa.func.sum(jl.c.txn_amount),
                      sa.func.sum(jl.c.debit - jl.c.credit))
            .where(jl.c.company_id == company_id, jl.c.open_item.in_(sorted(refs)),
                   jl.c.open_item != sa.literal_column("''"))  # the partial index's condition, inline
            .group_by(jl.c.open_item, jl.c.txn_currency))).all()
        for ref, cur, txn, func in rows:
            if cur or ref not in out:  # the foreign-currency balance, where an item has one
                out[ref] = OpenItem(cur, Decimal(txn or 0), Decimal(func or 0))
        for ref, part in (await legacy.legacy_items(session, company_id, refs)).items():
            base = out.get(ref)
            out[ref] = part if base is None else OpenItem(base.currency or part.currency, base.txn + part.txn,
                                                          base.functional + part.functional)
            if legacy_refs is not None:
                legacy_refs.add(ref)
    for (company, ref), delta in (staged or {}).items():
        if company == company_id and ref in refs:
            base = out.get(ref, OpenItem(delta.currency, Decimal(0), Decimal(0)))
            out[ref] = OpenItem(base.currency or delta.currency, base.txn + delta.txn,
                                base.functional + delta.functional)
    return out


async def posted_documents(session: AsyncSession, company_id: str, refs: set[str],
                           staged: set[tuple[str, str]] | None = None) -> set[str]:
    """Which of these documents the ledger has posted by a rule that did not track open
    items (before December 2026): a journal whose source event is keyed by the document (or
    such an event staged in this transaction). Their settlements are valued at their own rate,
    as before."""
    out = {ref for c, ref in (staged or set()) if c == company_id and ref in refs}
    if refs - out:
        se, j = SourceEvent.__table__, Journal.__table__
        rows = (await session.execute(
            sa.select(se.c.subject).distinct().join(j, j.c.source_event_id == se.c.event_id)
            .where(se.c.company_id == company_id, se.c.subject.in_(sorted(refs - out))))).scalars().all()
        out |= set(rows)
    return out


async def lock_documents(session: AsyncSession, company_ids: set[str]) -> set[str]:
    """Serialise, per company, "is the settled document posted?" (parking a settlement) with
    "who waits for the document just posted?" (releasing it): two consumers committing the
    invoice and its receipt at the same time would otherwise each miss the other, and the
    receipt would wait for ever. Taken first in a posting transaction, in company order (so
    before the journal numbers' locks); FOR NO KEY UPDATE leaves foreign-key checks alone.

    Returns the companies that have settlements parked awaiting a document, read after the
    lock is held (for the others `release_awaiting` has nothing to look for: only a holder of
    the lock parks or releases one), and leaves the companies' closed periods and blocked
    accounts as read under the lock in the session (`state_under_lock`). A separate statement:
    a statement that waited for the lock still reads the other tables as of its start
    (PostgreSQL READ COMMITTED evaluates the rest of the row before locking it), so a
    settlement parked, or a period closed, by the transaction it waited for would not be seen."""
    if not company_ids:
        return set()
    ids = sorted(company_ids)
    conn = await session.connection()
    if conn.dialect.name == "postgresql":
        await _LOCK_DOCUMENTS_PG.rows(conn, {"ids": ids})
        rows = await _STATE_UNDER_LOCK_PG.rows(conn, {"ids": ids})
    else:
        await session.execute(_lock_documents(_C.c.id.in_(ids)))
        rows = (await session.execute(_state_under_lock(lambda col: col.in_(ids)))).all()
    waiting: set[str] = set()
    state = {c: (set(), set()) for c in ids}
    for kind, company_id, value in rows:
        if kind == "waiting":
            waiting.add(company_id)
        else:
            state[company_id][0 if kind == "period" else 1].add(value)
    session.info[_UNDER_LOCK] = state
    return waiting


_UNDER_LOCK = "gl.state_under_lock"


def state_under_lock(session: AsyncSession) -> dict[str, tuple[set[str], set[str]]]:
    """Closed periods and blocked accounts per company, as read by the last `lock_documents`."""
    return session.info.get(_UNDER_LOCK, {})


_C, _PE, _P, _A = Company.__table__, ParkedEvent.__table__, Period.__table__, Account.__table__


def _lock_documents(which):
    return (sa.select(_C.c.id).where(which).order_by(_C.c.id)
            .with_for_update(key_share=True, of=_C))  # rows are locked in the order they are read


def _closed_and_blocked(among) -> tuple:
    """(kind, company, value) rows: the closed periods and blocked accounts of the companies
    `among` selects; what a journal cannot post into (`Poster._refusal`)."""
    return (sa.select(sa.literal_column("'period'").label("kind"), _P.c.company_id.label("company"),
                      _P.c.period.label("value")).where(among(_P.c.company_id), _P.c.status == "closed"),
            sa.select(sa.literal_column("'account'"), _A.c.company_id, _A.c.code)
            .where(among(_A.c.company_id), _A.c.active.is_(False)))


def _state_under_lock(among):
    waiting = sa.exists().where(_PE.c.company_id == _C.c.id, _PE.c.resolved_at.is_(None), _PE.c.awaiting.is_not(None))
    return sa.union_all(
        sa.select(sa.literal_column("'waiting'"), _C.c.id, sa.literal_column("''")).where(among(_C.c.id), waiting),
        *_closed_and_blocked(among))


# The posting consumer runs these once per poll (a poll holds ~10 events when it keeps up): on
# PostgreSQL compiled once and run on the driver's connection (SQLAlchemy's per-execute work
# cost about as much as the queries).
_IDS = sa.bindparam("ids", type_=ARRAY(sa.String))
_LOCK_DOCUMENTS_PG = HotStatement(_lock_documents(_C.c.id == sa.func.any(_IDS)))
_STATE_UNDER_LOCK_PG = HotStatement(_state_under_lock(lambda col: col == sa.func.any(_IDS)))
_CLOSED, _BLOCKED = "gl.closed_periods", "gl.blocked_accounts"  # per company, read once per batch


def _batch_state(among):
    """(kind, company, value, ledger account) rows: what `Poster._refusal` (closed periods,
    blocked accounts) and the rules (the bank accounts' sub-accounts) read per company."""
    period, account = _closed_and_blocked(among)
    bank = BankAccountMap.__table__
    return sa.union_all(period.add_columns(sa.literal_column("''")), account.add_columns(sa.literal_column("''")),
                        sa.select(sa.literal_column("'bank'"), bank.c.company_id, bank.c.code, bank.c.gl_account)
                        .where(among(bank.c.company_id)))


_BATCH_STATE_PG = HotStatement(_batch_state(lambda col: col == sa.func.any(_IDS)))


async def read_companies(session: AsyncSession, company_ids: set[str]) -> None:
    """Closed periods, blocked accounts and bank accounts of these companies, into the session's
    per-batch caches in one round trip (a poll spans many companies; read one by one they cost
    two statements each, per poll). Companies already read in this batch are not read again."""
    ids = sorted(c for c in company_ids if c not in session.info.get(_CLOSED, {}))
    if not ids:
        return
    conn = await session.connection()
    if conn.dialect.name == "postgresql":
        rows = await _BATCH_STATE_PG.rows(conn, {"ids": ids})
    else:
        rows = (await session.execute(_batch_state(lambda col: col.in_(ids)))).all()
    closed = session.info.setdefault(_CLOSED, {})
    blocked = session.info.setdefault(_BLOCKED, {})
    bank_cache = session.info.setdefault(banks.CACHE, {})
    for c in ids:
        closed[c], blocked[c] = set(), set()
        bank_cache.setdefault(c, {})
    for kind, company_id, value, gl_account in rows:
        if kind == "period":
            closed[company_id].add(value)
        elif kind == "account":
            blocked[company_id].add(value)
        else:
            bank_cache[company_id][value] = gl_account


class Poster:
    """The GL's consumer handler: turns events into journals by the rules.

    Events whose rule settles open items are drafted last in their batch (in
    `before_commit`), after every other event of the batch is staged: a receipt and the
    invoice it pays may sit on different partitions, and the receipt must find the
    invoice's open item whichever the consumer read first."""

    def __init__(self, rules: RuleBook) -> None:
        self.rules = rules
        self._companies: dict[str, CompanyBooks] = {}
        self.posting_types = set(rules.event_types)

    async def company(self, session: AsyncSession, company_id: str) -> CompanyBooks:
        books = self._companies.get(company_id)
        if books is None:
            company = await session.get(Company, company_id)
            if company is None:
                raise PermanentError(f"company {company_id!r} is not set up in the ledger")
            books = CompanyBooks(company.id, company.functional_currency, company.chart_template)
            self._companies[company_id] = books
        return books

    def settles(self, ce_type: str, msg) -> bool:
        if ce_type not in self.rules.settling_types:
            return False
        try:
            return self.rules.select(ce_type, msg, dates.from_proto(msg.occurrence_date)).settles
        except LookupError:
            return False  # no rule: draft() says so

    async def draft(self, session: AsyncSession, books: CompanyBooks, ce_type: str, msg, event_id: str, *,
                    await_documents: bool = True) -> JournalDraft:
        """The event's journal by the rules, at the exchange rates of its date and the
        carrying amounts of the open items it settles. MissingRate propagates (the event is
        parked until the rate is entered); other refusals are permanent. `await_documents`
        False: a settled document the ledger has not posted is valued at the event's rate, and a
        bank account it has not learned posts to the chart's bank account (an operator's
        decision, gl.service.awaiting), instead of raising AwaitingDocument / AwaitingBankAccount."""
        on = dates.from_proto(msg.occurrence_date)
        foreign = foreign_currencies(msg, books.functional_currency)
        rates = await rates_on(session, books.id, foreign, on) if foreign else {}
        try:
            items = {}
            if foreign and self.settles(ce_type, msg):  # in the functional currency an item is its amount
                refs = self.rules.open_items_settled(ce_type, msg)
                legacy_refs: set[str] = set()
                items = await open_items(session, books.id, refs, session.info.get(_OPENED), legacy_refs)
                if refs - set(items) or legacy_refs:
                    # a document booked before open items were tracked (or an older journal of
                    # one read since): derive its item from the posted journals first
                    await legacy.scan(session, self.rules, books)
                    items = await open_items(session, books.id, refs, session.info.get(_OPENED))
                if await_documents and refs - set(items):  # its documents' carrying amounts
                    posted = set(items) | await posted_documents(session, books.id, refs - set(items),
                                                                 session.info.get(_POSTED))
                    if doc := awaiting(refs, posted):
                        raise AwaitingDocument(doc)
            return self.rules.draft(ce_type=ce_type, msg=msg, chart=load_chart(books.chart_template),
                                    functional_currency=books.functional_currency, event_id=event_id, rates=rates,
                                    open_items=items, bank_accounts=await banks.bank_accounts(session, books.id),
                                    await_bank_accounts=await_documents)
        except (MissingRate, NothingToPost, AwaitingDocument):
            raise
        except (LookupError, UnbalancedJournal, ValueError) as exc:
            raise PermanentError(f"{type(exc).__name__}: {exc}") from exc

    async def before_batch(self, session: AsyncSession, envelopes: list[Envelope]) -> None:
        """Once per transaction, before its events: what the rules and refusals read per company,
        for every company the batch posts for, in one round trip."""
        await read_companies(session, {env.payload.company_id for env in envelopes if env.type in self.posting_types})

    async def __call__(self, session: AsyncSession, env: Envelope) -> None:
        """Draft the event's journal (pure, per event, in the event's trace) and stage it;
        `before_commit` writes the whole batch in a few statements."""
        if env.type in banks.LEARNED_TYPES:
            await banks.learn(session, env.payload)  # cash management's bank accounts and statements
            if env.type == banks.OPENED:  # what waited for this account posts before commit
                session.info.setdefault(_LEARNED, set()).add(
                    (env.payload.company_id, BANK_ACCOUNT + env.payload.bank_account))
            return
        if env.type not in self.posting_types:
            return  # not a posting event (master data and the like): recorded in the inbox only
        msg = env.payload
        books = await self.company(session, msg.company_id)
        if not recording():  # no span to record; the trace context is the event's (set by the consumer)
            await self._stage(session, books, env, msg)
            return
        with tracer.start_as_current_span("gl.post_journal", attributes={
            "finance.company_id": books.id, "finance.document": msg.document_number,
            "cloudevents.event_type": env.type,
        }):
            await self._stage(session, books, env, msg)

    async def duplicate(self, session: AsyncSession, env: Envelope, value: bytes) -> None:
        """An event id seen before (the inbox skips it): it must be the same event. One that
        carries another payload than the one the ledger posted or parked is refused (dead
        letter), so nobody can change a posted fact by re-sending its id."""
        if env.type not in self.posting_types:
            return
        stored = (await session.execute(sa.select(SourceEvent.payload).where(
            SourceEvent.event_id == env.id))).scalar_one_or_none()
        if stored is not None and type(env.payload).FromString(bytes(stored)) != env.payload:
            raise PermanentError(f"event {env.id} ({env.type}) was received before with a different payload; "
                                 "the ledger keeps the first")

    async def _stage(self, session: AsyncSession, books: CompanyBooks, env: Envelope, msg,
                     trace: tuple[str, otel_context.Context] | None = None) -> None:
        if trace is None and self.settles(env.type, msg):
            session.info.setdefault(_DEFERRED, []).append(
                (books, env, (current_trace_id(), otel_context.get_current())))
            return
        trace_id, context = trace or (current_trace_id(), otel_context.get_current())
        try:
            draft = await self.draft(session, books, env.type, msg, env.id)
        except MissingRate as exc:
            session.info.setdefault(_STAGED, []).append((env, _Parked(books.id, msg, str(exc))))
            return
        except AwaitingDocument as exc:
            session.info.setdefault(_STAGED, []).append(
                (env, _Parked(books.id, msg, str(exc), exc.document, (trace_id, context))))
            return
        except NothingToPost:
            return  # recorded in the inbox: a fact without a journal, never a dead letter
        info = session.info
        if reason := await self._refusal(session, draft):
            info.setdefault(_STAGED, []).append((env, _Parked(books.id, msg, reason)))
            return
        info.setdefault(_STAGED, []).append((env, Staged(draft, trace_id, context,
                                                         chart_template=books.chart_template)))
        info.setdefault(_POSTED, set()).add((books.id, env.subject))
        deltas, unitemised = [], False
        for ln in draft.lines:
            if ln.open_item:
                deltas.append((ln.open_item, OpenItem(ln.txn_currency, ln.txn_amount, ln.debit - ln.credit)))
            elif ln.txn_currency:
                unitemised = True
        if unitemised:  # a foreign amount by a rule without open items?
            parts = legacy.itemise_draft(self.rules, books, env.type, msg, draft)
            if parts:  # kept for this batch here, and derived from the written journal before commit
                info.setdefault(_LEGACY, {})[books.id] = books
                deltas += [(ref, part) for (ref, _), part in parts.items()]
        if not deltas:
            return
        opened = info.setdefault(_OPENED, {})
        for ref, delta in deltas:
            key = (draft.company_id, ref)
            prev = opened.get(key, OpenItem(delta.currency, Decimal(0), Decimal(0)))
            opened[key] = OpenItem(prev.currency or delta.currency, prev.txn + delta.txn,
                                   prev.functional + delta.functional)

    async def _refusal(self, session: AsyncSession, draft: JournalDraft) -> str | None:
        """Why the journal cannot post now (its period closed, an account blocked), decided
        when it is staged so that a settlement later in the batch never relies on a document
        that will be parked (periods and blocks read once per company and batch)."""
        info = session.info
        if draft.company_id not in info.get(_CLOSED, {}):  # not among the batch's (before_batch)
            await read_companies(session, {draft.company_id})
        closed, blocked = info[_CLOSED], info[_BLOCKED]
        if hit := blocked_in(draft, blocked[draft.company_id]):
            return f"account {', '.join(hit)} is blocked"
        if draft.period in closed[draft.company_id]:
            return f"period {draft.period} of company {draft.company_id} is closed"
        return None

    async def before_commit(self, session: AsyncSession) -> None:
        deferred = session.info.pop(_DEFERRED, [])
        staged_now = list(session.info.get(_STAGED, []))
        learned = session.info.pop(_LEARNED, set())
        bank_waits = [(env, p) for env, p in staged_now if isinstance(p, _Parked) and awaited_bank_account(p.awaiting)]
        now, trace_id = utcnow(), current_trace_id()
        # Before the companies' lock (another member's transaction may hold it meanwhile), what
        # needs no lock: the source events staged so far (but those drafted again under it), and
        # their journals' rows built in Python. Under the lock: settlements and bank-account
        # waiters drafted, numbers taken, the rows written, releases.
        early = [x for x in staged_now if not any(x[1] is p for _, p in bank_waits)]
        await _write_sources(session, early, now, trace_id)
        written_early = {env.id for env, _ in early}
        prepared = prepare_journals([s for _, s in early if isinstance(s, Staged)])
        await write_lines(session, prepared)  # they need no journal number
        waiting = await lock_documents(session, {books.id for books, _, _ in deferred}
                                       | {s.draft.company_id for _, s in staged_now if isinstance(s, Staged)}
                                       | {p.company_id for _, p in bank_waits} | {c for c, _ in learned})
        # A period closed or an account blocked since this batch staged its journals (the close
        # committed before the lock was ours): nothing is written; the batch is done again,
        # record by record, and those journals park.
        fresh = state_under_lock(session)
        session.info[_CLOSED] = {c: closed for c, (closed, _) in fresh.items()}
        session.info[_BLOCKED] = {c: blocked for c, (_, blocked) in fresh.items()}
        for _, st in staged_now:
            if isinstance(st, Staged) and st.draft.company_id in fresh:
                closed, blocked = fresh[st.draft.company_id]
                if st.draft.period in closed or blocked_in(st.draft, blocked):
                    raise LedgerStateChanged(f"period {st.draft.period} of company {st.draft.company_id} was "
                                             "closed, or an account blocked, while this batch was drafted")
        # What is drafted from here is drafted under the lock, with the bank accounts read again:
        # an account another consumer learned (and released its waiters) after this batch first
        # read them is seen, so nothing parks for an account the ledger already knows.
        if deferred or bank_waits:
            session.info.pop(banks.CACHE, None)
        if bank_waits:
            session.info[_STAGED] = [x for x in staged_now if not any(x[1] is p for _, p in bank_waits)]
            for env, p in bank_waits:
                token = otel_context.attach(p.origin[1])
                try:
                    await self._stage(session, await self.company(session, p.company_id), env, env.payload, p.origin)
                finally:
                    otel_context.detach(token)
        for books, env, origin in deferred:
            token = otel_context.attach(origin[1])
            try:
                await self._stage(session, books, env, env.payload, origin)
            finally:
                otel_context.detach(token)
        for key in (_OPENED, _POSTED, _CLOSED, _BLOCKED):
            session.info.pop(key, None)
        legacy_books = session.info.pop(_LEGACY, {})
        staged: list[tuple[Envelope, Staged | _Parked]] = session.info.pop(_STAGED, [])
        if not staged:
            if learned:  # a batch of bank accounts only: what waited for them posts now
                await refresh_revaluations(session, await release_awaiting(session, self, learned, waiting))
            return
        with tracer.start_as_current_span("gl.write_journals", attributes={"finance.journals": len(staged)}):
            late = [x for x in staged if x[0].id not in written_early]  # staged under the lock
            await _write_sources(session, late, now, trace_id)
            parked = [(env.id, p) for env, p in staged if isinstance(p, _Parked)]
            if parked:
                await session.execute(sa.insert(ParkedEvent.__table__), [{
                    "event_id": eid, "company_id": p.company_id, "period": p.period, "reason": p.reason,
                    "awaiting": p.awaiting, "parked_at": now} for eid, p in parked])
                log.warning("parked %d event(s): %s", len(parked), "; ".join(sorted({p.reason for _, p in parked})))
            written = [s for _, s in staged if isinstance(s, Staged)]
            await write_prepared(session, prepared.extend(prepare_journals(
                [s for _, s in late if isinstance(s, Staged)])))
            for _, books in sorted(legacy_books.items()):  # their open-item parts, now that they are written
                await legacy.scan(session, self.rules, books)
            waiting |= {p.company_id for _, p in parked if p.awaiting}
            released = await release_awaiting(session, self, documents_of(
                [(s.draft, env.subject) for env, s in staged if isinstance(s, Staged)]) | learned, waiting)
            await refresh_revaluations(session, [s.draft for s in written] + released)


async def _write_sources(session: AsyncSession, staged: list[tuple[Envelope, Staged | _Parked]], now: dt.datetime,
                         trace_id: str) -> None:
    await bulk_insert(session, SourceEvent.__table__, [{
        "event_id": env.id, "event_type": env.type, "source": env.source, "subject": env.subject,
        "company_id": env.payload.company_id, "document_number": env.payload.document_number,
        "occurrence_date": dates.from_proto(env.payload.occurrence_date),
        "payload": env.payload.SerializeToString(),
        "trace_id": s.trace_id if isinstance(s, Staged) else trace_id, "received_at": now}
        for env, s in staged])


async def post_journal(session: AsyncSession, draft: JournalDraft, *, kind: str = "event",
                       posted_by: str = "gl-posting", reverses_journal_id: str | None = None,
                       drafted_by: str | None = None, into_closed_period: bool = False) -> dict:
    """Write one balanced journal now, in the caller's transaction: its period must be open
    (`into_closed_period`: the year-end close only, which closes the year's last period),
    and its lines pass the check every journal passes (gl.domain.postable), control
    accounts excepted for the sub-ledgers' journals and the ledger's own procedures."""
    if not into_closed_period:
        await assert_open(session, draft.company_id, draft.period)
    company = await session.get(Company, draft.company_id)
    check_lines(draft, load_chart(company.chart_template), sub_ledger=kind != "manual")
    hit = blocked_in(draft, (await blocked_accounts(session, {draft.company_id})).get(draft.company_id, ()))
    if hit:
        raise AccountBlocked(hit)
    staged = Staged(draft, current_trace_id(), otel_context.get_current(), kind, posted_by, reverses_journal_id,
                    drafted_by, chart_template=company.chart_template)
    return (await write_journals(session, [staged]))[0]


async def write_journals(session: AsyncSession, staged: list[Staged]) -> list[dict]:
    """Insert journals, their lines, the period balances, the balances per counterparty and the
    JournalPosted events: gap-free numbers taken in one block per company and period, rows as
    multi-row inserts. Every journal line is written here (events, manual journals, reversals,
    revaluations, the year-end close), so the derived balances are kept here and only here."""
    return await write_prepared(session, prepare_journals(staged))


@dataclass
class Prepared:
    """Journals' rows and JournalPosted events built in Python, all but their numbers: the
    posting consumer builds them before it takes the company's lock (another member's
    transaction of the same company may hold it meanwhile), so under the lock only the numbers
    are taken and the rows written (`write_prepared`)."""

    staged: list[Staged] = field(default_factory=list)
    journals: list[dict] = field(default_factory=list)
    lines: list[tuple] = field(default_factory=list)  # LINE_COLUMNS; not yet written (`write_lines` empties it)
    balances: dict[tuple[str, str, str], list[Decimal]] = field(default_factory=dict)
    by_counterparty: dict[tuple[str, str, str, str, str], list[Decimal]] = field(default_factory=dict)
    events: list[gl_events.JournalPosted] = field(default_factory=list)
    outbox: list[dict] = field(default_factory=list)

    def extend(self, other: Prepared) -> Prepared:
        self.staged += other.staged
        self.journals += other.journals
        self.lines += other.lines
        self.events += other.events
        self.outbox += other.outbox
        for mine, theirs in ((self.balances, other.balances), (self.by_counterparty, other.by_counterparty)):
            for key, amounts in theirs.items():
                if key in mine:
                    mine[key] = [x + y for x, y in zip(mine[key], amounts, strict=True)]
                else:
                    mine[key] = list(amounts)
        return self


def prepare_journals(staged: list[Staged]) -> Prepared:
    """The rows of `staged` (no I/O; numbers are given by `write_prepared`)."""
    out = Prepared(staged=list(staged))
    now = utcnow()
    balances, by_counterparty = out.balances, out.by_counterparty
    for s in staged:
        d = s.draft
        kept_by = load_chart(s.chart_template).by_counterparty
        jid = str(uuid7())
        out.journals.append({
            "id": jid, "company_id": d.company_id, "number": None, "posting_date": d.posting_date,
            "period": d.period, "currency": d.currency, "description": d.description[:500],
            "total_debit": d.total_debit, "total_credit": d.total_credit,
            "source_event_id": d.source_event_id or None, "source_event_type": d.source_event_type,
            "source_document": d.source_document, "rule_id": d.rule_id, "rule_version": d.rule_version,
            "trace_id": s.trace_id, "posted_at": now, "kind": s.kind, "posted_by": s.posted_by,
            "reverses_journal_id": s.reverses_journal_id, "drafted_by": s.drafted_by,
        })
        event = gl_events.JournalPosted(
            company_id=d.company_id, journal_id=jid, period=d.period, source_event_id=d.source_event_id,
            source_event_type=d.source_event_type, source_document=d.source_document, rule_id=d.rule_id,
            rule_version=d.rule_version,
        )
        dates.fill(event.occurrence_date, d.posting_date)  # in place, as the Money below
        for i, line in enumerate(d.lines, start=1):
            dims = line.dimensions
            out.lines.append((jid, i, d.company_id, d.posting_date, line.account_code, line.debit, line.credit,
                              line.currency, line.memo[:500], line.cash_flow_item, line.txn_currency,
                              line.txn_amount, line.open_item,
                              *(map(dims.get, DIMENSIONS, _NO_DIMENSIONS) if dims else _NO_DIMENSIONS)))
            key = (d.company_id, line.account_code, d.period)
            if (b := balances.get(key)) is None:
                b = balances[key] = [money.ZERO, money.ZERO]
            b[0] += line.debit
            b[1] += line.credit
            if (dim := kept_by.get(line.account_code)) is not None:
                b = by_counterparty.setdefault((d.company_id, line.account_code, dims.get(dim, ""),
                                                line.txn_currency, d.period), [money.ZERO, money.ZERO, money.ZERO])
                b[0] += line.debit
                b[1] += line.credit
                b[2] += line.txn_amount
            # made in place, its Money too (append would copy a line made first)
            pl = event.lines.add(line_no=i, account_code=line.account_code, cash_flow_item=line.cash_flow_item)
            money.fill(pl.debit, line.debit, line.currency)
            money.fill(pl.credit, line.credit, line.currency)
            if line.txn_currency:
                money.fill(pl.transaction_amount, line.txn_amount, line.txn_currency)
            pd = pl.dimensions
            pd.SetInParent()  # present, if empty
            for name, value in dims.items():
                setattr(pd, name, value)
        out.events.append(event)
    # each in the trace of its source; their payloads once numbered
    out.outbox = event_rows(out.events, source="gl", serialize=False, contexts=[s.context for s in staged], time=now)
    return out


async def write_prepared(session: AsyncSession, prepared: Prepared) -> list[dict]:
    """Number the prepared journals (a block per company and period, taken under the
    counter's row lock until commit) and write them, their lines, balances and events."""
    if not prepared.staged:
        return []
    scopes: dict[tuple[str, str], list[int]] = {}
    for k, s in enumerate(prepared.staged):
        scopes.setdefault((s.draft.company_id, s.draft.period), []).append(k)
    firsts = await allocate_many(session, {f"journal:{c}:{p}": len(ix) for (c, p), ix in scopes.items()})
    for (company_id, period), indexes in scopes.items():
        first = firsts[f"journal:{company_id}:{period}"]
        for n, k in enumerate(indexes):
            number = f"JV{period.replace('-', '')}-{first + n:06d}"
            prepared.journals[k]["number"] = number
            event = prepared.events[k]
            event.document_number = number
            prepared.outbox[k]["payload"] = event.SerializeToString()
    await write_lines(session, prepared)
    await bulk_insert(session, Journal.__table__, prepared.journals)  # checked against its lines (migration 0017)
    await _add_balances(session, prepared.balances, prepared.by_counterparty)
    await bulk_insert(session, OutboxRecord.__table__, prepared.outbox)
    return prepared.journals


async def write_lines(session: AsyncSession, prepared: Prepared) -> None:
    """Write the prepared journals' lines not yet written. A journal's lines go in before the
    journal: the database checks each journal against its lines when the journal is inserted
    (PostgreSQL: a statement trigger, GL migration 0017), and checks each line's journal at
    commit (on SQLite: deferred for the transaction here). The posting consumer writes them
    before it takes the company's lock: they need no number."""
    if not prepared.lines:
        return
    if session.bind.dialect.name == "sqlite":
        await session.execute(sa.text("PRAGMA defer_foreign_keys = ON"))  # until this transaction ends
    await bulk_insert(session, JournalLine.__table__, prepared.lines, LINE_COLUMNS)
    prepared.lines = []


# A journal line's row as `prepare_journals` builds it (a tuple: no dict per line); its
# dimension columns are each empty unless the line names it.
LINE_COLUMNS = ("journal_id", "line_no", "company_id", "posting_date", "account_code", "debit", "credit", "currency",
                "memo", "cash_flow_item", "txn_currency", "txn_amount", "open_item", *DIMENSIONS)
_NO_DIMENSIONS = ("",) * len(DIMENSIONS)


# The batch's period balances and balances per counterparty (per month and in total) in one
# statement of array parameters (one round trip), on the driver's connection (SQLAlchemy's
# executemany of the same upserts cost ~0.3 ms of Python per poll). unnest yields the rows in
# array order, so the sorted order below is the lock order; the tables are written in the order
# period_balance, counterparty_balance, counterparty_total (each INSERT's filter reads the
# previous CTE first).
_UPSERT = ("ON CONFLICT ({keys}) DO UPDATE SET debit = {t}.debit + excluded.debit, "
           "credit = {t}.credit + excluded.credit")
_ADD_BALANCES_PG = HotStatement(sa.text(
    "WITH pb AS (INSERT INTO period_balance (company_id, account_code, period, debit, credit) "
    "SELECT * FROM unnest(CAST(:c AS varchar[]), CAST(:a AS varchar[]), CAST(:p AS varchar[]), "
    "CAST(:dr AS numeric[]), CAST(:cr AS numeric[])) "
    + _UPSERT.format(keys="company_id, account_code, period", t="period_balance") + " RETURNING 1), "
    "cb AS (INSERT INTO counterparty_balance (company_id, account_code, counterparty, currency, period, debit, "
    "credit, txn_amount) SELECT * FROM unnest(CAST(:k_c AS varchar[]), CAST(:k_a AS varchar[]), "
    "CAST(:k_who AS varchar[]), CAST(:k_cur AS varchar[]), CAST(:k_p AS varchar[]), CAST(:k_dr AS numeric[]), "
    "CAST(:k_cr AS numeric[]), CAST(:k_txn AS numeric[])) WHERE (SELECT count(*) FROM pb) >= 0 "
    + _UPSERT.format(keys="company_id, account_code, counterparty, currency, period", t="counterparty_balance")
    + ", txn_amount = counterparty_balance.txn_amount + excluded.txn_amount RETURNING 1) "
    "INSERT INTO counterparty_total (company_id, account_code, counterparty, currency, debit, credit, txn_amount) "
    "SELECT * FROM unnest(CAST(:t_c AS varchar[]), CAST(:t_a AS varchar[]), CAST(:t_who AS varchar[]), "
    "CAST(:t_cur AS varchar[]), CAST(:t_dr AS numeric[]), CAST(:t_cr AS numeric[]), CAST(:t_txn AS numeric[])) "
    "WHERE (SELECT count(*) FROM cb) >= 0 "
    + _UPSERT.format(keys="company_id, account_code, counterparty, currency", t="counterparty_total")
    + ", txn_amount = counterparty_total.txn_amount + excluded.txn_amount"))


async def _add_balances(session: AsyncSession, balances: dict[tuple[str, str, str], list[Decimal]],
                        by_counterparty: dict[tuple[str, str, str, str, str], list[Decimal]]) -> None:
    """Add the batch's turnover to period_balance (company, account, period) and, on the
    accounts the chart keeps by a counterparty, to counterparty_balance (company, account,
    counterparty, transaction currency, period) and counterparty_total (the same over all
    periods), in the transaction that writes the lines: the inbox makes a redelivered event a
    no-op for all of them."""
    ordered = sorted(balances.items())  # sorted: a stable lock order
    per_cp = sorted(by_counterparty.items())
    totals: dict[tuple[str, str, str, str], list[Decimal]] = {}
    for (c, a, who, cur, _), (dr, cr, txn) in per_cp:
        t = totals.setdefault((c, a, who, cur), [Decimal(0), Decimal(0), Decimal(0)])
        t[0], t[1], t[2] = t[0] + dr, t[1] + cr, t[2] + txn
    per_total = sorted(totals.items())
    conn = await session.connection()
    if conn.dialect.name == "postgresql":
        await _ADD_BALANCES_PG.rows(conn, {
            "c": [k[0] for k, _ in ordered], "a": [k[1] for k, _ in ordered], "p": [k[2] for k, _ in ordered],
            "dr": [v[0] for _, v in ordered], "cr": [v[1] for _, v in ordered],
            "k_c": [k[0] for k, _ in per_cp], "k_a": [k[1] for k, _ in per_cp], "k_who": [k[2] for k, _ in per_cp],
            "k_cur": [k[3] for k, _ in per_cp], "k_p": [k[4] for k, _ in per_cp],
            "k_dr": [v[0] for _, v in per_cp], "k_cr": [v[1] for _, v in per_cp], "k_txn": [v[2] for _, v in per_cp],
            "t_c": [k[0] for k, _ in per_total], "t_a": [k[1] for k, _ in per_total],
            "t_who": [k[2] for k, _ in per_total], "t_cur": [k[3] for k, _ in per_total],
            "t_dr": [v[0] for _, v in per_total], "t_cr": [v[1] for _, v in per_total],
            "t_txn": [v[2] for _, v in per_total]})
        return
    from sqlalchemy.dialects.sqlite import insert

    for table, rows, keys in (
            (PeriodBalance.__table__, [{"company_id": c, "account_code": a, "period": p, "debit": dr, "credit": cr}
                                       for (c, a, p), (dr, cr) in ordered], ("company_id", "account_code", "period")),
            (CounterpartyBalance.__table__,
             [{"company_id": c, "account_code": a, "counterparty": who, "currency": cur, "period": p, "debit": dr,
               "credit": cr, "txn_amount": txn} for (c, a, who, cur, p), (dr, cr, txn) in per_cp],
             ("company_id", "account_code", "counterparty", "currency", "period")),
            (CounterpartyTotal.__table__,
             [{"company_id": c, "account_code": a, "counterparty": who, "currency": cur, "debit": dr, "credit": cr,
               "txn_amount": txn} for (c, a, who, cur), (dr, cr, txn) in per_total],
             ("company_id", "account_code", "counterparty", "currency"))):
        if not rows:
            continue
        stmt = insert(table)
        stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_={
            col: table.c[col] + stmt.excluded[col] for col in ("debit", "credit", "txn_amount") if col in table.c})
        await session.execute(stmt, rows)


# --- parked events ---------------------------------------------------------------------

def documents_of(posted: list[tuple[JournalDraft, str]]) -> set[tuple[str, str]]:
    """The documents these journals put in the ledger: the open items on their lines, and the
    document each source event is keyed by (a document posted without open items)."""
    out = set()
    for draft, subject in posted:
        out |= {(draft.company_id, ln.open_item) for ln in draft.lines if ln.open_item}
        if subject:
            out.add((draft.company_id, subject))
    return out


async def release_awaiting(session: AsyncSession, poster: Poster, documents: set[tuple[str, str]],
                           companies: set[str] | None = None) -> list[JournalDraft]:
    """Post, in this transaction, the settlements parked awaiting these documents (just
    posted): each is drafted again, now at its documents' carrying amounts. One still waiting
    for another document waits for that one; one that cannot post for another reason (a
    rate, a closed period) stays parked with that reason. What they post may release more.
    `companies`: the only companies with settlements awaiting a document (`lock_documents`
    says which); None: look in every company of `documents`."""
    released: list[JournalDraft] = []
    pending = documents if companies is None else {(c, ref) for c, ref in documents if c in companies}
    while pending:
        by_company: dict[str, set[str]] = {}
        for company_id, ref in pending:
            by_company.setdefault(company_id, set()).add(ref)
        pending = set()
        for company_id, refs in sorted(by_company.items()):
            rows = (await session.execute(sa.select(ParkedEvent).where(
                ParkedEvent.company_id == company_id, ParkedEvent.resolved_at.is_(None),
                ParkedEvent.awaiting.in_(sorted(refs))).order_by(ParkedEvent.parked_at, ParkedEvent.event_id)
            )).scalars().all()
            for parked in rows:
                src = await session.get(SourceEvent, parked.event_id)
                msg = registry.by_type(src.event_type).message_class.FromString(src.payload)
                books = await poster.company(session, company_id)
                try:
                    async with session.begin_nested():
                        draft = await poster.draft(session, books, src.event_type, msg, src.event_id)
                        await post_journal(session, draft)
                except AwaitingDocument as exc:
                    parked.awaiting, parked.reason = exc.document, str(exc)
                    continue
                except (MissingRate, NothingToPost, LedgerError, PostingRefused, PermanentError) as exc:
                    parked.awaiting, parked.reason = None, str(exc)
                    continue
                parked.resolved_at, parked.resolved_by = utcnow(), "gl-posting"
                parked.resolution = f"posted when {parked.awaiting} posted"[:200]
                released.append(draft)
                pending |= documents_of([(draft, src.subject)])
    if released:
        log.info("posted %d settlement(s) that awaited their documents", len(released))
    return released


async def resolve_parked(session: AsyncSession, poster: Poster, event_id: str, *, actor: str,
                         redate: dt.date | None = None) -> dict:
    """Post a parked event now: in its own period (after a reopen) or, by an explicit
    decision, re-dated into an open period. Refused while the target period is closed."""
    parked = await session.get(ParkedEvent, event_id)
    if parked is None or parked.resolved_at is not None:
        raise LedgerError(f"no unresolved parked event {event_id}")
    await lock_documents(session, {parked.company_id})
    src = await session.get(SourceEvent, event_id)
    msg = registry.by_type(src.event_type).message_class.FromString(src.payload)
    books = await poster.company(session, src.company_id)
    try:
        draft = await poster.draft(session, books, src.event_type, msg, src.event_id)
    except MissingRate as exc:
        raise LedgerError(f"{exc}: enter the rate first") from exc
    except AwaitingDocument as exc:
        raise LedgerError(f"{exc}; the settlement posts by itself when it does") from exc
    except NothingToPost as exc:
        raise LedgerError(str(exc)) from exc
    if redate is not None:
        if redate < draft.posting_date:
            raise LedgerError("an event can only be re-dated forward")
        draft = replace(draft, posting_date=redate)
    journal = await post_journal(session, draft, posted_by=actor)
    parked.resolved_at, parked.resolved_by = utcnow(), actor
    parked.resolution = f"re-dated to {redate.isoformat()}" if redate else "posted after reopening"
    released = await release_awaiting(session, poster, documents_of([(draft, src.subject)]))
    await refresh_revaluations(session, [draft, *released])
    return journal


# --- reversals, revaluation -------------------------------------------------------------

async def reverse_journal(session: AsyncSession, journal_id: str, *, on: dt.date, actor: str, reason: str) -> dict:
    original = await session.get(Journal, journal_id)
    if original is None:
        raise LedgerError(f"no journal {journal_id}")
    await lock_documents(session, {original.company_id})  # it may change open items (gl.service.legacy)
    if original.kind == "reversal":
        raise LedgerError("a reversal is not reversed; post a new journal instead")
    if original.kind == "closing":
        raise LedgerError(f"journal {original.number} is a year-end closing journal and is not reversed: post the "
                          "adjustment in its year (reopen the month) and run the year-end close again, which "
                          "carries the difference")
    if on < original.posting_date:
        raise LedgerError(f"a reversal is dated on or after its journal ({original.posting_date.isoformat()})")
    done = (await session.execute(sa.select(Journal.id).where(Journal.reverses_journal_id == journal_id))).first()
    if done:
        raise LedgerError(f"journal {original.number} is already reversed")
    lines = (await session.execute(sa.select(JournalLine).where(JournalLine.journal_id == journal_id)
                                   .order_by(JournalLine.line_no))).scalars().all()
    draft = JournalDraft(
        company_id=original.company_id, posting_date=on, currency=original.currency,
        description=f"Reversal of {original.number}: {reason}"[:500],
        lines=tuple(DraftLine(ln.account_code, ln.credit, ln.debit, ln.currency, f"reversal: {ln.memo}"[:500],
                              {d: getattr(ln, d) for d in DIMENSIONS if getattr(ln, d)}, ln.cash_flow_item,
                              ln.txn_currency, -ln.txn_amount, ln.open_item)
                    for ln in lines),
        source_event_type="gl.reversal", source_document=original.number, rule_id="reversal", rule_version=1)
    return await post_journal(session, draft, kind="reversal", posted_by=actor, reverses_journal_id=original.id)


async def refresh_revaluations(session: AsyncSession, drafts: list[JournalDraft]) -> None:
    """A foreign-currency document posted into a period that was already revalued (a
    settlement dated before the revaluation ran, typically) leaves that revaluation stale:
    it revalued an item that is now settled, and realisation would count the same
    difference again (ERPNext #43327). Revalue the period again in the same transaction:
    the revaluation moves each balance to its closing-rate target, so it changes only what
    the new postings changed. If it cannot (no closing rate, next period closed) the
    postings stand and the operator revalues by hand; the log says so."""
    scopes = sorted({(d.company_id, d.period) for d in drafts
                     if d.rule_id != "revaluation" and any(ln.open_item and ln.txn_currency for ln in d.lines)})
    for company_id, period in scopes:
        done = (await session.execute(sa.select(Journal.id).where(
            Journal.company_id == company_id, Journal.period == period, Journal.kind == "revaluation",
            Journal.kind != NOT_FROM_EVENTS)
            .limit(1))).first()
        if done is None:
            continue
        company = await session.get(Company, company_id)
        try:
            async with session.begin_nested():
                await revalue(session, company, period, actor="gl-posting")
        except LedgerError as exc:
            log.warning("revaluation of %s %s is stale and was not refreshed: %s", company_id, period, exc)


async def revalue(session: AsyncSession, company: Company, period: str, *, actor: str) -> dict:
    """Period-end revaluation of open foreign-currency receivables, payables and bank balances
    at the closing rate: unrealised FX gain/loss on the last day, reversed on the first day
    of the next period (so realised differences are booked when the items settle)."""
    y, m = (int(x) for x in period.split("-"))
    end = dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)
    chart = load_chart(company.chart_template)
    codes = {chart.roles[r] for r in ("receivables", "payables", "bank", "cash") if r in chart.roles}
    cur = company.functional_currency
    jl = JournalLine.__table__
    rows = (await session.execute(
        sa.select(jl.c.account_code, jl.c.txn_currency, jl.c.customer, jl.c.supplier,
                  sa.func.sum(jl.c.txn_amount), sa.func.sum(jl.c.debit - jl.c.credit))
        .where(jl.c.company_id == company.id, jl.c.account_code.in_(codes), jl.c.txn_currency != "",
               jl.c.posting_date <= end)
        .group_by(jl.c.account_code, jl.c.txn_currency, jl.c.customer, jl.c.supplier))).all()
    rates = await rates_on(session, company.id, {r[1] for r in rows}, end)
    missing = sorted({r[1] for r in rows} - set(rates))
    if missing:
        raise LedgerError(f"no closing rate for {', '.join(missing)} on or before {end}")
    lines, total = [], Decimal(0)
    for code, txn_cur, customer, supplier, txn_bal, func_bal in rows:
        target = money.quantize(Decimal(txn_bal or 0) * rates[txn_cur], cur)
        diff = money.quantize(target - Decimal(func_bal or 0), cur)
        if diff == 0:
            continue
        total += diff
        dims = {k: v for k, v in (("customer", customer), ("supplier", supplier)) if v}
        lines.append(DraftLine(code, max(diff, Decimal(0)), max(-diff, Decimal(0)), cur,
                               f"revaluation {txn_cur} {txn_bal} at {rates[txn_cur]}", dims,
                               "fx_effect" if chart.accounts[code].cash else "", txn_cur, Decimal(0)))
    if not lines:
        return {"period": period, "journal": None, "reversal": None, "lines": 0}
    lines.append(DraftLine(chart.account_for("fx_gain_loss"), max(-total, Decimal(0)), max(total, Decimal(0)), cur,
                           f"unrealised FX {'gain' if total > 0 else 'loss'} {period}"))
    draft = JournalDraft(company_id=company.id, posting_date=end, currency=cur, description=f"FX revaluation {period}",
                         lines=tuple(lines), source_event_type="gl.revaluation", source_document=f"REVAL-{period}",
                         rule_id="revaluation", rule_version=1)
    journal = await post_journal(session, draft, kind="revaluation", posted_by=actor)
    reversal = await reverse_journal(session, journal["id"], on=end + dt.timedelta(days=1), actor=actor,
                                     reason=f"automatic reversal of the {period} revaluation")
    return {"period": period, "journal": journal["id"], "number": journal["number"], "reversal": reversal["id"],
            "lines": len(lines), "gain_or_loss": money.format_amount(total, cur)}
