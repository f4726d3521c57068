"""Consolidation HTTP API: the group structure and rate table, runs and their statements, and the
drill-down from a consolidated figure to the entities, the consolidation journals and the
entity's ledger in the GL API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Body, Depends, Path, Query
from fincore import dates
from fincore.auth import Authenticator, Principal
from fincore.db import Database
from fincore.errors import NotFound, Unprocessable
from fincore.http import service_router
from fincore.money import CurrencyCode
from fincore.schemas import StrictModel
from pydantic import Field

from consolidation.adapters.tables import (
    EntityBalance,
    EntityCompany,
    EntityPeriod,
    GroupEntity,
    GroupRate,
    GroupRow,
    IcInventoryRow,
    OwnershipChangeRow,
    Run,
)
from consolidation.domain.rates import RateMissing
from consolidation.domain.structure import GROUP_CHART, MAPPINGS, StructureError
from consolidation.service.runs import NotFoundError, consolidate_group, load_group, structure_json

Code = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\-]+$")]
Pct = Annotated[Decimal, Field(gt=0, le=100, max_digits=9, decimal_places=4)]
AmountIn = Annotated[Decimal, Field(ge=0, max_digits=20, decimal_places=4)]
STATEMENTS = {"balance-sheet": "balance_sheet", "income-statement": "income_statement",
              "comprehensive-income": "comprehensive_income", "changes-in-equity": "changes_in_equity"}


class EntityIn(StrictModel):
    company_id: Code
    name: str = Field(min_length=1, max_length=200)
    functional_currency: CurrencyCode
    chart: Literal["cas", "ifrs"] = Field(description="the entity's GL chart template, mapped onto the group chart")
    mapping_overrides: dict[Annotated[str, Field(max_length=20)], Annotated[str, Field(max_length=4)]] = Field(
        {}, description="account-code prefix -> group account, over the chart's mapping")
    transaction_rate_accounts: list[Annotated[str, Field(max_length=4)]] = Field(
        [], description="group income/expense accounts translated at the day's rate, not the month's average")


class GroupIn(StrictModel):
    name: str = Field(min_length=1, max_length=200)
    presentation_currency: CurrencyCode
    parent: EntityIn


class SubsidiaryIn(EntityIn):
    acquired_on: dates.Date
    ownership_pct: Pct = Field(description="percentage acquired (control: above 50)")
    consideration: AmountIn = Field(description="in the parent's functional currency")
    fv_net_assets: Decimal = Field(max_digits=20, decimal_places=4,
                                   description="identifiable net assets at fair value, the subsidiary's currency")


class OwnershipChangeIn(StrictModel):
    ownership_pct: Pct = Field(description="the parent's new percentage")
    consideration: Decimal = Field(max_digits=20, decimal_places=4,
                                   description="paid by the parent (negative: received), its functional currency")


class RateIn(StrictModel):
    rate_type: Literal["closing", "average", "historical"]
    currency: CurrencyCode
    key: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])(-\d{2})?$",
                     description="YYYY-MM-DD (closing, historical) or YYYY-MM (average)")
    rate: Decimal = Field(gt=0, max_digits=20, decimal_places=10,
                          description="presentation-currency units per 1 unit of the currency")


class IcInventoryIn(StrictModel):
    holder: Code
    seller: Code
    held_on: dates.Date = Field(description="the period end the goods are held at")
    amount: AmountIn = Field(description="at the transfer price, the holder's functional currency")
    margin_pct: Annotated[Decimal, Field(ge=0, lt=100, max_digits=9, decimal_places=4)]
    bought_on: dates.Date | None = None


class RunIn(StrictModel):
    period_from: dates.Period
    period_to: dates.Period


def _entity_row(group_id: str, e: EntityIn, **extra) -> GroupEntity:
    for prefix, code in e.mapping_overrides.items():
        if code not in GROUP_CHART:
            raise Unprocessable(f"mapping_overrides: {prefix} -> {code}: not a group account")
    return GroupEntity(group_id=group_id, company_id=e.company_id, name=e.name,
                       functional_currency=e.functional_currency, chart=e.chart,
                       mapping_overrides=dict(e.mapping_overrides),
                       transaction_rate_accounts=list(e.transaction_rate_accounts), **extra)


def run_summary(r: Run) -> dict:
    bs = r.result.get("balance_sheet", {})
    return {"id": r.id, "group_id": r.group_id, "period_from": r.period_from, "period_to": r.period_to,
            "final": r.final, "superseded": r.superseded, "trigger": r.trigger, "created_by": r.created_by,
            "created_at": r.created_at.isoformat(), "digest": r.digest, "balanced": bs.get("balanced"),
            "currency": bs.get("currency")}


def build_router(db: Database, auth: Authenticator, *, gl_url: str = "") -> APIRouter:
    r = service_router(prefix="/v1", tags=["consolidation"])
    read, write = auth.require("consolidation:read"), auth.require("consolidation:write")

    async def group_row(s, group_id: str, principal: Principal) -> GroupRow:
        g = await s.get(GroupRow, group_id)
        if g is None:
            raise NotFound(f"no group {group_id!r}")
        principal.require_company(g.parent_company)
        return g

    async def run_row(s, run_id: str, principal: Principal) -> Run:
        run = await s.get(Run, run_id)
        if run is None:
            raise NotFound(f"no run {run_id!r}")
        await group_row(s, run.group_id, principal)
        return run

    async def check(s, group_id: str) -> None:
        try:
            await load_group(s, group_id)
        except StructureError as exc:
            raise Unprocessable(str(exc)) from exc

    @r.put("/groups/{group_id}", summary="Create or change a group: its parent and presentation currency")
    async def put_group(group_id: Code, body: GroupIn, principal: Principal = Depends(write)) -> dict:
        principal.require_company(body.parent.company_id)
        async with db.transaction() as s:
            g = await s.get(GroupRow, group_id)
            if g is not None and g.parent_company != body.parent.company_id:
                raise Unprocessable(f"group {group_id}'s parent is {g.parent_company}: a group keeps its parent")
            if g is None:
                g = GroupRow(id=group_id, name=body.name, presentation_currency=body.presentation_currency,
                             parent_company=body.parent.company_id, created_at=dt.datetime.now(dt.UTC))
                s.add(g)
                await s.flush()
            g.name, g.presentation_currency = body.name, body.presentation_currency
            await s.merge(_entity_row(group_id, body.parent))
            await s.flush()
            await check(s, group_id)
            _, group = await load_group(s, group_id)
            return structure_json(group)

    @r.put("/groups/{group_id}/subsidiaries/{company_id}",
           summary="Add or change a subsidiary with its acquisition (IFRS 3: consideration, net assets at fair value)")
    async def put_subsidiary(group_id: Code, company_id: Code, body: SubsidiaryIn,
                             principal: Principal = Depends(write)) -> dict:
        if body.company_id != company_id:
            raise Unprocessable("company_id in the body differs from the path")
        async with db.transaction() as s:
            g = await group_row(s, group_id, principal)
            if company_id == g.parent_company:
                raise Unprocessable(f"{company_id} is the group's parent")
            await s.merge(_entity_row(group_id, body, acquired_on=body.acquired_on, pct=body.ownership_pct / 100,
                                      consideration=body.consideration, fv_net_assets=body.fv_net_assets))
            await s.flush()
            await check(s, group_id)
            _, group = await load_group(s, group_id)
            return structure_json(group)

    @r.put("/groups/{group_id}/subsidiaries/{company_id}/ownership-changes/{changed_on}",
           summary="Record a dated change in the parent's ownership of a subsidiary (control kept)")
    async def put_change(group_id: Code, company_id: Code, changed_on: dates.Date, body: OwnershipChangeIn,
                         principal: Principal = Depends(write)) -> dict:
        async with db.transaction() as s:
            await group_row(s, group_id, principal)
            if await s.get(GroupEntity, (group_id, company_id)) is None:
                raise NotFound(f"{company_id} is not in group {group_id}")
            await s.merge(OwnershipChangeRow(group_id=group_id, company_id=company_id, changed_on=changed_on,
                                             pct=body.ownership_pct / 100, consideration=body.consideration))
            await s.flush()
            await check(s, group_id)
            _, group = await load_group(s, group_id)
            return structure_json(group)

    @r.get("/groups/{group_id}", summary="The group: structure, mappings, acquisitions, ownership changes")
    async def get_group(group_id: str, principal: Principal = Depends(read)) -> dict:
        async with db.sessions() as s:
            await group_row(s, group_id, principal)
            try:
                _, group = await load_group(s, group_id)
            except StructureError as exc:
                raise Unprocessable(str(exc)) from exc
            return {**structure_json(group), "group_chart": [
                {"code": a.code, "name": a.name, "kind": a.kind, "role": a.role} for a in GROUP_CHART.values()],
                "mappings": {k: dict(v.prefixes) for k, v in MAPPINGS.items()}}

    @r.put("/groups/{group_id}/rates", summary="Enter rates into the group's rate table (closing, average, historical)")
    async def put_rates(group_id: Code, body: Annotated[list[RateIn], Body(min_length=1, max_length=5000)],
                        principal: Principal = Depends(write)) -> dict:
        for rate in body:
            if (rate.rate_type == "average") != (len(rate.key) == 7):
                raise Unprocessable(f"{rate.rate_type} rate key {rate.key}: average rates are by month (YYYY-MM), "
                                    "closing and historical by day (YYYY-MM-DD)")
        async with db.transaction() as s:
            await group_row(s, group_id, principal)
            for rate in body:
                await s.merge(GroupRate(group_id=group_id, rate_type=rate.rate_type, currency=rate.currency,
                                        key=rate.key, rate=rate.rate))
        return {"group_id": group_id, "rates": len(body)}

    @r.get("/groups/{group_id}/rates", summary="The group's rate table")
    async def get_rates(group_id: str, principal: Principal = Depends(read)) -> list[dict]:
        async with db.sessions() as s:
            await group_row(s, group_id, principal)
            rows = (await s.execute(sa.select(GroupRate).where(GroupRate.group_id == group_id).order_by(
                GroupRate.currency, GroupRate.rate_type, GroupRate.key))).scalars().all()
            return [{"rate_type": x.rate_type, "currency": x.currency, "key": x.key, "rate": f"{x.rate.normalize():f}"}
                    for x in rows]

    @r.put("/groups/{group_id}/ic-inventory",
           summary="Goods bought inside the group still held at a period end (for unrealised profit)")
    async def put_inventory(group_id: Code, body: Annotated[list[IcInventoryIn], Body(max_length=5000)],
                            principal: Principal = Depends(write)) -> dict:
        async with db.transaction() as s:
            await group_row(s, group_id, principal)
            for item in body:
                await s.merge(IcInventoryRow(group_id=group_id, holder=item.holder, seller=item.seller,
                                             held_on=item.held_on, amount=item.amount, margin=item.margin_pct / 100,
                                             bought_on=item.bought_on))
        return {"group_id": group_id, "items": len(body)}

    @r.post("/groups/{group_id}/runs", status_code=201,
            summary="Consolidate the group for a range of periods (stored with the rates and structure used)")
    async def post_run(group_id: Code, body: RunIn, principal: Principal = Depends(write)) -> dict:
        try:
            async with db.transaction() as s:
                await group_row(s, group_id, principal)
                run = await consolidate_group(s, group_id, body.period_from, body.period_to,
                                              actor=principal.subject, trigger="api", today=dt.date.today())
                return {**run_summary(run), **{k: run.result[k] for k in STATEMENTS.values()},
                        "mismatches": run.result["mismatches"], "warnings": run.result["warnings"]}
        except (StructureError, RateMissing, NotFoundError) as exc:
            raise Unprocessable(str(exc)) from exc

    @r.get("/groups/{group_id}/runs", summary="The group's runs, newest first")
    async def list_runs(group_id: str, principal: Principal = Depends(read)) -> list[dict]:
        async with db.sessions() as s:
            await group_row(s, group_id, principal)
            rows = (await s.execute(sa.select(Run).where(Run.group_id == group_id)
                                    .order_by(Run.created_at.desc()).limit(200))).scalars().all()
            return [run_summary(x) for x in rows]

    @r.get("/groups/{group_id}/runs/latest", summary="The latest run ending at a period (final ones first)")
    async def latest_run(group_id: str, period_to: Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")],
                         principal: Principal = Depends(read)) -> dict:
        async with db.sessions() as s:
            await group_row(s, group_id, principal)
            run = (await s.execute(sa.select(Run).where(Run.group_id == group_id, Run.period_to == period_to,
                                                        Run.superseded.is_(False))
                                   .order_by(Run.final.desc(), Run.created_at.desc()).limit(1))).scalars().first()
            if run is None:
                raise NotFound(f"no run of {group_id} to {period_to}")
            return {**run_summary(run), **{k: run.result[k] for k in STATEMENTS.values()}}

    @r.get("/runs/{run_id}", summary="A run: statements, consolidation journals, mismatches, rates and structure")
    async def get_run(run_id: str, principal: Principal = Depends(read)) -> dict:
        async with db.sessions() as s:
            run = await run_row(s, run_id, principal)
            result = {k: v for k, v in run.result.items() if k != "figures"}
            return {**run_summary(run), **result, "rates": run.rates, "structure": run.structure}

    @r.get("/runs/{run_id}/statements/{statement}", summary="One consolidated statement of a run")
    async def get_statement(run_id: str, statement: Annotated[str, Path(pattern="^(" + "|".join(STATEMENTS) + ")$")],
                            principal: Principal = Depends(read)) -> dict:
        async with db.sessions() as s:
            run = await run_row(s, run_id, principal)
            return {**run_summary(run), statement: run.result[STATEMENTS[statement]]}

    @r.get("/runs/{run_id}/figures/{account}",
           summary="Drill-down: a consolidated figure by entity (with its accounts and a link to its GL ledger) "
                   "and by consolidation journal")
    async def get_figure(run_id: str, account: str, principal: Principal = Depends(read)) -> dict:
        async with db.sessions() as s:
            run = await run_row(s, run_id, principal)
        f = run.result["figures"].get(account)
        if f is None:
            if account not in GROUP_CHART:
                raise NotFound(f"{account} is not a group account")
            f = {"name": GROUP_CHART[account].name, "kind": GROUP_CHART[account].kind, "amount": "0",
                 "entities": {}, "journals": []}
        frm = dates.period_start(run.period_from).isoformat()
        to = dates.period_end(run.period_to).isoformat()
        entities = []
        for company, e in f["entities"].items():
            pl = f["kind"] in ("income", "expense")
            entities.append({"company_id": company, "amount": e["amount"], "accounts": [
                {"account": a, "amount": x,
                 "ledger": None if a == "CTA" else
                 f"{gl_url}/v1/ledger?company={company}&account={a}&to={to}" + (
                     f"&from={frm}&exclude_kind=closing" if pl else "")}
                for a, x in e["accounts"].items()]})
        journals = [{**j, "href": f"/v1/runs/{run_id}/journals/{j['journal']}"} for j in f["journals"]]
        return {"run_id": run_id, "account": account, "name": f["name"], "amount": f["amount"],
                "entities": entities, "journals": journals}

    @r.get("/runs/{run_id}/journals/{journal_id}", summary="A consolidation journal of a run, with its explanation")
    async def get_journal(run_id: str, journal_id: str, principal: Principal = Depends(read)) -> dict:
        async with db.sessions() as s:
            run = await run_row(s, run_id, principal)
        for j in run.result["journals"]:
            if j["id"] == journal_id:
                return j
        raise NotFound(f"no journal {journal_id!r} in run {run_id}")

    @r.get("/runs/{run_id}/mismatches", summary="Intercompany mismatch report by partner pair")
    async def get_mismatches(run_id: str, principal: Principal = Depends(read)) -> list[dict]:
        async with db.sessions() as s:
            run = await run_row(s, run_id, principal)
        return run.result["mismatches"]

    @r.get("/entities/{company_id}/balances",
           summary="The projection: an entity's movements of a period by account and intercompany partner")
    async def get_balances(company_id: str, period: Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")],
                           principal: Principal = Depends(read)) -> dict:
        principal.require_company(company_id)
        t = EntityBalance.__table__
        async with db.sessions() as s:
            rows = (await s.execute(sa.select(t.c.account_code, t.c.partner, sa.func.sum(t.c.amount),
                                              sa.func.sum(t.c.lines))
                                    .where(t.c.company_id == company_id, t.c.period == period)
                                    .group_by(t.c.account_code, t.c.partner)
                                    .order_by(t.c.account_code, t.c.partner))).all()
            state = await s.get(EntityPeriod, (company_id, period))
        return {"company_id": company_id, "period": period,
                "status": state.status if state else "open",
                "changed_after_close": bool(state and state.changed_after_close),
                "balances": [{"account": a, "partner": p, "amount": f"{Decimal(x):f}", "lines": n}
                             for a, p, x, n in rows]}

    @r.get("/entities/{company_id}", summary="What the projection has of an entity: currency, journals seen")
    async def get_entity(company_id: str, principal: Principal = Depends(read)) -> dict:
        principal.require_company(company_id)
        async with db.sessions() as s:
            e = await s.get(EntityCompany, company_id)
        if e is None:
            raise NotFound(f"no journal of {company_id} seen yet")
        return {"company_id": e.company_id, "functional_currency": e.functional_currency, "journals": e.journals,
                "last_posted_at": e.last_posted_at.isoformat()}

    @r.get("/entities/{company_id}/periods", summary="The entity's periods as the projection knows them")
    async def get_periods(company_id: str, principal: Principal = Depends(read)) -> list[dict]:
        principal.require_company(company_id)
        async with db.sessions() as s:
            rows = (await s.execute(sa.select(EntityPeriod).where(EntityPeriod.company_id == company_id)
                                    .order_by(EntityPeriod.period))).scalars().all()
        return [{"period": p.period, "status": p.status, "changed_after_close": p.changed_after_close,
                 "reason": p.reason} for p in rows]

    return r
