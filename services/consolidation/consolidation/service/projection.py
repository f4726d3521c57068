"""Consolidation's copy of the entities' ledgers, kept from the GL's events (never its database).

- JournalPosted: each line adds to the entity's balance of its day, account and intercompany
  partner (intercompany lines also by document and transaction currency, for the mismatch
  report). The year-end closing journal (rule `year_end_close`) is left out: consolidation keeps
  income and expenses apart from retained earnings itself.
- PeriodClosed: the period's figures are final. When every entity of a group has closed the
  period, the group is consolidated for the year to that period (a final run, published).
- PeriodReopened: the period is flagged; runs that covered it are marked superseded.
- A journal that arrives for a closed period (the year-end close, or a journal the broker
  delivered after the close from another partition) flags it and runs the group again.

Lines of one poll are summed in memory and written at the end of the poll's transaction
(one upsert per key), the inbox row of each event in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from decimal import Decimal

import sqlalchemy as sa
from finance.gl.v1 import events_pb2 as gl_events
from fincore import dates, money
from fincore.events.envelope import Envelope
from fincore.tables import utcnow
from sqlalchemy.ext.asyncio import AsyncSession

from consolidation.adapters.tables import EntityBalance, EntityCompany, EntityPeriod, GroupEntity, Run

log = logging.getLogger(__name__)
YEAR_END_RULE = "year_end_close"
_STAGED = "consolidation.staged"


def _upsert(session: AsyncSession, table: sa.Table, rows: list[dict], keys: list[str], add: list[str]):
    if session.bind.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table)
    return stmt.on_conflict_do_update(index_elements=keys,
                                      set_={c: getattr(table.c, c) + getattr(stmt.excluded, c) for c in add})


class Staged:
    def __init__(self) -> None:
        self.balances: dict[tuple, list] = defaultdict(lambda: [Decimal(0), Decimal(0), 0])
        self.companies: dict[str, list] = {}
        self.touched: set[tuple[str, str]] = set()  # (company, period)
        self.groups: dict[str, str] = {}  # group id -> the period to consolidate to


def staged(session: AsyncSession) -> Staged:
    s = session.info.get(_STAGED)
    if s is None:
        s = session.info[_STAGED] = Staged()
    return s


def stage_journal(session: AsyncSession, msg: gl_events.JournalPosted) -> None:
    if msg.rule_id == YEAR_END_RULE:
        return
    st = staged(session)
    on = dates.from_proto(msg.occurrence_date)
    currency = ""
    for ln in msg.lines:
        currency = ln.debit.currency_code or ln.credit.currency_code or currency
        amount = money.from_proto(ln.debit) - money.from_proto(ln.credit)
        partner = ln.dimensions.intercompany_partner
        txn_ccy, txn_amt, doc = "", Decimal(0), ""
        if partner:
            doc = (msg.source_document or msg.document_number)[:80]
            if ln.HasField("transaction_amount") and ln.transaction_amount.currency_code != currency:
                txn_ccy, txn_amt = ln.transaction_amount.currency_code, money.from_proto(ln.transaction_amount)
        b = st.balances[(msg.company_id, on, ln.account_code, partner, txn_ccy, doc)]
        b[0] += amount
        b[1] += txn_amt
        b[2] += 1
    c = st.companies.setdefault(msg.company_id, [currency, 0])
    c[1] += 1
    st.touched.add((msg.company_id, msg.period or dates.period_of(on)))


async def write_staged(session: AsyncSession) -> None:
    st = session.info.get(_STAGED)
    if st is None or not (st.balances or st.companies):
        return
    t = EntityBalance.__table__
    rows = [{"company_id": k[0], "posting_date": k[1], "account_code": k[2], "partner": k[3], "txn_currency": k[4],
             "document": k[5], "period": dates.period_of(k[1]), "amount": v[0], "txn_amount": v[1], "lines": v[2]}
            for k, v in sorted(st.balances.items())]
    for i in range(0, len(rows), 1000):
        chunk = rows[i:i + 1000]
        await session.execute(_upsert(session, t, chunk, ["company_id", "posting_date", "account_code", "partner",
                                                          "txn_currency", "document"],
                                      ["amount", "txn_amount", "lines"]).values(chunk))
    now = utcnow()
    ct = EntityCompany.__table__
    crow = [{"company_id": k, "functional_currency": v[0], "journals": v[1], "last_posted_at": now}
            for k, v in sorted(st.companies.items())]
    await session.execute(_upsert(session, ct, crow, ["company_id"], ["journals"]).values(crow))
    # Journals into a closed period: flag it, consolidate its groups again.
    if st.touched:
        closed = (await session.execute(sa.select(EntityPeriod).where(
            EntityPeriod.status == "closed",
            sa.tuple_(EntityPeriod.company_id, EntityPeriod.period).in_(sorted(st.touched))))).scalars().all()
        for p in closed:
            p.changed_after_close = True
            for gid in await groups_of(session, p.company_id):
                st.groups[gid] = max(st.groups.get(gid, ""), p.period)
    st.balances.clear()
    st.companies.clear()
    st.touched.clear()
    await session.flush()


async def groups_of(session: AsyncSession, company: str) -> list[str]:
    return list((await session.execute(sa.select(GroupEntity.group_id).where(
        GroupEntity.company_id == company))).scalars().all())


async def period_closed(session: AsyncSession, msg: gl_events.PeriodClosed) -> None:
    await write_staged(session)
    row = await session.get(EntityPeriod, (msg.company_id, msg.period))
    if row is None:
        session.add(EntityPeriod(company_id=msg.company_id, period=msg.period, status="closed", closed_at=utcnow()))
    else:
        row.status, row.closed_at, row.changed_after_close = "closed", utcnow(), False
    await session.flush()
    st = staged(session)
    for gid in await groups_of(session, msg.company_id):
        st.groups[gid] = max(st.groups.get(gid, ""), msg.period)


async def period_reopened(session: AsyncSession, msg: gl_events.PeriodReopened) -> None:
    await write_staged(session)
    row = await session.get(EntityPeriod, (msg.company_id, msg.period))
    if row is None:
        row = EntityPeriod(company_id=msg.company_id, period=msg.period, status="reopened")
        session.add(row)
    row.status, row.reopened_at, row.reason = "reopened", utcnow(), msg.reason[:500]
    groups = await groups_of(session, msg.company_id)
    if groups:
        await session.execute(sa.update(Run).where(Run.group_id.in_(groups), Run.period_from <= msg.period,
                                                   Run.period_to >= msg.period).values(superseded=True))
    await session.flush()


async def closed_through(session: AsyncSession, group_id: str, period: str) -> bool:
    """Whether every entity of the group has closed `period` (and not reopened it)."""
    members = (await session.execute(sa.select(GroupEntity.company_id, GroupEntity.acquired_on).where(
        GroupEntity.group_id == group_id))).all()
    end = dates.period_end(period)
    needed = [m.company_id for m in members if m.acquired_on is None or m.acquired_on <= end]
    rows = (await session.execute(sa.select(EntityPeriod.company_id).where(
        EntityPeriod.company_id.in_(needed), EntityPeriod.period == period,
        EntityPeriod.status == "closed"))).scalars().all()
    return set(rows) >= set(needed) and bool(needed)


class LedgerProjection:
    """Inbox handler of finance.gl.events.v1 (see the module docstring)."""

    def __init__(self, *, auto_run: bool = True) -> None:
        self.auto_run = auto_run

    async def __call__(self, session: AsyncSession, env: Envelope) -> None:
        msg = env.payload
        if isinstance(msg, gl_events.JournalPosted):
            stage_journal(session, msg)
        elif isinstance(msg, gl_events.PeriodClosed):
            await period_closed(session, msg)
        elif isinstance(msg, gl_events.PeriodReopened):
            await period_reopened(session, msg)

    async def before_commit(self, session: AsyncSession) -> None:
        await write_staged(session)
        st = session.info.pop(_STAGED, None)
        if st is None or not self.auto_run:
            return
        from consolidation.service.runs import consolidate_group

        for gid, period in sorted(st.groups.items()):
            if not await closed_through(session, gid, period):
                continue
            start = f"{period[:4]}-01"
            log.info("consolidating group %s %s..%s (period closed)", gid, start, period)
            await consolidate_group(session, gid, start, period, actor="consolidation", trigger="period-closed",
                                    today=dt.date.today())
