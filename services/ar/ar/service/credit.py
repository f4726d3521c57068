"""Credit control: exposure = open receivables (invoiced, not yet paid) + open reservations
(orders not yet invoiced) - the customer's credit (unapplied cash and the unapplied part of
credit memos: money the customer has with us, which a refund pays back).

The credit is subtracted in full and exposure is not floored at zero: a customer who has
paid in advance more than it owes has a negative exposure, and `available` (limit -
exposure) exceeds the limit by that prepayment, because an order it has already paid for
carries no credit risk. Without credit, the formula is the one before credit was tracked.

A reservation locks the customer's row (SELECT ... FOR UPDATE on PostgreSQL) before it
reads the exposure, so two concurrent orders that together exceed the limit cannot both
be approved. Reservations are keyed by order reference: asking again for the same order
returns the same decision without reserving twice.

Everything is compared in the currency of the customer's limit. An order (or a check) in
another currency is converted at the ledger's rate of the day (fincore.rates: AR's copy of the
GL's rates) and reserved as the converted amount, with the original amount and the rate
recorded; open invoices in another currency count at the rate of the day too. Without a rate
there is no answer (RateUnavailable), and nothing is reserved."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from fincore import money, rates
from fincore.db import locked
from fincore.rates import Conversion
from fincore.tables import utcnow
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from ar.adapters.tables import CreditMemo, CreditReservation, Customer, Invoice, Receipt

ZERO = Decimal(0)


class UnknownCustomer(LookupError):
    pass


@dataclass(frozen=True)
class Decision:
    approved: bool
    limit: Decimal
    exposure: Decimal
    available: Decimal
    reason: str
    policy: str
    currency: str
    conversion: Conversion | None = None  # the amount asked, in the limit's currency

    def as_dict(self) -> dict:
        cur = self.currency
        out = {"approved": self.approved, "limit": money.format_amount(self.limit, cur),
               "exposure": money.format_amount(self.exposure, cur),
               "available": money.format_amount(self.available, cur),
               "reason": self.reason, "policy": self.policy, "currency": cur}
        if self.conversion is not None:
            out["amount"] = money.format_amount(self.conversion.amount, cur)
            if self.conversion.converted:
                out["conversion"] = self.conversion.as_dict()
        return out


async def _customer(session: AsyncSession, company: str, code: str, *, lock: bool) -> Customer:
    q = sa.select(Customer).where(Customer.company_id == company, Customer.code == code)
    if lock:
        q = locked(q)
    c = (await session.execute(q)).scalar_one_or_none()
    if c is None:
        raise UnknownCustomer(f"no customer {code!r} in company {company!r}")
    return c


def _position_statement(with_customer: bool | None):
    """Exposure and this order's reservation status in one statement, built once with bind
    parameters (a credit check is a hot path: building the statement per call costs as much as
    running it)."""
    co, cu, ref = sa.bindparam("co"), sa.bindparam("cu"), sa.bindparam("ref")
    t = Customer.__table__
    ccy = t.c.currency if with_customer else sa.bindparam("ccy")
    mine_open = (Invoice.company_id == co, Invoice.customer_code == cu, Invoice.status == "open")
    open_invoices = sa.select(sa.func.coalesce(sa.func.sum(Invoice.gross_total - Invoice.paid_amount), 0)).where(
        *mine_open, Invoice.currency == ccy).scalar_subquery()
    # invoices in other currencies are rare: counted here, converted by a second query when there are any
    foreign = sa.select(sa.func.count()).where(*mine_open, Invoice.currency != ccy).scalar_subquery()
    reserved = sa.select(sa.func.coalesce(sa.func.sum(CreditReservation.amount), 0)).where(
        CreditReservation.company_id == co, CreditReservation.customer_code == cu,
        CreditReservation.status == "reserved").scalar_subquery()
    mine = sa.select(CreditReservation.status).where(
        CreditReservation.company_id == co, CreditReservation.order_ref == ref).scalar_subquery()
    # The customer's credit in the limit's currency (receipts are in the customer's currency).
    cash = sa.select(sa.func.coalesce(sa.func.sum(Receipt.unapplied), 0)).where(
        Receipt.company_id == co, Receipt.customer_code == cu, Receipt.unapplied > 0,
        Receipt.currency == ccy).scalar_subquery()
    memos = sa.select(sa.func.coalesce(sa.func.sum(CreditMemo.gross_total - CreditMemo.applied), 0)).where(
        CreditMemo.company_id == co, CreditMemo.customer_code == cu, CreditMemo.gross_total > CreditMemo.applied,
        CreditMemo.currency == ccy).scalar_subquery()
    owed = open_invoices + reserved - cash - memos
    if with_customer is None:  # the breakdown, for reports
        return sa.select(open_invoices, reserved, cash, memos, foreign)
    if not with_customer:
        return sa.select(owed, mine, foreign)
    return sa.select(t.c.credit_limit, t.c.credit_policy, t.c.currency, owed, mine, foreign).where(
        t.c.company_id == co, t.c.code == cu)


_POSITION = _position_statement(with_customer=False)
_CUSTOMER_POSITION = _position_statement(with_customer=True)
_BREAKDOWN = _position_statement(with_customer=None)


@dataclass(frozen=True)
class Position:
    """A customer's credit position, as every report shows it."""

    open_invoices: Decimal
    reserved: Decimal
    unapplied_cash: Decimal
    credit_memos: Decimal  # the unapplied part of credit memos

    @property
    def credit(self) -> Decimal:
        return self.unapplied_cash + self.credit_memos

    @property
    def exposure(self) -> Decimal:
        return self.open_invoices + self.reserved - self.credit


async def position(session: AsyncSession, company: str, customer: str, currency: str) -> Position:
    """In the limit's `currency`: open invoices in other currencies at the ledger's rate of the day."""
    conn = await session.connection()
    row = (await conn.execute(_BREAKDOWN, {"co": company, "cu": customer, "ccy": currency, "ref": ""})).one()
    open_invoices, reserved, cash, memos, foreign = (Decimal(v) for v in row)
    if foreign:
        open_invoices += await _foreign_exposure(conn, company, customer, currency)
    return Position(open_invoices, reserved, cash, memos)


_FOREIGN_OPEN = sa.select(Invoice.currency, sa.func.sum(Invoice.gross_total - Invoice.paid_amount)).where(
    Invoice.company_id == sa.bindparam("co"), Invoice.customer_code == sa.bindparam("cu"), Invoice.status == "open",
    Invoice.currency != sa.bindparam("ccy")).group_by(Invoice.currency).order_by(Invoice.currency)


async def _foreign_exposure(conn: AsyncConnection, company: str, customer: str, currency: str) -> Decimal:
    """Open invoices in other currencies than the limit's, at the ledger's rate of the day."""
    rows = (await conn.execute(_FOREIGN_OPEN, {"co": company, "cu": customer, "ccy": currency})).all()
    on = rates.today()
    return sum([(await rates.convert(conn, company, Decimal(amount), cur, currency, on)).amount
                for cur, amount in rows], ZERO)


async def _position(session: AsyncSession, company: str, customer: str, currency: str,
                    order_ref: str) -> tuple[Decimal, str | None]:
    """(exposure in `currency`, status of this order's reservation): one round trip, two with
    open invoices in other currencies."""
    conn = await session.connection()
    row = (await conn.execute(_POSITION, {"co": company, "cu": customer, "ccy": currency, "ref": order_ref})).one()
    exp = Decimal(row[0])
    if row[2]:
        exp += await _foreign_exposure(conn, company, customer, currency)
    return exp, row[1]


async def exposure(session: AsyncSession, company: str, customer: str, currency: str) -> Decimal:
    """Open invoices + open reservations, in the limit's `currency`."""
    return (await _position(session, company, customer, currency, ""))[0]


@dataclass(frozen=True)
class _Limits:
    credit_limit: Decimal
    credit_policy: str
    currency: str


def _decide(c: Customer | _Limits, exp: Decimal, conversion: Conversion) -> Decision:
    available, amount = c.credit_limit - exp, conversion.amount
    fits = amount <= available
    if fits:
        reason = "within the credit limit"
    elif c.credit_policy == "warn":
        reason = f"over the credit limit by {money.quantize(amount - available, c.currency)} (warn-only customer)"
    else:
        reason = f"over the credit limit by {money.quantize(amount - available, c.currency)}"
    if conversion.converted:
        reason = f"{reason}; asked as {conversion.describe()}"
    return Decision(fits or c.credit_policy == "warn", c.credit_limit, exp, available, reason, c.credit_policy,
                    c.currency, conversion)


async def check_credit(session: AsyncSession | AsyncConnection, company: str, customer: str, amount: Decimal,
                       order_ref: str = "", currency: str = "") -> Decision:
    """A read-only answer in one round trip: the customer with its exposure. Takes a session
    or, on the hot gRPC path, a bare connection (no ORM session to set up). `currency` is the
    amount's (default: the limit's)."""
    conn = await session.connection() if isinstance(session, AsyncSession) else session
    row = (await conn.execute(_CUSTOMER_POSITION, {"co": company, "cu": customer, "ref": order_ref})).one_or_none()
    if row is None:
        raise UnknownCustomer(f"no customer {customer!r} in company {company!r}")
    c = _Limits(Decimal(row[0]), row[1], row[2])
    exp, status = Decimal(row[3]), row[4]
    if row[5]:
        exp += await _foreign_exposure(conn, company, customer, c.currency)
    if order_ref and status == "reserved":
        return Decision(True, c.credit_limit, exp, c.credit_limit - exp, "already reserved for this order",
                        c.credit_policy, c.currency)
    conversion = await rates.convert(conn, company, amount, currency or c.currency, c.currency, rates.today())
    return _decide(c, exp, conversion)


async def reserve_credit(session: AsyncSession, company: str, customer: str, amount: Decimal,
                         order_ref: str, currency: str = "") -> Decision:
    """Reserve `amount` (in `currency`, default the limit's) for an order if it fits (or the
    customer is warn-only). Idempotent by order. What is reserved is the amount in the limit's
    currency; the original amount and the rate are recorded beside it.

    The customer row is locked first and the exposure read by a later statement: under READ
    COMMITTED that statement sees every reservation committed before the lock was granted."""
    if amount <= 0:
        raise ValueError("amount must be positive")
    c = await _customer(session, company, customer, lock=True)
    exp, status = await _position(session, company, customer, c.currency, order_ref)
    if status == "reserved":
        return Decision(True, c.credit_limit, exp, c.credit_limit - exp, "already reserved for this order",
                        c.credit_policy, c.currency)
    conversion = await rates.convert(session, company, amount, currency or c.currency, c.currency, rates.today())
    decision = _decide(c, exp, conversion)
    if decision.approved:
        held = conversion.amount
        existing = await session.get(CreditReservation, (company, order_ref)) if status else None
        if existing is None:
            session.add(CreditReservation(company_id=company, order_ref=order_ref, customer_code=customer,
                                          amount=held, status="reserved", created_at=utcnow(),
                                          **conversion.columns()))
        else:
            existing.amount, existing.status = held, "reserved"
            for k, v in conversion.columns().items():
                setattr(existing, k, v)
        await session.flush()
        exp = decision.exposure + held
        decision = Decision(True, c.credit_limit, exp, c.credit_limit - exp, decision.reason, c.credit_policy,
                            c.currency, conversion)
    return decision


async def release_credit(session: AsyncSession, company: str, order_ref: str) -> tuple[Decimal, str]:
    """Release what is still reserved for an order -> (amount, currency); idempotent."""
    r = await session.get(CreditReservation, (company, order_ref))
    if r is None or r.status != "reserved":
        return ZERO, ""
    c = await session.get(Customer, (company, r.customer_code))
    released, r.amount, r.status = r.amount, ZERO, "released"
    return released, c.currency


async def consume_for_invoice(session: AsyncSession, company: str, order_ref: str, gross: Decimal,
                              currency: str) -> None:
    """An invoice for the order turns part of the reservation into an open receivable. The
    reservation is in the limit's currency: an invoice in the order's currency takes off its
    gross at the rate the order was reserved at; an invoice in yet another currency, at the
    ledger's rate of the day (and, with no rate, the whole reservation: the receivable counts now)."""
    if not order_ref:
        return
    r = await session.get(CreditReservation, (company, order_ref))
    if r is None or r.status != "reserved":
        return
    c = await session.get(Customer, (company, r.customer_code))
    if currency == c.currency:
        taken = gross
    elif currency == r.original_currency:
        taken = money.quantize(gross * r.rate, c.currency)
    else:
        try:
            taken = (await rates.convert(session, company, gross, currency, c.currency, rates.today())).amount
        except rates.RateUnavailable:
            taken = r.amount
    r.amount = max(ZERO, r.amount - taken)
    if r.amount == 0:
        r.status = "consumed"
