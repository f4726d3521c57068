"""Payment runs an AP clerk steers: a proposal of what is due (by due date, or earlier to take
an early-payment discount) selected by supplier, due date, currency and bank account; items
removed or added until it is approved (by someone else than its proposer); payment holds, with
a reason, that keep an invoice out of every run; cancellation before execution; execution
(one PaymentMade per bank transfer) and the ISO 20022 pain.001 file for the bank; and the
payables ageing as of any date.

Transfers: per supplier (one transfer carrying every invoice number of the supplier in its
remittance information) or per invoice, chosen per run. Both the bank file and the
PaymentMade events are built from the same list of transfers, so the ledger's bank lines are
the bank's. Remittance texts and memos name business documents (the supplier's invoice
number, our voucher number), never internal ids."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
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
TRANSFERS = ("supplier", "invoice")
OPEN_RUN = ("proposed", "approved")
REMITTANCE_MAX = 140  # unstructured remittance information (Ustrd), ISO 20022 / EPC


class PaymentError(ValueError):
    pass


class DutiesNotSegregated(ProblemError):
    status, type_, title = 403, "segregation-of-duties", "Segregation of duties"


@dataclass(frozen=True)
class Selection:
    """What a proposal picks: approved, unpaid invoices in the bank account's currency, not on
    payment hold and in no other open run, due by `due_by` (or, with `take_discounts`, whose
    early-payment discount is still open on the payment date), of `suppliers` if given."""

    payment_date: dt.date
    due_by: dt.date
    bank_account: str = ""
    currency: str = ""
    suppliers: tuple[str, ...] = ()
    take_discounts: bool = True


def _in_open_runs(company: str):
    return sa.select(PaymentRunItem.invoice_id).join(PaymentRun, PaymentRun.id == PaymentRunItem.run_id) \
        .where(PaymentRun.company_id == company, PaymentRun.status.in_(OPEN_RUN))


async def _bank(session: AsyncSession, company: str, code: str, currency: str) -> BankAccount:
    """The paying account: the one named, or the company's only account in `currency`."""
    if code:
        bank = await session.get(BankAccount, (company, code))
        if bank is None:
            raise PaymentError(f"no bank account {code} in company {company}")
        if currency and bank.currency != currency:
            raise PaymentError(f"bank account {code} is in {bank.currency}, not {currency}: a run pays in its "
                               "bank account's currency")
        return bank
    if not currency:
        raise PaymentError("name the bank account to pay from, or the currency of the run")
    banks = (await session.execute(sa.select(BankAccount).where(
        BankAccount.company_id == company, BankAccount.currency == currency)
        .order_by(BankAccount.code))).scalars().all()
    if not banks:
        raise PaymentError(f"no bank account in {currency} in company {company}")
    if len(banks) > 1:
        raise PaymentError(f"{len(banks)} bank accounts in {currency} in company {company} "
                           f"({', '.join(b.code for b in banks)}): name the one to pay from")
    return banks[0]


def _item(inv: SupplierInvoice, payment_date: dt.date) -> tuple[Decimal, Decimal]:
    """(cash to pay, discount taken) for what is still open on the invoice; the discount is the
    invoice's own terms' (none once anything was paid on it, or after the discount date)."""
    outstanding = Decimal(inv.gross_total) - Decimal(inv.settled)
    discount = early_discount(Decimal(inv.gross_total), Decimal(inv.discount_pct), inv.discount_date,
                              payment_date, inv.currency) if inv.settled == 0 else ZERO
    return outstanding - discount, discount


async def propose(session: AsyncSession, *, company: str, selection: Selection, proposed_by: str,
                  transfers: str = "supplier") -> PaymentRun:
    if transfers not in TRANSFERS:
        raise PaymentError(f"transfers is one of {', '.join(TRANSFERS)}")
    sel = selection
    bank = await _bank(session, company, sel.bank_account, sel.currency)
    if sel.suppliers:
        known = set((await session.execute(sa.select(Supplier.code).where(
            Supplier.company_id == company, Supplier.code.in_(sel.suppliers)))).scalars())
        unknown = sorted(set(sel.suppliers) - known)
        if unknown:
            raise PaymentError(f"no supplier {', '.join(unknown)} in company {company}")
    due = SupplierInvoice.due_date <= sel.due_by
    if sel.take_discounts:
        due = sa.or_(due, SupplierInvoice.discount_date >= sel.payment_date)
    q = sa.select(SupplierInvoice).where(
        SupplierInvoice.company_id == company, SupplierInvoice.status == "approved",
        SupplierInvoice.currency == bank.currency, SupplierInvoice.payment_hold_reason.is_(None),
        SupplierInvoice.id.not_in(_in_open_runs(company)), due)
    if sel.suppliers:
        q = q.where(SupplierInvoice.supplier_code.in_(sel.suppliers))
    invoices = (await session.execute(q.order_by(SupplierInvoice.supplier_code, SupplierInvoice.due_date,
                                                 SupplierInvoice.number))).scalars().all()
    if not invoices:
        raise PaymentError(f"nothing is due by {sel.due_by}"
                           + (f" (or discountable on {sel.payment_date})" if sel.take_discounts else "")
                           + f" in {bank.currency}" + (f" from {', '.join(sel.suppliers)}" if sel.suppliers else "")
                           + " that is not on hold or in another run")
    seq = await allocate(session, f"payrun:{company}:{sel.payment_date.year}")
    run = PaymentRun(id=str(uuid7()), company_id=company, number=f"PAYRUN-{sel.payment_date:%Y%m%d}-{seq:04d}",
                     payment_date=sel.payment_date, due_by=sel.due_by, bank_account=bank.code, currency=bank.currency,
                     status="proposed", total=ZERO, transfers=transfers, proposed_by=proposed_by, created_at=utcnow(),
                     filters={"suppliers": list(sel.suppliers), "due_by": sel.due_by.isoformat(),
                              "take_discounts": sel.take_discounts})
    session.add(run)
    await session.flush()
    for inv in invoices:
        amount, discount = _item(inv, sel.payment_date)
        session.add(PaymentRunItem(run_id=run.id, invoice_id=inv.id, supplier_code=inv.supplier_code,
                                   amount=amount, discount=discount))
        run.total += amount
    return run


def _changeable(run: PaymentRun) -> None:
    if run.status != "proposed":
        raise PaymentError(f"payment run {run.number} is {run.status}: its items change only while it is proposed")


async def _retotal(session: AsyncSession, run: PaymentRun) -> None:
    await session.flush()
    run.total = Decimal((await session.execute(sa.select(sa.func.coalesce(sa.func.sum(PaymentRunItem.amount), 0))
                                               .where(PaymentRunItem.run_id == run.id))).scalar())


async def add_item(session: AsyncSession, run: PaymentRun, inv: SupplierInvoice) -> PaymentRun:
    """Put an invoice into a proposed run, whether or not it is due yet (the clerk decides)."""
    _changeable(run)
    if inv.company_id != run.company_id:
        raise PaymentError(f"invoice {inv.number} is not of company {run.company_id}")
    if inv.status != "approved":
        raise PaymentError(f"invoice {inv.number} is {inv.status}: only an approved, unpaid invoice is paid")
    if inv.currency != run.currency:
        raise PaymentError(f"invoice {inv.number} is in {inv.currency}; run {run.number} pays in {run.currency}")
    if inv.payment_hold_reason is not None:
        raise PaymentError(f"invoice {inv.number} is on payment hold ({inv.payment_hold_reason}): release the hold "
                           "first")
    other = (await session.execute(sa.select(PaymentRun.number).join(
        PaymentRunItem, PaymentRunItem.run_id == PaymentRun.id).where(
        PaymentRunItem.invoice_id == inv.id, PaymentRun.status.in_(OPEN_RUN)))).scalar()
    if other:
        raise PaymentError(f"invoice {inv.number} is already in payment run {other}")
    amount, discount = _item(inv, run.payment_date)
    session.add(PaymentRunItem(run_id=run.id, invoice_id=inv.id, supplier_code=inv.supplier_code, amount=amount,
                               discount=discount))
    await _retotal(session, run)
    return run


async def remove_item(session: AsyncSession, run: PaymentRun, invoice_id: str) -> PaymentRun:
    """Take an invoice out of a proposed run: it is proposable again."""
    _changeable(run)
    gone = await session.execute(sa.delete(PaymentRunItem).where(PaymentRunItem.run_id == run.id,
                                                                 PaymentRunItem.invoice_id == invoice_id))
    if not gone.rowcount:
        raise LookupError(f"payment run {run.number} holds no invoice {invoice_id}")
    await _retotal(session, run)
    return run


async def cancel_run(session: AsyncSession, run: PaymentRun, cancelled_by: str) -> PaymentRun:
    """A proposed or approved run is cancelled before execution; its invoices are proposable
    again (its items stay, as the record of what it would have paid)."""
    if run.status not in OPEN_RUN:
        raise PaymentError(f"payment run {run.number} is {run.status}: only a proposed or approved run is cancelled")
    run.status, run.cancelled_by, run.cancelled_at = "cancelled", cancelled_by, utcnow()
    return run


async def hold(session: AsyncSession, inv: SupplierInvoice, *, reason: str, by: str) -> list[str]:
    """Put an invoice on payment hold: no run proposes or pays it until the hold is released.
    It leaves a proposed run it is in (the run numbers are returned); an approved run is
    cancelled or executed first."""
    reason = reason.strip()
    if not reason:
        raise PaymentError("a payment hold needs a reason")
    if inv.status in ("paid", "rejected"):
        raise PaymentError(f"invoice {inv.number} is {inv.status}: there is nothing to hold")
    runs = (await session.execute(sa.select(PaymentRun).join(PaymentRunItem, PaymentRunItem.run_id == PaymentRun.id)
                                  .where(PaymentRunItem.invoice_id == inv.id, PaymentRun.status.in_(OPEN_RUN))))\
        .scalars().all()
    approved = [r.number for r in runs if r.status == "approved"]
    if approved:
        raise PaymentError(f"invoice {inv.number} is in approved payment run {approved[0]}: cancel the run to hold it")
    for run in runs:
        await remove_item(session, run, inv.id)
    inv.payment_hold_reason, inv.payment_hold_by, inv.payment_hold_at = reason, by, utcnow()
    return [r.number for r in runs]


async def release_hold(session: AsyncSession, inv: SupplierInvoice) -> None:
    if inv.payment_hold_reason is None:
        raise PaymentError(f"invoice {inv.number} is not on payment hold")
    inv.payment_hold_reason, inv.payment_hold_by, inv.payment_hold_at = None, None, None


async def approve_run(session: AsyncSession, run: PaymentRun, approved_by: str, *,
                      segregate_duties: bool = True) -> PaymentRun:
    """Four eyes: with duties segregated (the default) the proposer of a run cannot approve it."""
    if run.status != "proposed":
        raise PaymentError(f"payment run {run.number} is {run.status}")
    if segregate_duties and approved_by == run.proposed_by:
        raise DutiesNotSegregated(f"payment run {run.number} was proposed by {run.proposed_by}: another person "
                                  "approves it (AP_SEGREGATE_DUTIES)")
    if not await transfers(session, run):  # also: every transfer's remittance fits
        raise PaymentError(f"payment run {run.number} has no items: add some or cancel it")
    run.status, run.approved_by = "approved", approved_by
    return run


@dataclass
class Transfer:
    """One bank transfer of a run: one supplier, one or more invoices."""

    supplier: Supplier
    rows: list[tuple[PaymentRunItem, SupplierInvoice]] = field(default_factory=list)
    end_to_end_id: str = ""

    @property
    def amount(self) -> Decimal:
        return sum((Decimal(i.amount) for i, _ in self.rows), ZERO)

    @property
    def remittance(self) -> str:
        """The business documents paid: the supplier's invoice numbers (one invoice: ours too)."""
        if len(self.rows) == 1:
            inv = self.rows[0][1]
            return f"Invoice {inv.supplier_invoice_number} (our ref {inv.number})"
        return "Invoices " + ", ".join(inv.supplier_invoice_number for _, inv in self.rows)


async def transfers(session: AsyncSession, run: PaymentRun) -> list[Transfer]:
    """The run's bank transfers, per supplier or per invoice as the run says; the same list
    makes the pain.001 file and the PaymentMade events."""
    items = (await session.execute(sa.select(PaymentRunItem, SupplierInvoice).join(
        SupplierInvoice, SupplierInvoice.id == PaymentRunItem.invoice_id).where(PaymentRunItem.run_id == run.id)
        .order_by(PaymentRunItem.supplier_code, SupplierInvoice.number))).all()
    out: dict[str, Transfer] = {}
    for item, inv in items:
        key = inv.number if run.transfers == "invoice" else item.supplier_code
        if key not in out:
            sup = await session.get(Supplier, (run.company_id, item.supplier_code))
            out[key] = Transfer(sup, end_to_end_id=(inv.number if run.transfers == "invoice"
                                                    else f"{run.number}-{item.supplier_code}")[:35])
        out[key].rows.append((item, inv))
    too_long = [t.supplier.code for t in out.values() if len(t.remittance) > REMITTANCE_MAX]
    if too_long:
        raise PaymentError(f"the invoice numbers of {', '.join(too_long)} do not fit in one transfer's remittance "
                           f"information ({REMITTANCE_MAX} characters): pay per invoice (transfers=invoice)")
    return list(out.values())


async def execute(session: AsyncSession, run: PaymentRun) -> list[Payment]:
    """One payment per transfer; each is a PaymentMade event with its applications."""
    if run.status != "approved":
        raise PaymentError(f"payment run {run.number} is {run.status}: it is executed once approved")
    plan = await transfers(session, run)
    held = [inv.number for t in plan for _, inv in t.rows if inv.payment_hold_reason is not None
            or inv.status != "approved"]
    if held:  # cannot happen through the API (a hold or payment elsewhere needs the run cancelled first)
        raise PaymentError(f"invoices {', '.join(held)} are on hold or no longer open: cancel the run")
    bank = await session.get(BankAccount, (run.company_id, run.bank_account))
    payments = []
    for t in plan:
        sup = t.supplier
        seq = await allocate(session, f"payment:{run.company_id}:{run.payment_date.year}")
        pay = Payment(id=str(uuid7()), company_id=run.company_id, number=f"PAY-{run.payment_date.year}-{seq:06d}",
                      run_id=run.id, supplier_code=sup.code, paid_on=run.payment_date, amount=t.amount,
                      created_at=utcnow())
        session.add(pay)
        await session.flush()
        apps = []
        for item, inv in t.rows:
            session.add(PaymentApplication(payment_id=pay.id, invoice_id=inv.id, paid_on=run.payment_date,
                                           amount=item.amount, discount=item.discount))
            inv.settled = Decimal(inv.settled) + Decimal(item.amount) + Decimal(item.discount)
            if inv.settled >= inv.gross_total:
                inv.status = "paid"
            apps.append(ap_events.PaymentApplication(
                invoice_id=inv.id, amount=money.amount_pb(item.amount, run.currency),
                discount=money.amount_pb(item.discount, run.currency), invoice_number=inv.number,
                supplier_invoice_number=inv.supplier_invoice_number))
        add_event(session, ap_events.PaymentMade(
            company_id=run.company_id, document_number=pay.number, occurrence_date=dates.to_proto(run.payment_date),
            payment_id=pay.id, supplier_code=sup.code, supplier_group=sup.supplier_group,
            bank_account=run.bank_account, payment_method="SEPA_CREDIT_TRANSFER" if _sepa(run, bank, sup)
            else "CREDIT_TRANSFER", amount=money.amount_pb(t.amount, run.currency), applications=apps,
            payment_run_id=run.id,
            payment_run_number=run.number, remittance_information=t.remittance,
            intercompany_partner=sup.intercompany_partner), source="ap")
        payments.append(pay)
    run.status, run.executed_at = "executed", utcnow()
    return payments


def _sepa(run: PaymentRun, bank: BankAccount, sup: Supplier) -> bool:
    """A SEPA credit transfer: in euro, between IBAN accounts in the SEPA zone (schwifty knows it)."""
    from schwifty import IBAN

    return run.currency == "EUR" and all(i and IBAN(i).in_sepa_zone for i in (bank.iban, sup.iban))


async def pain001(session: AsyncSession, run: PaymentRun) -> bytes:
    """The run as an ISO 20022 customer credit transfer initiation (pain.001.001.09): one
    transaction per transfer; service level SEPA only for euro payments between SEPA-zone
    accounts, the others in a payment information block of their own without it. Validated
    against the XSD sepaxml ships before it is returned."""
    from lxml import etree
    from sepaxml import SepaTransfer

    if run.status not in ("approved", "executed"):
        raise PaymentError(f"payment run {run.number} is {run.status}: the bank file exists once it is approved")
    bank = await session.get(BankAccount, (run.company_id, run.bank_account))
    if not bank.iban:
        raise PaymentError(f"bank account {bank.code} has no IBAN: pain.001 files are for IBAN accounts")
    if money.minor_units(run.currency) != 2:
        raise PaymentError(f"pain.001 files are written for currencies with cents; {run.currency} has none")
    plan = await transfers(session, run)
    no_iban = sorted({t.supplier.code for t in plan if not t.supplier.iban})
    if no_iban:
        raise PaymentError(f"no IBAN for {', '.join(no_iban)}: they cannot be in a pain.001 file")
    groups: dict[bool, list[Transfer]] = {}
    for t in plan:
        groups.setdefault(_sepa(run, bank, t.supplier), []).append(t)
    docs = []
    for sepa, group in sorted(groups.items(), reverse=True):
        debtor = {"name": bank.name[:70], "IBAN": bank.iban, "batch": True, "currency": run.currency,
                  "domestic": not sepa}
        if bank.bic:
            debtor["BIC"] = bank.bic
        file = SepaTransfer(debtor, schema=PAIN_SCHEMA, clean=True)
        for t in group:
            minor = int(money.quantize(t.amount, run.currency) * 10 ** money.minor_units(run.currency))
            payment = {"name": t.supplier.name[:70], "IBAN": t.supplier.iban, "amount": minor,
                       "execution_date": run.payment_date, "description": t.remittance,
                       "endtoend_id": t.end_to_end_id}
            if t.supplier.bic:
                payment["BIC"] = t.supplier.bic
            file.add_payment(payment)
        docs.append(etree.fromstring(file.export(validate=False)))
    doc = docs[0]
    ns = {"p": f"urn:iso:std:iso:20022:tech:xsd:{PAIN_SCHEMA}"}
    initiation = doc.find("p:CstmrCdtTrfInitn", ns)
    for other in docs[1:]:  # one file: the non-SEPA payment information joins the SEPA one
        for block in other.findall("p:CstmrCdtTrfInitn/p:PmtInf", ns):
            initiation.append(block)
    header = initiation.find("p:GrpHdr", ns)
    header.find("p:NbOfTxs", ns).text = str(len(plan))
    header.find("p:CtrlSum", ns).text = str(money.quantize(sum((t.amount for t in plan), ZERO), run.currency))
    xml = etree.tostring(doc, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    schema = _schema()
    if not schema.validate(etree.fromstring(xml)):
        raise PaymentError(f"the bank file does not validate against {PAIN_SCHEMA}: {schema.error_log.last_error}")
    return xml


_XSD = None


def _schema():
    global _XSD
    if _XSD is None:
        from pathlib import Path

        import sepaxml
        from lxml import etree

        _XSD = etree.XMLSchema(etree.parse(str(Path(sepaxml.__file__).parent / "schemas" / f"{PAIN_SCHEMA}.xsd")))
    return _XSD


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
    rows: dict[tuple[str, str], dict] = {}
    totals: dict[str, dict] = {}  # per currency: amounts in different currencies are never added
    for inv in invs:
        open_ = Decimal(inv.gross_total) - Decimal(settled.get(inv.id, 0))
        if open_ == 0:
            continue
        late = (as_of - inv.due_date).days
        label = "current" if late <= 0 else next(
            (lab for lab, hi in zip(labels[1:], buckets, strict=False) if late <= hi), labels[-1])
        r = rows.setdefault((inv.supplier_code, inv.currency), dict.fromkeys(labels, ZERO))
        r[label] += open_
        totals.setdefault(inv.currency, dict.fromkeys(labels, ZERO))[label] += open_

    def figures(buckets: dict, cur: str) -> dict:
        return {**{k: money.format_amount(buckets[k], cur) for k in labels},
                "total": money.format_amount(sum(buckets.values(), ZERO), cur)}

    out = [{"supplier": sup, "currency": cur, **figures(r, cur)} for (sup, cur), r in sorted(rows.items())]
    by_currency = {cur: figures(t, cur) for cur, t in sorted(totals.items())}
    total = next(iter(by_currency.values())) if len(by_currency) == 1 else None
    if not by_currency:
        total = {**dict.fromkeys(labels, "0.00"), "total": "0.00"}
    return {"company": company, "as_of": as_of.isoformat(), "buckets": labels, "suppliers": out,
            "total": total, "totals_by_currency": by_currency}
