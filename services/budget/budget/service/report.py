"""Budget vs actual vs committed, grouped by any of the budget's dimensions."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from fincore import money
from fincore.tables import utcnow
from sqlalchemy.ext.asyncio import AsyncSession

from budget.adapters.tables import BudgetLine, Reservation

GROUPS = ("cost_centre", "budget_item", "period")
ZERO = Decimal(0)
# What the figures mean, served with every report (the rules live in service/actuals.py and
# service/control.py).
DEFINITIONS = {
    "actual": "spend the ledger has posted: journal lines on the item's accounts carrying the line's cost centre; "
              "and an approved invoice whose journal reaches no budgeted account, on the line it was committed "
              "against - a stock purchase is actual at invoice approval, at the invoice net (received cost plus "
              "price variance), once the GL has posted the invoice",
    "committed": "approved invoices whose journal has not arrived yet",
    "reserved": "open, unexpired reservations of requisitions, orders and claims not yet invoiced",
    "consumed": "actual + committed",
    "available": "budget - consumed - reserved",
    "variance": "budget - consumed",
}



async def budget_report(session: AsyncSession, company: str, *, period_from: str = "", period_to: str = "",
                        cost_centre: str = "", budget_item: str = "", group_by: tuple[str, ...] = GROUPS) -> dict:
    t = BudgetLine.__table__
    # the same running totals the control decisions read, less reservations lapsed since the last sweep
    lapsed = sa.select(sa.func.coalesce(sa.func.sum(Reservation.amount), 0)).where(
        Reservation.line_id == t.c.id, Reservation.status == "reserved",
        Reservation.expires_at <= utcnow()).scalar_subquery()
    q = sa.select(t.c.cost_centre, t.c.budget_item, t.c.period, t.c.currency, t.c.amount, t.c.control_mode,
                  t.c.version_code, t.c.actual_total, t.c.committed_total, t.c.reserved_total - lapsed) \
        .where(t.c.company_id == company).order_by(t.c.cost_centre, t.c.budget_item, t.c.period)
    if period_from:
        q = q.where(t.c.period >= period_from)
    if period_to:
        q = q.where(t.c.period <= period_to)
    if cost_centre:
        q = q.where(t.c.cost_centre == cost_centre)
    if budget_item:
        q = q.where(t.c.budget_item == budget_item)
    groups: dict[tuple, dict] = {}
    currencies = set()
    for cc, item, period, cur, amount, mode, version, a, c, r in (await session.execute(q)).all():
        currencies.add(cur)
        # amounts in different currencies are never added: the currency is part of every group
        key = (*({"cost_centre": cc, "budget_item": item, "period": period}[g] for g in group_by), cur)
        g = groups.setdefault(key, {"budget": ZERO, "actual": ZERO, "committed": ZERO, "reserved": ZERO, "lines": 0,
                                    "control_modes": set(), "versions": set()})
        g["budget"] += Decimal(amount)
        g["actual"] += Decimal(a)
        g["committed"] += Decimal(c)
        g["reserved"] += Decimal(r)
        g["lines"] += 1
        g["control_modes"].add(mode)
        g["versions"].add(version)
    rows, totals = [], {}
    for (*key, cur), g in groups.items():
        total = totals.setdefault(cur, {"budget": ZERO, "actual": ZERO, "committed": ZERO, "reserved": ZERO})
        for k in total:
            total[k] += g[k]
        rows.append({**dict(zip(group_by, key, strict=True)), "currency": cur, **_figures(g, cur), "lines": g["lines"],
                     "control_modes": sorted(g["control_modes"]), "versions": sorted(g["versions"])})
    # one total per currency; `total` is the company's when it budgets in one currency (the usual case)
    by_currency = {cur: _figures(t, cur) for cur, t in sorted(totals.items())}
    return {"company": company, "currency": ",".join(sorted(currencies)), "group_by": list(group_by), "rows": rows,
            "total": next(iter(by_currency.values())) if len(by_currency) == 1 else None,
            "totals_by_currency": by_currency, "definitions": DEFINITIONS}


def _figures(g: dict, currency: str) -> dict:
    consumed = g["actual"] + g["committed"]
    pct = (consumed * 100 / g["budget"]).quantize(Decimal("0.01")) if g["budget"] else None
    figures = {"budget": g["budget"], "actual": g["actual"], "committed": g["committed"], "consumed": consumed,
               "reserved": g["reserved"], "available": g["budget"] - consumed - g["reserved"],
               "variance": g["budget"] - consumed}
    return {**{k: money.format_amount(v, currency) for k, v in figures.items()},
            "pct_consumed": str(pct) if pct is not None else None}
