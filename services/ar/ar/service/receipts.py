"""Receipts: applied to invoices by the customer's instruction or oldest-first; what is left
is held as unapplied cash. Ageing of open invoices as of any date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from finance.ar.v1 import events_pb2 as ar_events
from finance.common.v1 import types_pb2
from fincore import dates, money
from fincore.db import locked
from fincore.outbox import add_event
from fincore.sequences import allocate
from fincore.tables import utcnow
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils import uuid7

from ar.adapters.tables import BadDebtEntry, CreditMemo, Customer, Invoice, Receipt, ReceiptApplication

ZERO = Decimal(0)


class ReceiptError(ValueError):
    pass


@dataclass(frozen=True)
class Instruction:
    invoice_id: str
    amount: Decimal


async def customer_and_amount(session: AsyncSession, company: str, customer: str, amount: Decimal,
                              error: type[ValueError]) -> tuple[Customer, Decimal]:
    """What money in (a receipt) and money out (a refund) both start with: the customer, and
    the amount exactly in the customer's currency (its minor unit; nothing is rounded away).
    Raises `error` (the use case's own) when either is wrong."""
    c = await session.get(Customer, (company, customer))
    if c is None:
        raise error(f"no customer {customer!r} in company {company!r}")
    try:
        return c, money.exact(amount, c.currency)
    except money.MoneyError as exc:
        raise error(str(exc)) from None


async def receive_payment(session: AsyncSession, *, company: str, customer: str, amount: Decimal, on: dt.date,
                          bank_account: str, method: str, instructions: list[Instruction] | None = None,
                          idempotency_key: str | None = None,
                          bank_line_id: str = "") -> tuple[Receipt, list[ReceiptApplication]]:
    """`bank_line_id`: the bank statement line cash management identified the receipt from."""
    c, amount = await customer_and_amount(session, company, customer, amount, ReceiptError)
    currency = c.currency
    if amount <= 0:
        raise ReceiptError("a receipt is for a positive amount (refunds are their own document)")
    if amount >= money.MAX_DOCUMENT_AMOUNT:
        raise ReceiptError(f"a receipt is for less than {money.MAX_DOCUMENT_AMOUNT:,} {currency} (the ledger's limit)")
    q = locked(sa.select(Invoice).where(Invoice.company_id == company, Invoice.customer_code == customer,
                                        Invoice.status == "open")
               .order_by(Invoice.due_date, Invoice.issue_date, Invoice.number))
    open_invoices = {i.id: i for i in (await session.execute(q)).scalars()}
    left, plan = amount, []
    if instructions:
        for ins in instructions:
            inv = open_invoices.get(ins.invoice_id)
            if inv is None:
                raise ReceiptError(f"invoice {ins.invoice_id} is not an open invoice of {customer}")
            if any(p[0] is inv for p in plan):
                raise ReceiptError(f"invoice {inv.number} is named twice in the instructions")
            due = inv.gross_total - inv.paid_amount
            if ins.amount <= 0 or ins.amount > due:
                raise ReceiptError(f"invoice {inv.number}: {ins.amount} is not between 0 and the {due} outstanding")
            if ins.amount > left:
                raise ReceiptError("the instructions apply more than the receipt")
            plan.append((inv, ins.amount))
            left -= ins.amount
    else:  # oldest first
        for inv in open_invoices.values():
            if not left:
                break
            take = min(left, inv.gross_total - inv.paid_amount)
            plan.append((inv, take))
            left -= take
    seq = await allocate(session, f"receipt:{company}:{on.year}")
    rec = Receipt(id=str(uuid7()), company_id=company, number=f"RC-{on.year}-{seq:06d}", customer_code=customer,
                  receipt_date=on, currency=currency, amount=amount, unapplied=left, bank_account=bank_account,
                  payment_method=method, idempotency_key=idempotency_key, created_at=utcnow())
    session.add(rec)
    await session.flush()
    apps = []
    for inv, take in plan:
        inv.paid_amount += take
        if inv.paid_amount >= inv.gross_total:
            inv.status = "paid"
        app = ReceiptApplication(receipt_id=rec.id, invoice_id=inv.id, applied_on=on, amount=take)
        session.add(app)
        apps.append(app)
    m = lambda v: money.to_proto(v, currency)  # noqa: E731
    add_event(session, ar_events.PaymentReceived(
        company_id=company, document_number=rec.number, occurrence_date=dates.to_proto(on), receipt_id=rec.id,
        customer_code=customer, customer_group=c.customer_group, bank_account=bank_account,
        payment_method=method, amount=m(amount),
        applications=[ar_events.ReceiptApplication(invoice_id=inv.id, amount=m(take)) for inv, take in plan],
        unapplied=m(left),
        dimensions=types_pb2.Dimensions(customer=customer, intercompany_partner=c.intercompany_partner),
        bank_line_id=bank_line_id), source="ar")
    return rec, apps


DEFAULT_BUCKETS = (30, 60, 90)


async def ageing(session: AsyncSession, company: str, as_of: dt.date, buckets: tuple[int, ...] = DEFAULT_BUCKETS,
                 customer: str | None = None) -> dict:
    """Open amounts as of a date by days past due: current, 1-30, 31-60, 61-90, 90+ (configurable),
    and beside them the customer's credit (unapplied cash and unapplied credit memos dated on or
    before the date, at what is unapplied today) and the net position (total - credit).
    A row per customer and currency: each document counts in its own currency (an invoice in
    another currency than the customer's is its own row), and amounts in different currencies
    are never added: `total` is the company's when all rows share one currency (else None),
    `totals_by_currency` always."""
    # What settled each invoice by the date: receipts applied, credit memos applied to it (a
    # price adjustment, a return, a cancellation) and write-offs, as the ledger relieves it.
    settled = sa.union_all(
        sa.select(ReceiptApplication.invoice_id.label("invoice_id"), ReceiptApplication.amount.label("amount"))
        .where(ReceiptApplication.applied_on <= as_of),
        sa.select(CreditMemo.invoice_id, CreditMemo.applied).where(CreditMemo.company_id == company,
                                                                   CreditMemo.memo_date <= as_of),
        sa.select(BadDebtEntry.invoice_id, BadDebtEntry.amount).where(
            BadDebtEntry.company_id == company, BadDebtEntry.kind == "write_off", BadDebtEntry.entry_date <= as_of),
    ).subquery()
    paid = (sa.select(settled.c.invoice_id, sa.func.sum(settled.c.amount).label("paid"))
            .group_by(settled.c.invoice_id).subquery())
    q = (sa.select(Invoice, sa.func.coalesce(paid.c.paid, 0)).outerjoin(paid, paid.c.invoice_id == Invoice.id)
         .where(Invoice.company_id == company, Invoice.issue_date <= as_of))
    if customer:
        q = q.where(Invoice.customer_code == customer)
    labels = ["current"] + [f"{lo + 1}-{hi}" for lo, hi in zip((0, *buckets[:-1]), buckets, strict=True)] + \
        [f"{buckets[-1]}+"]
    per_customer: dict[tuple[str, str], dict[str, Decimal]] = {}  # (customer, currency) -> buckets
    for inv, paid_amount in (await session.execute(q)).all():
        open_amount = inv.gross_total - Decimal(paid_amount)
        if open_amount <= 0:
            continue
        late = (as_of - inv.due_date).days
        if late <= 0:
            label = "current"
        else:
            label = next((lab for lab, hi in zip(labels[1:-1], buckets, strict=True) if late <= hi), labels[-1])
        row = per_customer.setdefault((inv.customer_code, inv.currency), dict.fromkeys(labels, ZERO))
        row[label] += open_amount
    credit = await _credit_as_of(session, company, as_of, customer)
    keys = sorted(set(per_customer) | set(credit))

    def figures(row: dict[str, Decimal], held: Decimal, cur: str) -> dict:
        owed = sum(row.values(), ZERO)
        return {**{k: money.format_amount(v, cur) for k, v in row.items()}, "total": money.format_amount(owed, cur),
                "credit": money.format_amount(held, cur), "net": money.format_amount(owed - held, cur)}

    out, totals = [], {}  # totals: currency -> (buckets, credit)
    for cust, cur in keys:
        row, held = per_customer.get((cust, cur), dict.fromkeys(labels, ZERO)), credit.get((cust, cur), ZERO)
        buckets_total, credit_total = totals.setdefault(cur, (dict.fromkeys(labels, ZERO), [ZERO]))
        for k, v in row.items():
            buckets_total[k] += v
        credit_total[0] += held
        out.append({"customer": cust, "currency": cur, **figures(row, held, cur)})
    by_currency = {cur: figures(b, c[0], cur) for cur, (b, c) in sorted(totals.items())}
    total = next(iter(by_currency.values())) if len(by_currency) == 1 else None
    if not by_currency:
        total = figures(dict.fromkeys(labels, ZERO), ZERO, "CNY")
    return {"company": company, "as_of": as_of.isoformat(), "buckets": labels, "customers": out,
            "total": total, "totals_by_currency": by_currency}


async def _credit_as_of(session: AsyncSession, company: str, as_of: dt.date,
                        customer: str | None) -> dict[tuple[str, str], Decimal]:
    """(customer, currency) -> unapplied cash and unapplied credit memos dated on or before the date."""
    rq = (sa.select(Receipt.customer_code, Receipt.currency, sa.func.sum(Receipt.unapplied))
          .where(Receipt.company_id == company, Receipt.receipt_date <= as_of, Receipt.unapplied > 0)
          .group_by(Receipt.customer_code, Receipt.currency))
    mq = (sa.select(CreditMemo.customer_code, CreditMemo.currency,
                    sa.func.sum(CreditMemo.gross_total - CreditMemo.applied))
          .where(CreditMemo.company_id == company, CreditMemo.memo_date <= as_of,
                 CreditMemo.gross_total > CreditMemo.applied).group_by(CreditMemo.customer_code, CreditMemo.currency))
    if customer:
        rq, mq = rq.where(Receipt.customer_code == customer), mq.where(CreditMemo.customer_code == customer)
    out: dict[tuple[str, str], Decimal] = {}
    for q in (rq, mq):
        for cust, cur, v in (await session.execute(q)).all():
            out[(cust, cur)] = out.get((cust, cur), ZERO) + Decimal(v)
    return out
