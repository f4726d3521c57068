"""Actuals from the ledger: the budget service consumes the GL's JournalPosted events.

A journal line counts against a budget line when its account is mapped to a budget item and
it carries a cost centre that has a budget for the journal's period. When the journal is the
one of an AP invoice the budget had already committed (JournalPosted.source_document = the
commit's invoice_ref), the commitment turns into actual as it arrives:

- where the journal's lines reach budget lines, that is the actual (where the ledger put the
  spend is what counts), and what is left of the invoice's commitments is cleared;
- where they reach none, the invoice's commitments become actual where they were committed,
  at the committed amount. This is the stock purchase: its journal debits GRNI (and price
  variance, input VAT) against payables, with no cost centre, so the ledger cannot say which
  budget line it spent. A stock purchase is actual spend at invoice approval, as the GL posts
  it: the invoice net (received cost plus price variance) on the requisition's budget line.
  Goods received but not yet invoiced stay committed against the order's reservation, and
  issuing the goods later changes nothing in the budget (it would count them twice).

Consumption is never counted twice, and the rule has this one home.

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
AP_INVOICE = "finance.ap.InvoiceApproved."  # journals of AP invoices settle the commitments made for them


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
        if msg.source_document and msg.source_event_type.startswith(AP_INVOICE):
            # touched: the ledger counted the invoice's spend somewhere in the budget, what is left
            # of its commitments (on lines the journal did not reach) has done its work; untouched
            # (a stock purchase): its commitments are the actual
            settle = self._clear_commitments if touched else self._commitments_to_actual
            for line_id in await settle(session, msg):
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
    async def _open_commitments(session: AsyncSession, msg: gl_events.JournalPosted) -> list[Commitment]:
        return list((await session.execute(sa.select(Commitment).where(
            Commitment.company_id == msg.company_id, Commitment.invoice_ref == msg.source_document,
            Commitment.amount > Commitment.actualised).order_by(Commitment.document_ref))).scalars().all())

    async def _clear_commitments(self, session: AsyncSession, msg: gl_events.JournalPosted) -> set[str]:
        """The rest of the invoice's commitments, once its journal was counted: the ledger
        says where the spend went (account and cost centre), even where that is not the
        budget line the invoice committed against."""
        commitments = await self._open_commitments(session, msg)
        conn = await session.connection()
        for c in commitments:
            rest = c.amount - c.actualised
            c.actualised = c.amount
            await add_actual(conn, c.line_id, ZERO, rest)
        return {c.line_id for c in commitments}

    async def _commitments_to_actual(self, session: AsyncSession, msg: gl_events.JournalPosted) -> set[str]:
        """The invoice's journal reached no budget line (a stock purchase): each open
        commitment becomes an actual of its own line, recorded against the journal."""
        commitments = await self._open_commitments(session, msg)
        conn = await session.connection()
        for c in commitments:
            rest = c.amount - c.actualised
            c.actualised = c.amount
            session.add(Actual(company_id=msg.company_id, line_id=c.line_id, journal_id=msg.journal_id,
                               journal_line_no=0, document_ref=c.document_ref, journal_number=msg.document_number,
                               source_document=msg.source_document, account_code="", amount=rest,
                               posted_on=dates.from_proto(msg.occurrence_date)))
            await add_actual(conn, c.line_id, rest, rest)
        return {c.line_id for c in commitments}
