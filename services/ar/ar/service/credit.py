"""Credit control: exposure = open receivables (invoiced, not yet paid) + open reservations
(orders not yet invoiced).

A reservation locks the customer's row (SELECT ... FOR UPDATE on PostgreSQL) before it
reads the exposure, so two concurrent orders that together exceed the limit cannot both
be approved. Reservations are keyed by order reference: asking again for the same order
returns the same decision without reserving twice."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from fincore import money
from fincore.tables import utcnow
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from ar.adapters.tables import CreditReservation, Customer, Invoice

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

    def as_dict(self) -> dict:
        cur = self.currency
        return {"approved": self.approved, "limit": money.format_amount(self.limit, cur),
                "exposure": money.format_amount(self.exposure, cur),
                "available": money.format_amount(self.available, cur),
                "reason": self.reason, "policy": self.policy, "currency": cur}


async def _customer(session: AsyncSession, company: str, code: str, *, lock: bool) -> Customer:
    q = sa.select(Customer).where(Customer.company_id == company, Customer.code == code)
    if lock and session.bind.dialect.name == "postgresql":
        q = q.with_for_update()
    c = (await session.execute(q)).scalar_one_or_none()
    if c is None:
        raise UnknownCustomer(f"no customer {code!r} in company {company!r}")
    return c


def _position_statement(with_customer: bool):
    """Exposure and this order's reservation status in one statement, built once with bind
    parameters (a credit check is a hot path: building the statement per call costs as much as
    running it)."""
    co, cu, ref = sa.bindparam("co"), sa.bindparam("cu"), sa.bindparam("ref")
    open_invoices = sa.select(sa.func.coalesce(sa.func.sum(Invoice.gross_total - Invoice.paid_amount), 0)).where(
        Invoice.company_id == co, Invoice.customer_code == cu, Invoice.status == "open").scalar_subquery()
    reserved = sa.select(sa.func.coalesce(sa.func.sum(CreditReservation.amount), 0)).where(
        CreditReservation.company_id == co, CreditReservation.customer_code == cu,
        CreditReservation.status == "reserved").scalar_subquery()
    mine = sa.select(CreditReservation.status).where(
        CreditReservation.company_id == co, CreditReservation.order_ref == ref).scalar_subquery()
    if not with_customer:
        return sa.select(open_invoices, reserved, mine)
    t = Customer.__table__
    return sa.select(t.c.credit_limit, t.c.credit_policy, t.c.currency, open_invoices, reserved, mine).where(
        t.c.company_id == co, t.c.code == cu)


_POSITION = _position_statement(with_customer=False)
_CUSTOMER_POSITION = _position_statement(with_customer=True)


async def _position(session: AsyncSession, company: str, customer: str, order_ref: str) -> tuple[Decimal, str | None]:
    """(exposure, status of this order's reservation) in one round trip."""
    conn = await session.connection()
    row = (await conn.execute(_POSITION, {"co": company, "cu": customer, "ref": order_ref})).one()
    return Decimal(row[0]) + Decimal(row[1]), row[2]


async def exposure(session: AsyncSession, company: str, customer: str) -> Decimal:
    return (await _position(session, company, customer, ""))[0]


@dataclass(frozen=True)
class _Limits:
    credit_limit: Decimal
    credit_policy: str
    currency: str


def _decide(c: Customer | _Limits, exp: Decimal, amount: Decimal) -> Decision:
    available = c.credit_limit - exp
    fits = amount <= available
    if fits:
        reason = "within the credit limit"
    elif c.credit_policy == "warn":
        reason = f"over the credit limit by {money.quantize(amount - available, c.currency)} (warn-only customer)"
    else:
        reason = f"over the credit limit by {money.quantize(amount - available, c.currency)}"
    return Decision(fits or c.credit_policy == "warn", c.credit_limit, exp, available, reason, c.credit_policy,
                    c.currency)


async def check_credit(session: AsyncSession | AsyncConnection, company: str, customer: str, amount: Decimal,
                       order_ref: str = "") -> Decision:
    """A read-only answer in one round trip: the customer with its exposure. Takes a session
    or, on the hot gRPC path, a bare connection (no ORM session to set up)."""
    conn = await session.connection() if isinstance(session, AsyncSession) else session
    row = (await conn.execute(_CUSTOMER_POSITION, {"co": company, "cu": customer, "ref": order_ref})).one_or_none()
    if row is None:
        raise UnknownCustomer(f"no customer {customer!r} in company {company!r}")
    c = _Limits(Decimal(row[0]), row[1], row[2])
    exp, status = Decimal(row[3]) + Decimal(row[4]), row[5]
    if order_ref and status == "reserved":
        return Decision(True, c.credit_limit, exp, c.credit_limit - exp, "already reserved for this order",
                        c.credit_policy, c.currency)
    return _decide(c, exp, amount)


async def reserve_credit(session: AsyncSession, company: str, customer: str, amount: Decimal,
                         order_ref: str) -> Decision:
    """Reserve `amount` for an order if it fits (or the customer is warn-only). Idempotent by order.

    The customer row is locked first and the exposure read by a later statement: under READ
    COMMITTED that statement sees every reservation committed before the lock was granted."""
    if amount <= 0:
        raise ValueError("amount must be positive")
    c = await _customer(session, company, customer, lock=True)
    exp, status = await _position(session, company, customer, order_ref)
    if status == "reserved":
        return Decision(True, c.credit_limit, exp, c.credit_limit - exp, "already reserved for this order",
                        c.credit_policy, c.currency)
    decision = _decide(c, exp, amount)
    if decision.approved:
        existing = await session.get(CreditReservation, (company, order_ref)) if status else None
        if existing is None:
            session.add(CreditReservation(company_id=company, order_ref=order_ref, customer_code=customer,
                                          amount=amount, status="reserved", created_at=utcnow()))
        else:
            existing.amount, existing.status = amount, "reserved"
        await session.flush()
        exp = decision.exposure + amount
        decision = Decision(True, c.credit_limit, exp, c.credit_limit - exp, decision.reason, c.credit_policy,
                            c.currency)
    return decision


async def release_credit(session: AsyncSession, company: str, order_ref: str) -> tuple[Decimal, str]:
    """Release what is still reserved for an order -> (amount, currency); idempotent."""
    r = await session.get(CreditReservation, (company, order_ref))
    if r is None or r.status != "reserved":
        return ZERO, ""
    c = await session.get(Customer, (company, r.customer_code))
    released, r.amount, r.status = r.amount, ZERO, "released"
    return released, c.currency


async def consume_for_invoice(session: AsyncSession, company: str, order_ref: str, gross: Decimal) -> None:
    """An invoice for the order turns part of the reservation into an open receivable."""
    if not order_ref:
        return
    r = await session.get(CreditReservation, (company, order_ref))
    if r is None or r.status != "reserved":
        return
    r.amount = max(ZERO, r.amount - gross)
    if r.amount == 0:
        r.status = "consumed"
