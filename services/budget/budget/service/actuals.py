"""Actuals from the ledger: the budget service consumes the GL's JournalPosted events.

A journal line counts against a budget line when its account is mapped to a budget item and
it carries a cost centre that has a budget for the journal's period. When the journal is the
one of an invoice the budget had already committed (JournalPosted.source_document = the
commit's invoice_ref), the commitment turns into actual: consumption is never counted twice.

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


class ActualsFromLedger:
    async def __call__(self, session: AsyncSession, env: Envelope) -> None:
        msg = env.payload
        if not isinstance(msg, gl_events.JournalPosted):
            return
        accounts = {ln.account_code for ln in msg.lines}
        mapping = dict((await session.execute(sa.select(ItemAccount.account_code, ItemAccount.budget_item).where(
            ItemAccount.company_id == msg.company_id, ItemAccount.account_code.in_(accounts)))).all())
        if not mapping:
            return
        touched: dict[str, BudgetLine] = {}
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
        await session.flush()
        for line in touched.values():
            await threshold_events(session, line, await figures_by_id(session, line.id))

    @staticmethod
    async def _actualise(session: AsyncSession, company: str, invoice_ref: str, line_id: str,
                         amount: Decimal) -> Decimal:
        """Turn commitments of the invoice into actual; returns how much."""
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
