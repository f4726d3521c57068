"""Use cases: define a group, consolidate it (a stored, reproducible run), read a run.

A run reads only consolidation's own tables: the projection of the ledgers, the structure, the
group's rate table and the copy of the ledger's rates. It stores the statements, the
consolidation journals, the mismatch report, the figures' contributions (for drill-down), the
structure and every rate it used, and a digest of its inputs; it publishes
ConsolidationCompleted through the outbox.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from decimal import Decimal

import sqlalchemy as sa
from finance.consolidation.v1 import events_pb2 as ev
from fincore import dates, money
from fincore.db import HotStatement
from fincore.outbox.writer import add_event
from fincore.rates import LedgerRate
from fincore.tables import utcnow
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils import uuid7

from consolidation.adapters.tables import (
    EntityBalance,
    EntityPeriod,
    GroupEntity,
    GroupRate,
    GroupRow,
    IcInventoryRow,
    OwnershipChangeRow,
    Run,
)
from consolidation.domain import statements as st
from consolidation.domain.engine import Consolidation, IcInventory, consolidate
from consolidation.domain.rates import Rates
from consolidation.domain.structure import (
    GROUP_CHART,
    MAPPINGS,
    PROFIT_OR_LOSS,
    Acquisition,
    Entity,
    Group,
    OwnershipChange,
    StructureError,
)
from consolidation.domain.translation import Movement


class NotFoundError(LookupError):
    pass


def jsonable(value):
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


async def load_group(session: AsyncSession, group_id: str) -> tuple[GroupRow, Group]:
    row = await session.get(GroupRow, group_id)
    if row is None:
        raise NotFoundError(f"no group {group_id!r}")
    members = (await session.execute(sa.select(GroupEntity).where(GroupEntity.group_id == group_id)
                                      .order_by(GroupEntity.company_id))).scalars().all()
    changes = (await session.execute(sa.select(OwnershipChangeRow).where(OwnershipChangeRow.group_id == group_id)
                                     .order_by(OwnershipChangeRow.changed_on))).scalars().all()

    def entity(m: GroupEntity) -> Entity:
        mapping = MAPPINGS[m.chart].with_overrides(dict(m.mapping_overrides), frozenset(m.transaction_rate_accounts))
        return Entity(m.company_id, m.name, m.functional_currency, mapping)

    parent = next((m for m in members if m.company_id == row.parent_company), None)
    if parent is None:
        raise StructureError(f"group {group_id} has no parent entity")
    subs = [m for m in members if m.company_id != row.parent_company]
    group = Group(row.id, row.name, row.presentation_currency, entity(parent), tuple(entity(m) for m in subs),
                  tuple(Acquisition(m.company_id, m.acquired_on, m.pct, m.consideration, m.fv_net_assets)
                        for m in subs),
                  tuple(OwnershipChange(c.company_id, c.changed_on, c.pct, c.consideration) for c in changes))
    return row, group


def structure_json(group: Group) -> dict:
    def ent(e: Entity) -> dict:
        return {"company_id": e.company_id, "name": e.name, "functional_currency": e.functional_currency,
                "mapping": e.mapping.id, "prefixes": dict(e.mapping.prefixes),
                "transaction_rate": sorted(e.mapping.transaction_rate)}

    return jsonable({
        "id": group.id, "name": group.name, "presentation_currency": group.presentation_currency,
        "parent": ent(group.parent), "subsidiaries": [ent(s) for s in group.subsidiaries],
        "acquisitions": [{"subsidiary": a.subsidiary, "on": a.on, "pct": a.pct, "consideration": a.consideration,
                          "fv_net_assets": a.fv_net_assets} for a in group.acquisitions],
        "ownership_changes": [{"subsidiary": c.subsidiary, "on": c.on, "pct": c.pct,
                               "consideration": c.consideration} for c in group.changes],
    })


_T = EntityBalance.__table__
# A run reads every row of its entities' projection: on PostgreSQL straight from the driver's
# cursor (SQLAlchemy's per-row work cost as much as the query on 120,000 rows).
_MOVEMENTS = HotStatement(sa.select(
    _T.c.company_id, _T.c.posting_date, _T.c.account_code, _T.c.amount, _T.c.partner, _T.c.txn_currency,
    _T.c.txn_amount, _T.c.document).where(_T.c.company_id == sa.bindparam("company"),
                                          _T.c.posting_date <= sa.bindparam("up_to", type_=sa.Date))
    .order_by(_T.c.posting_date, _T.c.account_code, _T.c.partner, _T.c.txn_currency, _T.c.document))


async def load_movements(session: AsyncSession, companies: list[str], up_to: dt.date) -> dict[str, list[Movement]]:
    conn = await session.connection()
    make = Movement._make  # NUMERIC columns arrive as Decimal
    return {c: [make(r) for r in await _MOVEMENTS.rows(conn, {"company": c, "up_to": up_to})] for c in companies}


async def load_rates(session: AsyncSession, group: Group) -> Rates:
    """The group's table, and the ledger rates of the group's companies kept in the presentation
    currency (the parent's, usually)."""
    pres = group.presentation_currency
    companies = [e.company_id for e in group.entities if e.functional_currency == pres]
    ledger: dict[str, list] = defaultdict(list)
    if companies:
        rows = (await session.execute(sa.select(LedgerRate.currency, LedgerRate.rate_date, LedgerRate.rate).where(
            LedgerRate.company_id == companies[0], LedgerRate.functional_currency == pres)
            .order_by(LedgerRate.currency, LedgerRate.rate_date))).all()
        for cur, on, rate in rows:
            ledger[cur].append((on, Decimal(rate)))
    table = {(r.rate_type, r.currency, r.key): Decimal(r.rate) for r in (await session.execute(
        sa.select(GroupRate).where(GroupRate.group_id == group.id))).scalars().all()}
    return Rates(pres, ledger=dict(ledger), table=table)


async def load_inventory(session: AsyncSession, group_id: str) -> list[IcInventory]:
    rows = (await session.execute(sa.select(IcInventoryRow).where(IcInventoryRow.group_id == group_id))).scalars()
    return [IcInventory(r.holder, r.seller, r.held_on, Decimal(r.amount), Decimal(r.margin), r.bought_on)
            for r in rows]


def _digest(structure: dict, movements: dict[str, list[Movement]], rates: list, inventory: list) -> str:
    h = hashlib.sha256(json.dumps([structure, rates, jsonable([vars(i) for i in inventory])], sort_keys=True,
                                  default=str).encode())
    for company in sorted(movements):  # reprs of dates, Decimals and strings: C code, and exact
        h.update(repr([tuple(m) for m in movements[company]]).encode())
    return h.hexdigest()


def figures(opening: Consolidation | None, closing: Consolidation) -> dict:
    """Per group account: the consolidated figure, each entity's part (with its own accounts, for
    the ledger drill-down) and each consolidation journal's line. Balance-sheet accounts as at
    the end; income and expenses for the period (the end's cumulative less the opening's)."""
    out: dict[str, dict] = {}

    def add(c: Consolidation, sign: int, pl_only: bool) -> None:
        for t in c.translated.values():
            for ln in t.lines:
                if pl_only and GROUP_CHART[ln.group].kind not in PROFIT_OR_LOSS:
                    continue
                f = out.setdefault(ln.group, {"entities": {}, "journals": {}})
                e = f["entities"].setdefault(ln.entity, {"amount": Decimal(0), "accounts": {}})
                e["amount"] += sign * ln.pc
                e["accounts"][ln.account] = e["accounts"].get(ln.account, Decimal(0)) + sign * ln.pc
            if t.cta and not pl_only:
                f = out.setdefault("3200", {"entities": {}, "journals": {}})
                e = f["entities"].setdefault(t.entity, {"amount": Decimal(0), "accounts": {}})
                e["amount"] -= sign * t.cta
                e["accounts"]["CTA"] = e["accounts"].get("CTA", Decimal(0)) - sign * t.cta
        for j in c.journals:
            for ln in j.lines:
                if pl_only and GROUP_CHART[ln.account].kind not in PROFIT_OR_LOSS:
                    continue
                f = out.setdefault(ln.account, {"entities": {}, "journals": {}})
                k = f"{j.id}|{ln.entity}|{ln.partner}|{ln.memo}"
                cur = f["journals"].get(k)
                amount = sign * ln.amount + (cur["amount"] if cur else 0)
                f["journals"][k] = {"journal": j.id, "kind": j.kind, "entity": ln.entity, "partner": ln.partner,
                                    "memo": ln.memo, "amount": amount}

    add(closing, 1, False)
    if opening is not None:
        add(opening, -1, True)
    result = {}
    for code, f in sorted(out.items()):
        entities = {k: {"amount": v["amount"], "accounts": {a: x for a, x in sorted(v["accounts"].items()) if x}}
                    for k, v in sorted(f["entities"].items()) if v["amount"] or any(v["accounts"].values())}
        journals = [j for j in f["journals"].values() if j["amount"]]
        total = sum((e["amount"] for e in entities.values()), Decimal(0)) + sum((j["amount"] for j in journals),
                                                                               Decimal(0))
        if not entities and not journals:
            continue
        result[code] = {"name": GROUP_CHART[code].name, "kind": GROUP_CHART[code].kind, "amount": total,
                        "entities": entities, "journals": journals}
    return result


def journal_json(c: Consolidation) -> list[dict]:
    return [{"id": j.id, "kind": j.kind, "title": j.title, "explanation": j.explanation,
             "lines": [{"account": ln.account, "account_name": GROUP_CHART[ln.account].name, "entity": ln.entity,
                        "partner": ln.partner, "amount": ln.amount, "memo": ln.memo} for ln in j.lines]}
            for j in c.journals]


def entities_json(c: Consolidation, group: Group) -> list[dict]:
    out = []
    for e in group.entities:
        t = c.translated.get(e.company_id)
        if t is None:
            continue
        pct = None if e is group.parent else group.pct(e.company_id, c.as_of + dt.timedelta(days=1))
        out.append({"company_id": e.company_id, "name": e.name, "functional_currency": e.functional_currency,
                    "ownership_pct": None if pct is None else pct * 100, "net_assets": t.net_assets(),
                    "profit_since_acquisition": t.profit(), "cta": t.cta, "lines": len(t.lines)})
    return out


async def consolidate_group(session: AsyncSession, group_id: str, period_from: str, period_to: str, *,
                            actor: str, trigger: str, today: dt.date) -> Run:
    if period_from > period_to:
        raise StructureError(f"period_from {period_from} is after period_to {period_to}")
    row, group = await load_group(session, group_id)
    start, end = dates.period_start(period_from), dates.period_end(period_to)
    movements = await load_movements(session, [e.company_id for e in group.entities], end)
    rates = await load_rates(session, group)
    inventory = await load_inventory(session, group_id)
    before = start - dt.timedelta(days=1)
    prepared: dict = {}
    opening = consolidate(group, movements, rates, before, ic_inventory=inventory, prepared=prepared)
    closing = consolidate(group, movements, rates, end, ic_inventory=inventory, prepared=prepared)
    bs = st.balance_sheet(closing)
    if not bs["balanced"]:  # never: every journal balances; refuse to store a run that does not
        raise AssertionError(f"consolidated balance sheet of {group_id} at {end} does not balance")
    result = {
        "balance_sheet": bs,
        "income_statement": st.income_statement(opening, closing),
        "comprehensive_income": st.comprehensive_income(opening, closing),
        "changes_in_equity": st.changes_in_equity(opening, closing),
        "journals": journal_json(closing),
        "mismatches": [vars(m) for m in closing.mismatches],
        "entities": entities_json(closing, group),
        "figures": figures(opening, closing),
        "warnings": closing.warnings,
    }
    final = await _final(session, group, period_from, period_to)
    structure = structure_json(group)
    used = rates.used_json()
    run = Run(id=str(uuid7()), group_id=group_id, period_from=period_from, period_to=period_to, final=final,
              trigger=trigger, created_by=actor[:100], created_at=utcnow(),
              digest=_digest(structure, movements, used, inventory), structure=structure, rates=used,
              result=jsonable(result))
    session.add(run)
    pres = group.presentation_currency
    m = lambda v: money.amount_pb(v, pres)  # noqa: E731
    sci = result["comprehensive_income"]
    add_event(session, ev.ConsolidationCompleted(
        company_id=row.parent_company, document_number=run.id, occurrence_date=dates.to_proto(end), group_id=group_id,
        run_id=run.id, period_from=period_from, period_to=period_to, final=final,
        total_assets=m(bs["total_assets"]), profit=m(sci["profit"]),
        profit_attributable_to_nci=m(result["income_statement"]["attributable"]["nci"]),
        non_controlling_interests=m(bs["equity"]["nci"]),
        translation_difference=m(sci["other_comprehensive_income"]["exchange_differences_on_translation"]["total"]),
    ), source="consolidation")
    await session.flush()
    return run


async def _final(session: AsyncSession, group: Group, period_from: str, period_to: str) -> bool:
    """Every consolidated entity closed every period of the run (and none is reopened)."""
    periods = []
    p = period_from
    while p <= period_to:
        periods.append(p)
        d = dates.period_end(p) + dt.timedelta(days=1)
        p = dates.period_of(d)
    rows = (await session.execute(sa.select(EntityPeriod.company_id, EntityPeriod.period).where(
        EntityPeriod.company_id.in_([e.company_id for e in group.entities]), EntityPeriod.period.in_(periods),
        EntityPeriod.status == "closed"))).all()
    closed = {(r[0], r[1]) for r in rows}
    for e in group.entities:
        for per in periods:
            if group.consolidated(e.company_id, dates.period_end(per)) and (e.company_id, per) not in closed:
                return False
    return True
