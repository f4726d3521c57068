"""Payment runs: a proposal of what is due (by due date, or earlier to take an early-payment
discount), approval, execution (one PaymentMade per supplier) and the ISO 20022 pain.001 file
for the bank; and the payables ageing as of any date."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from finance.ap.v1 import events_pb2 as ap_events
from fincore import dates, money
from fincore.errors import ProblemError
from fincore.outbox import add_event
from fincore.sequences import allocate
from fincore.tables import utcnow
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils import uuid7

from ap.adapters.tables import (
    BankAccount,
    Payment,
    PaymentApplication,
    PaymentRun,
    PaymentRunItem,
    Supplier,
    SupplierInvoice,
)
from ap.domain.terms import early_discount

ZERO = Decimal(0)
PAIN_SCHEMA = "pain.001.001.09"


class PaymentError(ValueError):
    pass


class DutiesNotSegregated(ProblemError):
    status, type_, title = 403, "segregation-of-duties", "Segregation of duties"


async def propose(session: AsyncSession, *, company: str, payment_date: dt.date, due_by: dt.date,
                  bank_account: str, proposed_by: str) -> PaymentRun:
    bank = await session.get(BankAccount, (company, bank_account))
    if bank is None:
        raise PaymentError(f"no bank account {bank_account} in company {company}")
    in_open_runs = sa.select(PaymentRunItem.invoice_id).join(PaymentRun, PaymentRun.id == PaymentRunItem.run_id) \
        .where(PaymentRun.company_id == company, PaymentRun.status.in_(("proposed", "approved")))
    invoices = (await session.execute(sa.select(SupplierInvoice).where(
        SupplierInvoice.company_id == company, SupplierInvoice.status == "approved",
        SupplierInvoice.currency == bank.currency, SupplierInvoice.id.not_in(in_open_runs),
        sa.or_(SupplierInvoice.due_date <= due_by, SupplierInvoice.discount_date >= payment_date))
        .order_by(SupplierInvoice.supplier_code, SupplierInvoice.due_date, SupplierInvoice.number))).scalars().all()
    if not invoices:
        raise PaymentError(f"nothing is due by {due_by} (or discountable on {payment_date}) in {bank.currency}")
    seq = await allocate(session, f"payrun:{company}:{payment_date.year}")
    run = PaymentRun(id=str(uuid7()), company_id=company, number=f"PR{payment_date:%Y%m%d}-{seq:04d}",
                     payment_date=payment_date, due_by=due_by, bank_account=bank_account, currency=bank.currency,
                     status="proposed", total=ZERO, proposed_by=proposed_by, created_at=utcnow())
    session.add(run)
    await session.flush()
    total = ZERO
    for inv in invoices:
        outstanding = Decimal(inv.gross_total) - Decimal(inv.settled)
        discount = early_discount(Decimal(inv.gross_total), Decimal(inv.discount_pct), inv.discount_date,
                                  payment_date, inv.currency) if inv.settled == 0 else ZERO
        session.add(PaymentRunItem(run_id=run.id, invoice_id=inv.id, supplier_code=inv.supplier_code,
                                   amount=outstanding - discount, discount=discount))
        total += outstanding - discount
    run.total = total
    return run


async def approve_run(session: AsyncSession, run: PaymentRun, approved_by: str, *,
                      segregate_duties: bool = True) -> PaymentRun:
    """Four eyes: with duties segregated (the default) the proposer of a run cannot approve it."""
    if run.status != "proposed":
        raise PaymentError(f"payment run {run.number} is {run.status}")
    if segregate_duties and approved_by == run.proposed_by:
        raise DutiesNotSegregated(f"payment run {run.number} was proposed by {run.proposed_by}: another person "
                                  "approves it (AP_SEGREGATE_DUTIES)")
    run.status, run.approved_by = "approved", approved_by
    return run


async def execute(session: AsyncSession, run: PaymentRun) -> list[Payment]:
    """One payment per supplier; each is a PaymentMade event with its applications."""
    if run.status != "approved":
        raise PaymentError(f"payment run {run.number} is {run.status}: it is executed once approved")
    items = (await session.execute(sa.select(PaymentRunItem, SupplierInvoice).join(
        SupplierInvoice, SupplierInvoice.id == PaymentRunItem.invoice_id).where(PaymentRunItem.run_id == run.id)
        .order_by(PaymentRunItem.supplier_code, SupplierInvoice.number))).all()
    by_supplier: dict[str, list] = {}
    for item, inv in items:
        by_supplier.setdefault(item.supplier_code, []).append((item, inv))
    payments = []
    for code, rows in by_supplier.items():
        sup = await session.get(Supplier, (run.company_id, code))
        amount = sum((Decimal(i.amount) for i, _ in rows), ZERO)
        seq = await allocate(session, f"payment:{run.company_id}:{run.payment_date.year}")
        pay = Payment(id=str(uuid7()), company_id=run.company_id, number=f"PAY-{run.payment_date.year}-{seq:06d}",
                      run_id=run.id, supplier_code=code, paid_on=run.payment_date, amount=amount, created_at=utcnow())
        session.add(pay)
        await session.flush()
        m = lambda v: money.to_proto(money.quantize(Decimal(v), run.currency), run.currency)  # noqa: E731
        apps = []
        for item, inv in rows:
            session.add(PaymentApplication(payment_id=pay.id, invoice_id=inv.id, paid_on=run.payment_date,
                                           amount=item.amount, discount=item.discount))
            inv.settled = Decimal(inv.settled) + Decimal(item.amount) + Decimal(item.discount)
            if inv.settled >= inv.gross_total:
                inv.status = "paid"
            apps.append(ap_events.PaymentApplication(invoice_id=inv.id, amount=m(item.amount),
                                                     discount=m(item.discount)))
        add_event(session, ap_events.PaymentMade(
            company_id=run.company_id, document_number=pay.number, occurrence_date=dates.to_proto(run.payment_date),
            payment_id=pay.id, supplier_code=code, supplier_group=sup.supplier_group, bank_account=run.bank_account,
            payment_method="SEPA_CREDIT_TRANSFER", amount=m(amount), applications=apps,
            payment_run_id=run.id), source="ap")
        payments.append(pay)
    run.status, run.executed_at = "executed", utcnow()
    return payments


async def pain001(session: AsyncSession, run: PaymentRun) -> bytes:
    """The run as an ISO 20022 customer credit transfer initiation (pain.001.001.09), one
    transaction per supplier, validated against the XSD sepaxml ships before it is returned."""
    from sepaxml import SepaTransfer
    from sepaxml.validation import ValidationError

    if run.status not in ("approved", "executed"):
        raise PaymentError(f"payment run {run.number} is {run.status}: the bank file exists once it is approved")
    bank = await session.get(BankAccount, (run.company_id, run.bank_account))
    if not bank.iban:
        raise PaymentError(f"bank account {bank.code} has no IBAN: pain.001 files are for IBAN accounts")
    if money.minor_units(run.currency) != 2:
        raise PaymentError(f"pain.001 files are written for currencies with cents; {run.currency} has none")
    rows = (await session.execute(sa.select(PaymentRunItem.supplier_code, sa.func.sum(PaymentRunItem.amount),
                                            sa.func.count()).where(PaymentRunItem.run_id == run.id)
                                  .group_by(PaymentRunItem.supplier_code).order_by(PaymentRunItem.supplier_code))).all()
    debtor = {"name": bank.name[:70], "IBAN": bank.iban, "batch": True, "currency": run.currency}
    if bank.bic:
        debtor["BIC"] = bank.bic
    sepa = SepaTransfer(debtor, schema=PAIN_SCHEMA, clean=True)
    suppliers = {code: await session.get(Supplier, (run.company_id, code)) for code, _, _ in rows}
    no_iban = sorted(code for code, sup in suppliers.items() if not sup.iban)
    if no_iban:
        raise PaymentError(f"no IBAN for {', '.join(no_iban)}: they cannot be in a pain.001 file")
    for code, amount, n in rows:
        sup = suppliers[code]
        minor = int(money.quantize(Decimal(amount), run.currency) * 10 ** money.minor_units(run.currency))
        payment = {"name": sup.name[:70], "IBAN": sup.iban, "amount": minor, "execution_date": run.payment_date,
                   "description": f"{run.number} {code} {n} invoice(s)"[:140],
                   "endtoend_id": f"{run.number}-{code}"[:35]}
        if sup.bic:
            payment["BIC"] = sup.bic
        sepa.add_payment(payment)
    try:
        return sepa.export(validate=True, pretty_print=True)
    except ValidationError as exc:
        raise PaymentError(f"the bank file does not validate against {PAIN_SCHEMA}: {exc.__cause__ or exc}") from exc


async def ageing(session: AsyncSession, company: str, as_of: dt.date, buckets: tuple[int, ...] = (30, 60, 90)) -> dict:
    """Open payables as of a date by days past due: invoices approved by then, less what was
    paid or discounted by then."""
    invs = (await session.execute(sa.select(SupplierInvoice).where(
        SupplierInvoice.company_id == company, SupplierInvoice.status.in_(("approved", "paid")),
        SupplierInvoice.invoice_date <= as_of))).scalars().all()
    settled = dict((await session.execute(sa.select(
        PaymentApplication.invoice_id, sa.func.sum(PaymentApplication.amount + PaymentApplication.discount))
        .where(PaymentApplication.paid_on <= as_of).group_by(PaymentApplication.invoice_id))).all())
    labels = ["current", *[f"{lo + 1}-{hi}" for lo, hi in zip((0, *buckets), buckets, strict=False)],
              f"{buckets[-1]}+"]
    rows: dict[str, dict] = {}
    total = dict.fromkeys(labels, ZERO)
    for inv in invs:
        open_ = Decimal(inv.gross_total) - Decimal(settled.get(inv.id, 0))
        if open_ == 0:
            continue
        late = (as_of - inv.due_date).days
        label = "current" if late <= 0 else next(
            (lab for lab, hi in zip(labels[1:], buckets, strict=False) if late <= hi), labels[-1])
        r = rows.setdefault(inv.supplier_code, {"supplier": inv.supplier_code, **dict.fromkeys(labels, ZERO)})
        r[label] += open_
        total[label] += open_
    q = money.cents
    out = [{"supplier": r["supplier"], **{k: q(r[k]) for k in labels}, "total": q(sum(r[k] for k in labels))}
           for r in sorted(rows.values(), key=lambda r: r["supplier"])]
    return {"company": company, "as_of": as_of.isoformat(), "buckets": labels, "suppliers": out,
            "total": {**{k: q(v) for k, v in total.items()}, "total": q(sum(total.values()))}}
