"""Budget master data: items (mapped to GL accounts) and versions (original, revised) whose
approval makes their lines the effective budget."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from fincore import money
from fincore.tables import utcnow
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils import uuid7

from budget.adapters.tables import BudgetItem, BudgetLine, BudgetVersion, ItemAccount, VersionLine
from budget.domain.control import MODES
from budget.service.control import figures_by_id, threshold_events


class BudgetDataError(ValueError):
    pass


@dataclass(frozen=True)
class LineIn:
    cost_centre: str
    budget_item: str
    period: str
    amount: Decimal
    control_mode: str = "block"
    tolerance_pct: Decimal = Decimal(0)


async def upsert_item(session: AsyncSession, company: str, code: str, name: str, accounts: list[str]) -> None:
    item = await session.get(BudgetItem, (company, code))
    if item is None:
        session.add(BudgetItem(company_id=company, code=code, name=name, updated_at=utcnow()))
    else:
        item.name, item.updated_at = name, utcnow()
    taken = (await session.execute(sa.select(ItemAccount).where(
        ItemAccount.company_id == company, ItemAccount.account_code.in_(accounts),
        ItemAccount.budget_item != code))).scalars().all()
    if taken:
        raise BudgetDataError("; ".join(f"account {t.account_code} already maps to item {t.budget_item}"
                                        for t in taken))
    await session.execute(sa.delete(ItemAccount).where(ItemAccount.company_id == company,
                                                       ItemAccount.budget_item == code))
    for a in sorted(set(accounts)):
        session.add(ItemAccount(company_id=company, account_code=a, budget_item=code))


async def create_version(session: AsyncSession, *, company: str, code: str, kind: str, currency: str,
                         description: str, created_by: str) -> BudgetVersion:
    money.minor_units(currency)
    if kind not in ("original", "revised"):
        raise BudgetDataError("kind is original or revised")
    if (await session.execute(sa.select(BudgetVersion.id).where(
            BudgetVersion.company_id == company, BudgetVersion.code == code))).scalar() is not None:
        raise BudgetDataError(f"budget version {code} exists")
    v = BudgetVersion(id=str(uuid7()), company_id=company, code=code, kind=kind, currency=currency, status="draft",
                      description=description, created_by=created_by, created_at=utcnow())
    session.add(v)
    await session.flush()
    return v


async def add_lines(session: AsyncSession, version: BudgetVersion, lines: list[LineIn]) -> int:
    """Add or replace lines of a draft version (an import sends them in chunks)."""
    if version.status != "draft":
        raise BudgetDataError(f"version {version.code} is {version.status}: only a draft takes lines")
    items = set((await session.execute(sa.select(BudgetItem.code).where(
        BudgetItem.company_id == version.company_id))).scalars())
    errors = []
    for i, ln in enumerate(lines, start=1):
        if ln.budget_item not in items:
            errors.append(f"line {i}: unknown budget item {ln.budget_item!r}")
        if ln.control_mode not in MODES:
            errors.append(f"line {i}: control mode is one of {', '.join(MODES)}")
        if len(ln.period) != 7 or ln.period[4] != "-" or not (1 <= int(ln.period[5:] or 0) <= 12):
            errors.append(f"line {i}: period is YYYY-MM")
        if ln.amount < 0 or not money.is_quantized(ln.amount, version.currency):
            errors.append(f"line {i}: amount must be >= 0 in {version.currency} minor units")
        if not ln.cost_centre:
            errors.append(f"line {i}: cost centre is required")
    if errors:
        raise BudgetDataError("; ".join(errors[:20]))
    t = VersionLine.__table__
    keys = [(ln.cost_centre, ln.budget_item, ln.period) for ln in lines]
    if len(set(keys)) != len(keys):
        raise BudgetDataError("the same cost centre, item and period appear twice")
    for chunk in range(0, len(keys), 500):
        part = keys[chunk:chunk + 500]
        await session.execute(sa.delete(t).where(t.c.version_id == version.id, sa.tuple_(
            t.c.cost_centre, t.c.budget_item, t.c.period).in_(part)))
    await session.execute(sa.insert(t), [
        {"version_id": version.id, "cost_centre": ln.cost_centre, "budget_item": ln.budget_item, "period": ln.period,
         "amount": ln.amount, "control_mode": ln.control_mode, "tolerance_pct": ln.tolerance_pct} for ln in lines])
    return len(lines)


async def approve(session: AsyncSession, version: BudgetVersion, approved_by: str) -> int:
    """Make the version's lines effective. A revised version changes only the lines it holds."""
    if version.status != "draft":
        raise BudgetDataError(f"version {version.code} is already {version.status}")
    lines = (await session.execute(sa.select(VersionLine).where(VersionLine.version_id == version.id))).scalars().all()
    if not lines:
        raise BudgetDataError(f"version {version.code} has no lines")
    has_original = (await session.execute(sa.select(BudgetVersion.id).where(
        BudgetVersion.company_id == version.company_id, BudgetVersion.kind == "original",
        BudgetVersion.status == "approved"))).scalar() is not None
    if version.kind == "revised" and not has_original:
        raise BudgetDataError("a revised version needs an approved original")
    now = utcnow()
    changed = []
    for vl in lines:
        line = (await session.execute(sa.select(BudgetLine).where(
            BudgetLine.company_id == version.company_id, BudgetLine.cost_centre == vl.cost_centre,
            BudgetLine.budget_item == vl.budget_item, BudgetLine.period == vl.period))).scalar_one_or_none()
        values = dict(amount=vl.amount, control_mode=vl.control_mode, tolerance_pct=vl.tolerance_pct,
                      version_id=version.id, version_code=version.code, currency=version.currency, updated_at=now)
        if line is None:
            line = BudgetLine(id=str(uuid7()), company_id=version.company_id, cost_centre=vl.cost_centre,
                              budget_item=vl.budget_item, period=vl.period, **values)
            session.add(line)
        else:
            if line.currency != version.currency:
                raise BudgetDataError(f"line {vl.cost_centre}/{vl.budget_item}/{vl.period} is in {line.currency}")
            for k, v in values.items():
                setattr(line, k, v)
        changed.append(line)
    version.status, version.approved_by, version.approved_at = "approved", approved_by, now
    await session.flush()
    for line in changed:  # a cut budget may already be past a threshold
        await threshold_events(session, line, await figures_by_id(session, line.id))
    return len(lines)
