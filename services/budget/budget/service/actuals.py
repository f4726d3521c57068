"""Actuals from the ledger: the budget service consumes the GL's JournalPosted events.

A journal line counts against a budget line when its account is mapped to a budget item and
it carries a cost centre that has a budget for the journal's period. When the journal is the
one of an AP invoice the budget had already committed (JournalPosted.source_document = the
commit's invoice_ref), the commitment turns into actual as it arrives, and once the journal
is counted anywhere in the budget, what is left of the invoice's commitments is cleared:
consumption is never counted twice, and where the ledger put the spend is what counts. A
journal the budget does not track (stock: GRNI, no cost centre) leaves the commitment as the
consumption.

Why a plain inbox consumer and not a faust-streaming table: the consumption view is read, with
a row lock, by every Reserve/Commit in the same database transaction that changes it; a faust
table lives in the worker's memory/RocksDB with a changelog topic and could not take part in
that transaction. The inbox (event id recorded with the effect, offsets committed after the
database commit) makes the view exact after any restart or redelivery."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from finance.gl.v1 import events_pb2 as gl_events
from fincore import dates, money
from fincore.events.envelope import Envelope
from sqlalchemy.ext.asyncio import AsyncSession

from budget.adapters.tables import Actual, BudgetLine, Commitment, ItemAccount
from budget.service.control import add_actual, figures_by_id, threshold_events

ZERO = Decimal(0)
AP_EVENTS = "finance.ap."  # journals of AP documents clear the commitments made for them


class ActualsFromLedger:
    async def __call__(self, session: AsyncSession, env: Envelope) -> None:
        msg = env.payload
        if not isinstance(msg, gl_events.JournalPosted):
            return
        touched: dict[str, BudgetLine] = {}
        accounts = {ln.account_code for ln in msg.lines}
        mapping = dict((await session.execute(sa.select(ItemAccount.account_code, ItemAccount.budget_item).where(
            ItemAccount.company_id == msg.company_id, ItemAccount.account_code.in_(accounts)))).all())
        for ln in msg.lines:
            item, cc = mapping.get(ln.account_code), ln.dimensions.cost_centre
            if not item or not cc:
                continue
            line = (await session.execute(sa.select(BudgetLine).where(
                BudgetLine.company_id == msg.company_id, BudgetLine.cost_centre == cc,
                BudgetLine.budget_item == item, BudgetLine.period == msg.period))).scalar_one_or_none()
            if line is None:
                continue
            amount = money.from_proto(ln.debit) - money.from_proto(ln.credit)
            session.add(Actual(company_id=msg.company_id, line_id=line.id, journal_id=msg.journal_id,
                               journal_line_no=ln.line_no, journal_number=msg.document_number,
                               source_document=msg.source_document, account_code=ln.account_code, amount=amount,
                               posted_on=dates.from_proto(msg.occurrence_date)))
            actualised = ZERO
            if msg.source_document and amount > 0:
                actualised = await self._actualise(session, msg.company_id, msg.source_document, line.id, amount)
            await add_actual(await session.connection(), line.id, amount, actualised)
            touched[line.id] = line
        if touched and msg.source_document and msg.source_event_type.startswith(AP_EVENTS):
            # the ledger counted the invoice's spend somewhere in the budget: what is left of its
            # commitments (on lines the journal did not reach) has done its work
            for line_id in await self._clear_commitments(session, msg.company_id, msg.source_document):
                touched.setdefault(line_id, await session.get(BudgetLine, line_id))
        await session.flush()
        for line in touched.values():
            await threshold_events(session, line, await figures_by_id(session, line.id))

    @staticmethod
    async def _actualise(session: AsyncSession, company: str, invoice_ref: str, line_id: str,
                         amount: Decimal) -> Decimal:
        """Turn the invoice's commitments on this line into actual; returns how much."""
        commitments = (await session.execute(sa.select(Commitment).where(
            Commitment.company_id == company, Commitment.invoice_ref == invoice_ref,
            Commitment.line_id == line_id).order_by(Commitment.created_at))).scalars().all()
        done = ZERO
        for c in commitments:
            take = min(amount - done, c.amount - c.actualised)
            if take > 0:
                c.actualised += take
                done += take
        return done

    @staticmethod
    async def _clear_commitments(session: AsyncSession, company: str, invoice_ref: str) -> set[str]:
        """The rest of the invoice's commitments, once its journal was counted: the ledger
        says where the spend went (account and cost centre), even where that is not the
        budget line the invoice committed against. A journal the budget does not track at all
        (a stock invoice: GRNI, no cost centre) leaves its commitments standing."""
        commitments = (await session.execute(sa.select(Commitment).where(
            Commitment.company_id == company, Commitment.invoice_ref == invoice_ref,
            Commitment.amount > Commitment.actualised))).scalars().all()
        conn = await session.connection()
        for c in commitments:
            rest = c.amount - c.actualised
            c.actualised = c.amount
            await add_actual(conn, c.line_id, ZERO, rest)
        return {c.line_id for c in commitments}
