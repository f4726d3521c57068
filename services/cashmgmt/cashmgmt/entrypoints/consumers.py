"""What reconciliation matches against, kept from what AR and AP publish (never read from
their databases): customers and suppliers, open invoices, receipts, payments and refunds.

One consumer (`cashmgmt-documents`) reads both topics through the inbox, so a redelivered
event changes nothing twice. An item's `open` is what is still expected on the bank.

A document that arrives after the statement line it explains (the bank is faster than the
books, or AR issued the invoice late) reconciles that line: when a new item arrives and the
company has unmatched lines in its currency, they are decided again by the rules, in the
same transaction as the item (`reconcile`, which skips lines another run holds)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import sqlalchemy as sa
from finance.ap.v1 import events_pb2 as ap
from finance.ar.v1 import events_pb2 as ar
from fincore import dates, money
from fincore.events.envelope import Envelope
from fincore.tables import utcnow
from sqlalchemy.ext.asyncio import AsyncSession

from cashmgmt.adapters.tables import Allocation, OpenItemRow, PartyRow, StatementLine
from cashmgmt.domain.reconcile import Rule
from cashmgmt.service.reconciliation import reconcile

TOPICS = ("finance.ar.events.v1", "finance.ap.events.v1")
NEW_ITEMS = "cashmgmt.new_items"


async def _party(session: AsyncSession, company: str, code: str, kind: str, name: str, iban: str = "",
                 currency: str = "") -> None:
    row = await session.get(PartyRow, (company, code))
    if row is None:
        session.add(PartyRow(company_id=company, code=code, kind=kind, name=name, ibans=[iban] if iban else [],
                             currency=currency))
        return
    row.name, row.kind, row.currency = name, kind, currency
    if iban and iban not in row.ibans:
        row.ibans = sorted({*row.ibans, iban})


async def _item(session: AsyncSession, company: str, key: str, *, kind: str, document_id: str, number: str,
                party: str, amount: Decimal, currency: str, on: dt.date, references: list[str],
                bank_account: str = "") -> None:
    if await session.get(OpenItemRow, (company, key)) is not None:
        return  # the same document again (a republished event)
    session.info.setdefault(NEW_ITEMS, set()).add((company, currency))
    session.add(OpenItemRow(company_id=company, key=key, kind=kind, document_id=document_id, number=number,
                            party=party, currency=currency, amount=amount, open=amount, is_open=amount != 0,
                            item_date=on, references=[r for r in references if r], bank_account=bank_account,
                            updated_at=utcnow()))
    await session.flush()


async def _reduce(session: AsyncSession, company: str, key: str, by: Decimal) -> None:
    row = await session.get(OpenItemRow, (company, key))
    if row is not None:
        row.open -= by
        row.is_open = row.open != 0
        row.updated_at = utcnow()


def _words(text: str) -> list[str]:
    """The document numbers in a remittance text ("Invoices S1-4711, S1-4712"): words with a
    digit, so that a common word ("Invoices") never makes one document named by every line."""
    return [w.strip("()[].:") for w in re.split(r"[\s,;]+", text) if len(w) >= 4 and any(ch.isdigit() for ch in w)]


async def reconcile_waiting(session: AsyncSession, rules: list[Rule]) -> None:
    """Decide again the unmatched lines of the companies and currencies a new item arrived for."""
    for company, currency in sorted(session.info.pop(NEW_ITEMS, ())):
        waiting = (await session.execute(sa.select(StatementLine.id).where(
            StatementLine.company_id == company, StatementLine.currency == currency,
            StatementLine.status == "unmatched").limit(1))).first()
        if waiting is not None:
            await reconcile(session, company, rules, currency=currency)


class _Documents:
    """Keeps another context's documents (`keep`), then decides again the statement lines that
    were waiting for such a document."""

    def __init__(self, rules: list[Rule]) -> None:
        self.rules = rules

    async def __call__(self, session: AsyncSession, env: Envelope) -> None:
        await self.keep(session, env)
        await reconcile_waiting(session, self.rules)

    async def keep(self, session: AsyncSession, env: Envelope) -> None:
        raise NotImplementedError


class DocumentsFromAR(_Documents):

    async def keep(self, session: AsyncSession, env: Envelope) -> None:
        m = env.payload
        if isinstance(m, ar.CustomerUpserted):
            await _party(session, m.company_id, m.customer_code, "customer", m.name, currency=m.currency)
        elif isinstance(m, ar.InvoiceIssued):
            gross = money.from_proto(m.gross_total)
            on = dates.from_proto(m.due_date) if m.HasField("due_date") else dates.from_proto(m.occurrence_date)
            await _item(session, m.company_id, f"ar_invoice:{m.invoice_id}", kind="ar_invoice",
                        document_id=m.invoice_id, number=m.document_number, party=m.customer_code, amount=gross,
                        currency=m.gross_total.currency_code or m.currency, on=on,
                        references=[m.sales_order_ref])
        elif isinstance(m, ar.CreditMemoIssued):
            applied = money.from_proto(m.applied) if m.HasField("applied") else money.from_proto(m.gross_total)
            await _reduce(session, m.company_id, f"ar_invoice:{m.invoice_id}", applied)
        elif isinstance(m, ar.PaymentReceived):
            for app in m.applications:
                await _reduce(session, m.company_id, f"ar_invoice:{app.invoice_id}", money.from_proto(app.amount))
            if m.bank_line_id:
                # the receipt AR booked for a line we identified: what the line held is now AR's
                await session.execute(sa.delete(Allocation).where(
                    Allocation.company_id == m.company_id, Allocation.line_id == int(m.bank_line_id),
                    Allocation.confirmed.is_(False)))
                return
            await _item(session, m.company_id, f"ar_receipt:{m.receipt_id}", kind="ar_receipt",
                        document_id=m.receipt_id, number=m.document_number, party=m.customer_code,
                        amount=money.from_proto(m.amount), currency=m.amount.currency_code,
                        on=dates.from_proto(m.occurrence_date), references=[], bank_account=m.bank_account)
        elif isinstance(m, ar.RefundPaid):
            await _item(session, m.company_id, f"ar_refund:{m.refund_id}", kind="ar_refund", document_id=m.refund_id,
                        number=m.document_number, party=m.customer_code, amount=-money.from_proto(m.amount),
                        currency=m.amount.currency_code, on=dates.from_proto(m.occurrence_date), references=[],
                        bank_account=m.bank_account)


class DocumentsFromAP(_Documents):

    async def keep(self, session: AsyncSession, env: Envelope) -> None:
        m = env.payload
        if isinstance(m, ap.SupplierUpserted):
            await _party(session, m.company_id, m.supplier_code, "supplier", m.name, m.iban, m.currency)
        elif isinstance(m, ap.PaymentMade):
            refs = [m.payment_run_number, *_words(m.remittance_information)]
            refs += [x for a in m.applications for x in (a.invoice_number, a.supplier_invoice_number)]
            await _item(session, m.company_id, f"ap_payment:{m.payment_id}", kind="ap_payment",
                        document_id=m.payment_id, number=m.document_number, party=m.supplier_code,
                        amount=-money.from_proto(m.amount), currency=m.amount.currency_code,
                        on=dates.from_proto(m.occurrence_date), references=refs, bank_account=m.bank_account)
