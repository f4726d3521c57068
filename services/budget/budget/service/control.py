"""Check, reserve, commit and release budget (the gRPC BudgetService and AP's requests use these).

A reservation or commit locks the budget line (SELECT ... FOR UPDATE on PostgreSQL) and reads
its running totals in the same statement, so two concurrent requests that together exceed a
BLOCK line cannot both pass: the second waits for the first and then sees its reservation.
The totals are O(1) to read however many documents a line has; every change to them happens
in the transaction that writes the reservation, commitment or actual it sums.

Amounts are compared in the budget line's currency. A spend asked in another currency (a USD
requisition against a CNY budget) is converted at the ledger's rate of the day (fincore.rates:
the budget's copy of the GL's rates) and reserved or committed as the converted amount, with
the original amount and the rate recorded. No rate, no answer: RateUnavailable."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, replace
from decimal import Decimal

import sqlalchemy as sa
from finance.budget.v1 import events_pb2 as budget_events
from fincore import dates, money, rates
from fincore.db import HotStatement
from fincore.outbox.writer import event_row
from fincore.tables import OutboxRecord, utcnow
from psycopg.errors import UniqueViolation
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from budget.adapters.tables import BudgetLine, Commitment, ItemAccount, Reservation, ThresholdHit
from budget.domain.control import ZERO, Decision, LineFigures, crossed, decide, reached, refused

LINES, RES = BudgetLine.__table__, Reservation.__table__
log = logging.getLogger(__name__)


class BudgetError(ValueError):
    """A request that cannot be answered (unknown reservation...)."""


def _statements():
    """Built once (CheckBudget and Reserve are hot paths: building a statement per call costs
    as much as running it): a line with its totals, what lapsed since the last sweep, whether
    its item maps to an account, and a given document's reservation."""
    t, r = LINES, RES
    now, co, ref = sa.bindparam("now"), sa.bindparam("co"), sa.bindparam("ref")
    lapsed = sa.select(sa.func.coalesce(sa.func.sum(r.c.amount), 0)).where(
        r.c.line_id == t.c.id, r.c.status == "reserved", r.c.expires_at <= now).scalar_subquery()
    mapped = sa.select(sa.func.count()).where(
        ItemAccount.company_id == t.c.company_id, ItemAccount.budget_item == t.c.budget_item).scalar_subquery()
    text = lambda c: sa.cast(c, sa.String)  # noqa: E731
    mine = sa.select(r.c.status + "|" + r.c.line_id + "|" + text(r.c.requested) + "|" + text(r.c.warning)).where(
        r.c.company_id == co, r.c.document_ref == ref).scalar_subquery()
    cols = (t.c.id, t.c.currency, t.c.amount, t.c.tolerance_pct, t.c.control_mode, t.c.actual_total,
            t.c.committed_total, t.c.reserved_total, lapsed, mapped, mine, t.c.version_id, t.c.cost_centre,
            t.c.budget_item, t.c.period, t.c.company_id)
    by_key = sa.select(*cols).where(t.c.company_id == co, t.c.cost_centre == sa.bindparam("cc"),
                                    t.c.budget_item == sa.bindparam("item"), t.c.period == sa.bindparam("period"))
    by_id = sa.select(*cols).where(t.c.id == sa.bindparam("line_id"))
    return by_key, by_key.with_for_update(of=t), by_id, by_id.with_for_update(of=t)


_BY_KEY, _BY_KEY_LOCKED, _BY_ID, _BY_ID_LOCKED = (HotStatement(st) for st in _statements())
_INSERT_RESERVATION = sa.insert(RES)
_SWEEP = sa.update(RES).where(RES.c.line_id == sa.bindparam("sweep_line"), RES.c.status == "reserved",
                              RES.c.expires_at <= sa.bindparam("sweep_now")).values(status="expired", amount=0)


def _adjust(**deltas):
    """UPDATE budget_line SET <total> = <total> + :delta ... (atomic increments)."""
    return sa.update(LINES).where(LINES.c.id == sa.bindparam("line_id")).values(
        **{f"{k}_total": LINES.c[f"{k}_total"] + sa.bindparam(f"d_{k}") for k in deltas})


_ADD_RESERVED = _adjust(reserved=1)
_ADD_RESERVED_COMMITTED = _adjust(reserved=1, committed=1)
_ADD_ACTUAL_COMMITTED = _adjust(actual=1, committed=1)


def _insert_and_add():
    """PostgreSQL: the reservation and the line's new total in one statement (a CTE)."""
    cols = ("company_id", "document_ref", "line_id", "requested", "amount", "status", "warning", "expires_at",
            "created_at", "original_amount", "original_currency", "rate", "rate_date")
    ins = sa.insert(RES).values({c: sa.bindparam(f"v_{c}") for c in cols}) \
        .returning(RES.c.line_id, RES.c.amount).cte("ins")
    return sa.update(LINES).where(LINES.c.id == ins.c.line_id).values(
        reserved_total=LINES.c.reserved_total + ins.c.amount)


_INSERT_AND_ADD = HotStatement(_insert_and_add())


@dataclass(frozen=True)
class LineRow:
    """What the figures statement returns."""

    figures: LineFigures
    lapsed: Decimal
    mapped: bool
    mine: tuple[str, str, Decimal, bool] | None
    version_id: str
    cost_centre: str
    budget_item: str
    period: str
    company_id: str


def _parse(row) -> LineRow:
    lapsed = Decimal(row[8])
    f = LineFigures(row[0], row[1], Decimal(row[2]), Decimal(row[3]), row[4], Decimal(row[5]), Decimal(row[6]),
                    Decimal(row[7]) - lapsed)
    mine = None
    if row[10]:
        status, line_id, requested, warning = row[10].split("|")
        mine = (status, line_id, Decimal(requested), warning.lower() in ("true", "1", "t"))  # PostgreSQL, SQLite
    return LineRow(f, lapsed, bool(row[9]), mine, *row[11:16])


async def _conn(s: AsyncSession | AsyncConnection) -> AsyncConnection:
    return await s.connection() if isinstance(s, AsyncSession) else s


async def _read(conn: AsyncConnection, *, line_id: str | None = None, key: dict | None = None, ref: str = "",
                lock: bool = False) -> LineRow | None:
    """Read a line; locked, it also sweeps lapsed reservations (totals stay exact)."""
    lock = lock and conn.dialect.name == "postgresql"
    now = utcnow()
    if line_id:
        stmt, params = (_BY_ID_LOCKED if lock else _BY_ID), {"line_id": line_id, "co": "", "ref": ref, "now": now}
    else:
        stmt, params = (_BY_KEY_LOCKED if lock else _BY_KEY), {**key, "ref": ref, "now": now}
    rows = await stmt.rows(conn, params)
    if not rows:
        return None
    line = _parse(rows[0])
    if line.lapsed and (lock or conn.dialect.name != "postgresql"):
        await conn.execute(_SWEEP, {"sweep_line": line.figures.line_id, "sweep_now": now})
        await conn.execute(_ADD_RESERVED, {"line_id": line.figures.line_id, "d_reserved": -line.lapsed})
    return line


async def figures_by_id(s: AsyncSession | AsyncConnection, line_id: str) -> LineFigures:
    return (await _read(await _conn(s), line_id=line_id)).figures


async def _lookup(s, company: str, cost_centre: str, item: str, period: str, amount: Decimal, *,
                  ref: str = "", lock: bool = False) -> tuple[LineRow | None, Decision | None]:
    """(line, None) or (None, refusal) when the spend cannot be mapped to a budget line."""
    if not cost_centre:
        return None, refused("no cost centre: the spend cannot be mapped to a budget line", amount)
    if not item:
        return None, refused("no budget item: the spend cannot be mapped to a budget line", amount)
    line = await _read(await _conn(s), key={"co": company, "cc": cost_centre, "item": item, "period": period},
                       ref=ref, lock=lock)
    if line is None:
        return None, refused(f"no approved budget for cost centre {cost_centre}, item {item}, period {period} "
                             f"in company {company}", amount)
    if not line.mapped:
        return None, refused(f"budget item {item} is mapped to no GL account, so its actuals could not be "
                             f"tracked", amount)
    return line, None


async def _in_line_currency(conn: AsyncConnection, company: str, f: LineFigures, amount: Decimal,
                            currency: str) -> rates.Conversion:
    return await rates.convert(conn, company, amount, currency or f.currency, f.currency, rates.today())


def _decide(f: LineFigures, conversion: rates.Conversion) -> Decision:
    """`decide` on the amount in the line's currency; a converted amount says from what in the reason."""
    d = decide(f, conversion.amount)
    if not conversion.converted:
        return d
    return replace(d, reason=f"{d.reason}; asked as {conversion.describe()}", conversion=conversion)


async def check_budget(s: AsyncSession | AsyncConnection, company: str, cost_centre: str, item: str, period: str,
                       amount: Decimal, currency: str = "") -> Decision:
    """Read-only; one round trip (two with a conversion). `currency` is the amount's (default: the line's)."""
    line, refusal = await _lookup(s, company, cost_centre, item, period, amount)
    if refusal:
        return refusal
    return _decide(line.figures, await _in_line_currency(await _conn(s), company, line.figures, amount, currency))


def _after(d: Decision, f: LineFigures) -> Decision:
    return Decision(d.allowed, d.warning, d.reason, f, d.requested, d.conversion)


def _with(f: LineFigures, *, actual=ZERO, committed=ZERO, reserved=ZERO) -> LineFigures:
    return LineFigures(f.line_id, f.currency, f.budget, f.tolerance_pct, f.control_mode, f.actual + actual,
                       f.committed + committed, f.reserved + reserved)


async def reserve(conn: AsyncConnection, company: str, cost_centre: str, item: str, period: str, amount: Decimal,
                  document_ref: str, *, ttl: dt.timedelta, currency: str = "") -> Decision:
    """Encumber `amount` for a document if it fits (or the line only warns). Idempotent by
    document. Runs in the caller's transaction on a bare connection: the line locked with its
    totals and this document's reservation in one statement, then the reservation and the
    new total written (plus outbox rows when a warning or a threshold is due)."""
    if amount <= 0:
        raise BudgetError("amount must be positive")
    line, refusal = await _lookup(conn, company, cost_centre, item, period, amount, ref=document_ref, lock=True)
    if refusal:
        return refusal
    f = line.figures
    if line.mine and line.mine[0] in ("reserved", "committed"):
        if line.mine[1] != f.line_id:
            raise BudgetError(f"document {document_ref} already holds budget on another line")
        return Decision(True, line.mine[3], f"already reserved for {document_ref}", f, line.mine[2])
    conversion = await _in_line_currency(conn, company, f, amount, currency)
    amount = conversion.amount
    d = _decide(f, conversion)
    if not d.allowed:
        return d
    now = utcnow()
    values = {"company_id": company, "document_ref": document_ref, "line_id": f.line_id, "requested": amount,
              "amount": amount, "status": "reserved", "warning": d.warning, "expires_at": now + ttl,
              "created_at": now, **conversion.columns()}
    after = _with(f, reserved=amount)
    if line.mine:  # released or lapsed, asked for again
        await conn.execute(sa.update(RES).where(RES.c.company_id == company, RES.c.document_ref == document_ref)
                           .values(**values))
        await conn.execute(_ADD_RESERVED, {"line_id": f.line_id, "d_reserved": amount})
    elif conn.dialect.name == "postgresql":
        await _INSERT_AND_ADD.rows(conn, {f"v_{k}": v for k, v in values.items()})
    else:
        await conn.execute(_INSERT_RESERVATION, values)
        await conn.execute(_ADD_RESERVED, {"line_id": f.line_id, "d_reserved": amount})
    events = [_warning_event(line, document_ref, d, f, after)] if d.warning else []
    events += await _threshold_rows(conn, line, f, after)
    if events:
        await conn.execute(sa.insert(OutboxRecord.__table__), events)
    return _after(d, after)


# The common reservation in one statement, in autocommit (PostgreSQL): lock the line, and
# insert the reservation and raise the line's total only when the spend fits and nothing is to
# be announced: no warning, no threshold crossed, no lapsed reservation to sweep, no earlier
# reservation of the document. Otherwise it changes nothing and `reserve` (the general path,
# the authority) runs. The conditions are `decide` and `crossed` written in SQL; the answer is
# checked against them in Python.
_QUICK_RESERVE = HotStatement(sa.text("""
WITH line AS (
  SELECT l.id, l.currency, l.amount, l.tolerance_pct, l.control_mode, l.actual_total, l.committed_total,
         l.reserved_total, l.actual_total + l.committed_total + l.reserved_total AS used,
         (SELECT coalesce(sum(r.amount), 0) FROM budget_reservation r
           WHERE r.line_id = l.id AND r.status = 'reserved' AND r.expires_at <= :now) AS lapsed,
         (SELECT count(*) FROM budget_item_account a
           WHERE a.company_id = l.company_id AND a.budget_item = l.budget_item) AS mapped,
         EXISTS (SELECT 1 FROM budget_reservation r WHERE r.company_id = :co AND r.document_ref = :ref) AS mine
  FROM budget_line l
  WHERE l.company_id = :co AND l.cost_centre = :cc AND l.budget_item = :item AND l.period = :period
  FOR UPDATE OF l
), fits AS (
  SELECT line.id FROM line
  WHERE line.mapped > 0 AND NOT line.mine AND line.lapsed = 0 AND line.amount > 0
    AND CAST(:ccy AS varchar) IN ('', line.currency)
    AND CAST(:amount AS numeric) <= line.amount * (1 + line.tolerance_pct / 100) - line.used
    AND NOT (line.used * 100 < 80 * line.amount AND (line.used + CAST(:amount AS numeric)) * 100 >= 80 * line.amount)
    AND NOT (line.used * 100 < 100 * line.amount AND (line.used + CAST(:amount AS numeric)) * 100 >= 100 * line.amount)
), ins AS (
  INSERT INTO budget_reservation (company_id, document_ref, line_id, requested, amount, status, warning,
                                  expires_at, created_at)
  SELECT :co, :ref, fits.id, CAST(:amount AS numeric), CAST(:amount AS numeric), 'reserved', false,
         CAST(:expires AS timestamptz), CAST(:now AS timestamptz) FROM fits
  RETURNING line_id, amount
), upd AS (
  UPDATE budget_line SET reserved_total = budget_line.reserved_total + ins.amount FROM ins
  WHERE budget_line.id = ins.line_id RETURNING budget_line.id
)
SELECT line.id, line.currency, line.amount, line.tolerance_pct, line.control_mode, line.actual_total,
       line.committed_total, line.reserved_total, (SELECT count(*) FROM upd) FROM line
"""))


async def reserve_quick(conn: AsyncConnection, company: str, cost_centre: str, item: str, period: str,
                        amount: Decimal, document_ref: str, *, ttl: dt.timedelta,
                        currency: str = "") -> Decision | None:
    """The reservation in one round trip when it is the plain case (see _QUICK_RESERVE), on an
    autocommit connection; None when `reserve` must decide (also for an amount in another
    currency than the line's: `reserve` converts it)."""
    if conn.dialect.name != "postgresql" or amount <= 0 or not cost_centre or not item:
        return None
    now = utcnow()
    try:
        rows = await _QUICK_RESERVE.rows(conn, {"co": company, "cc": cost_centre, "item": item, "period": period,
                                                "ref": document_ref, "amount": amount, "now": now,
                                                "expires": now + ttl, "ccy": currency})
    except (sa.exc.IntegrityError, UniqueViolation):  # the same document reserved concurrently: `reserve` answers
        return None
    if not rows or not rows[0][8]:
        return None
    r = rows[0]
    before = LineFigures(r[0], r[1], Decimal(r[2]), Decimal(r[3]), r[4], Decimal(r[5]), Decimal(r[6]), Decimal(r[7]))
    after = _with(before, reserved=amount)
    d = decide(before, amount)
    if not d.allowed or d.warning or crossed(before, after):  # cannot happen while SQL and Python agree
        log.error("quick reservation of %s disagrees with the rules: %s", document_ref, d.reason)
    return _after(d, after)


async def commit(session: AsyncSession, company: str, document_ref: str, amount: Decimal, invoice_ref: str,
                 currency: str = "") -> Decision:
    """Reserved -> consumed: an invoice for the document was approved. The part of `amount` the
    reservation does not cover (a price increase, a lapsed reservation, a rate that moved since
    the reservation) is checked like a new spend. Idempotent by (document_ref, invoice_ref)."""
    if amount <= 0:
        raise BudgetError("amount must be positive")
    res = await session.get(Reservation, (company, document_ref))
    if res is None:
        raise BudgetError(f"no reservation for {document_ref} in company {company}: Reserve before Commit")
    conn = await session.connection()
    line = await _read(conn, line_id=res.line_id, lock=True)
    await session.refresh(res)
    f = line.figures
    invoice_ref = invoice_ref or document_ref
    if await session.get(Commitment, (company, document_ref, invoice_ref)) is not None:
        return Decision(True, False, f"already committed for {invoice_ref}", f, amount)
    conversion = await _in_line_currency(conn, company, f, amount, currency)
    amount = conversion.amount
    live = res.amount if res.status == "reserved" else ZERO
    d = Decision(True, False, "within the reservation", f, amount)
    if amount > live:
        d = decide(f, amount - live)
        if not d.allowed:
            return Decision(False, False, d.reason, f, amount, conversion if conversion.converted else None)
    left = max(ZERO, live - amount)
    session.add(Commitment(company_id=company, document_ref=document_ref, invoice_ref=invoice_ref,
                           line_id=res.line_id, amount=amount, actualised=ZERO, created_at=utcnow(),
                           **conversion.columns()))
    if res.status == "reserved":
        res.amount, res.status = left, ("reserved" if left else "committed")
    await session.flush()
    await conn.execute(_ADD_RESERVED_COMMITTED,
                       {"line_id": f.line_id, "d_reserved": left - live, "d_committed": amount})
    after = _with(f, reserved=left - live, committed=amount)
    events = [_warning_event(line, invoice_ref, d, f, after)] if d.warning else []
    events += await _threshold_rows(conn, line, f, after)
    if events:
        await conn.execute(sa.insert(OutboxRecord.__table__), events)
    return _after(Decision(True, d.warning, d.reason, f, amount, conversion if conversion.converted else None), after)


async def release(session: AsyncSession, company: str, document_ref: str) -> Decision:
    """Drop what is still reserved for a document (request or order cancelled, order closed). Idempotent."""
    res = await session.get(Reservation, (company, document_ref))
    if res is None:
        return refused(f"no reservation for {document_ref}")
    conn = await session.connection()
    line = await _read(conn, line_id=res.line_id, lock=True)
    await session.refresh(res)
    released = res.amount if res.status == "reserved" else ZERO
    if released:
        res.amount, res.status = ZERO, "released"
        await session.flush()
        await conn.execute(_ADD_RESERVED, {"line_id": res.line_id, "d_reserved": -released})
    f = _with(line.figures, reserved=-released)
    return Decision(True, False, f"released {money.quantize(released, f.currency)}" if released
                    else f"nothing reserved for {document_ref}", f, released)


async def add_actual(conn: AsyncConnection, line_id: str, actual: Decimal, actualised: Decimal) -> None:
    """A journal line charged to the budget line; `actualised` of it replaced a commitment."""
    await conn.execute(_ADD_ACTUAL_COMMITTED,
                       {"line_id": line_id, "d_actual": actual, "d_committed": -actualised})


def _warning_event(line, document: str, d: Decision, before: LineFigures, after: LineFigures) -> dict:
    return event_row(budget_events.BudgetWarningRaised(
        company_id=line.company_id, document_number=document, occurrence_date=dates.to_proto(dt.date.today()),
        budget_line_id=after.line_id, cost_centre=line.cost_centre, budget_item=line.budget_item, period=line.period,
        requested=money.amount_pb(d.requested, after.currency),
        available=money.amount_pb(before.headroom, after.currency), reason=d.reason), source="budget")


async def _threshold_rows(conn: AsyncConnection, line, before: LineFigures | None, f: LineFigures) -> list[dict]:
    """Outbox rows of BudgetThresholdReached for thresholds newly reached: once per line,
    version and threshold (the hit is recorded; a second insert of it is skipped)."""
    due = reached(f) if before is None else crossed(before, f)
    rows = []
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    for t in due:
        hit = await conn.execute(insert(ThresholdHit.__table__).values(
            line_id=f.line_id, version_id=line.version_id, threshold=t, reached_at=utcnow())
            .on_conflict_do_nothing().returning(ThresholdHit.__table__.c.threshold))
        if hit.scalar() is None:
            continue
        rows.append(event_row(budget_events.BudgetThresholdReached(
            company_id=line.company_id, document_number=f"{line.cost_centre}/{line.budget_item}/{line.period}",
            occurrence_date=dates.to_proto(dt.date.today()), budget_line_id=f.line_id, cost_centre=line.cost_centre,
            budget_item=line.budget_item, period=line.period, threshold_percent=t,
            budget=money.amount_pb(f.budget, f.currency), consumed=money.amount_pb(f.consumed, f.currency),
            committed=money.amount_pb(f.reserved, f.currency)), source="budget"))
    return rows


async def threshold_events(session: AsyncSession, line: BudgetLine, f: LineFigures) -> None:
    """BudgetThresholdReached for every threshold `f` has reached and not yet announced."""
    conn = await session.connection()
    rows = await _threshold_rows(conn, line, None, f)
    if rows:
        await conn.execute(sa.insert(OutboxRecord.__table__), rows)
