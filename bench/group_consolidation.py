"""Consolidation benchmarks (issue 12), on PostgreSQL and the broker.

    .venv/bin/python bench/group_consolidation.py [--runs 5]

1. A run: 20 entities (a CNY parent, subsidiaries in USD, EUR and CNY, 60-100 % owned) with 500
   accounts each, a year of monthly movements on every account (120,000 projection rows) and
   200 intercompany pairs (a receivable/revenue in one, a payable/cost in the other), rates
   from the group's table. Timed: the whole use case `consolidate_group` (read the projection,
   translate, eliminate, statements, store the run with its figures and publish), and the pure
   domain (two consolidations and the statements) on the same inputs. Target: under 2 s a run.
2. From an entity's PeriodClosed to consolidated figures: the consumer (`finance-consolidation
   consume`'s InboxConsumer, in this process) reads finance.gl.events.v1 on the broker; the
   other 19 entities have closed December; the parent's PeriodClosed is published and the
   clock stops when the final run is in the database.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import statistics
import time
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from consolidation.adapters.tables import EntityBalance, EntityPeriod, GroupEntity, GroupRate, GroupRow, Run
from consolidation.bootstrap import MIGRATIONS, build_consumers
from consolidation.domain import statements as st
from consolidation.domain.engine import consolidate
from consolidation.service.runs import consolidate_group, load_group, load_inventory, load_movements, load_rates
from consolidation.settings import ConsolidationSettings
from finance.gl.v1 import events_pb2 as gl_events
from fincore import dates
from fincore.db import Database, bulk_insert, migrate
from fincore.tables import utcnow
from fincore.testing import start_infra

ROOT = Path(__file__).resolve().parents[1]
ENTITIES, ACCOUNTS, PAIRS = 20, 500, 200
CURRENCIES = ["USD", "EUR", "CNY"]
BASES = ["1002", "1122", "1221", "1405", "1601", "2202", "2241", "2001", "6001", "6051", "6401", "6601", "6602",
         "6603"]
RATE = {"USD": Decimal("7.1"), "EUR": Decimal("7.7"), "CNY": Decimal(1)}
ACQ = dt.date(2025, 12, 31)


def entity_id(i: int) -> str:
    return f"B{i:02d}"


async def seed(db: Database) -> None:
    rnd = random.Random(12)
    rows, now = [], utcnow()
    ccy = {entity_id(i): "CNY" if i == 0 else CURRENCIES[i % 3] for i in range(ENTITIES)}
    accounts = [f"{BASES[k % len(BASES)]}{k:03d}" for k in range(ACCOUNTS - 1)]

    def add(company, on, account, amount, partner="", doc=""):
        rows.append({"company_id": company, "posting_date": on, "account_code": account, "partner": partner,
                     "txn_currency": "", "document": doc, "period": dates.period_of(on), "amount": amount,
                     "txn_amount": Decimal(0), "lines": 1})

    for i in range(ENTITIES):
        e = entity_id(i)
        add(e, dt.date(2025, 12, 15), "1002999", Decimal("5000000.00"))
        add(e, dt.date(2025, 12, 15), "4001000", Decimal("-5000000.00"))
        for m in range(1, 13):
            on = dt.date(2026, m, 28)
            total = Decimal(0)
            for a in accounts:
                amt = Decimal(rnd.randint(-500000, 500000)) / 100
                add(e, on, a, amt)
                total += amt
            add(e, on, "1002999", -total)
    subs = [entity_id(i) for i in range(1, ENTITIES)]
    for s in subs:  # the parent's investments
        add(entity_id(0), ACQ, "1511000", Decimal("3000000.00") * RATE[ccy[s]] / RATE["USD"], partner=s)
        add(entity_id(0), ACQ, "1002999", -(Decimal("3000000.00") * RATE[ccy[s]] / RATE["USD"]))
    members = [entity_id(i) for i in range(ENTITIES)]
    pairs = set()
    while len(pairs) < PAIRS:
        a, b = rnd.sample(members, 2)
        pairs.add((a, b))
    for n, (a, b) in enumerate(sorted(pairs)):
        on = dt.date(2026, rnd.randint(1, 12), 10 + n % 10)
        amt_b = Decimal(rnd.randint(10000, 1000000)) / 100
        amt_a = (amt_b * RATE[ccy[b]] / RATE[ccy[a]]).quantize(Decimal("0.01"))
        add(a, on, "1122900", amt_a, b, f"IC-{n}")
        add(a, on, "6001900", -amt_a, b, f"IC-{n}")
        add(b, on, "6401900", amt_b, a, f"IC-{n}")
        add(b, on, "2202900", -amt_b, a, f"IC-{n}")
    # Sum duplicates of one key (the projection's primary key).
    merged: dict[tuple, dict] = {}
    for r in rows:
        k = (r["company_id"], r["posting_date"], r["account_code"], r["partner"], r["txn_currency"], r["document"])
        if k in merged:
            merged[k]["amount"] += r["amount"]
        else:
            merged[k] = r
    async with db.transaction() as s:
        s.add(GroupRow(id="BENCH", name="Bench group", presentation_currency="CNY", parent_company=entity_id(0),
                       created_at=now))
        await s.flush()
        s.add(GroupEntity(group_id="BENCH", company_id=entity_id(0), name="parent", functional_currency="CNY",
                          chart="cas", mapping_overrides={}, transaction_rate_accounts=[]))
        for sid in subs:
            s.add(GroupEntity(group_id="BENCH", company_id=sid, name=sid, functional_currency=ccy[sid], chart="cas",
                              mapping_overrides={}, transaction_rate_accounts=[], acquired_on=ACQ,
                              pct=Decimal(rnd.randint(60, 100)) / 100,
                              consideration=Decimal("3000000.00") * RATE[ccy[sid]] / RATE["USD"],
                              fv_net_assets=Decimal("5100000.00")))
        for cur in ("USD", "EUR"):
            base = RATE[cur]
            s.add(GroupRate(group_id="BENCH", rate_type="historical", currency=cur, key=ACQ.isoformat(), rate=base))
            s.add(GroupRate(group_id="BENCH", rate_type="closing", currency=cur, key=ACQ.isoformat(), rate=base))
            for m in range(1, 13):
                p = f"2026-{m:02d}"
                s.add(GroupRate(group_id="BENCH", rate_type="average", currency=cur, key=p,
                                rate=base + Decimal(m) / 100))
                s.add(GroupRate(group_id="BENCH", rate_type="closing", currency=cur,
                                key=dates.period_end(p).isoformat(), rate=base + Decimal(m) / 80))
        items = list(merged.values())
        for i in range(0, len(items), 5000):
            await bulk_insert(s, EntityBalance.__table__, items[i:i + 5000])
        for e in members:  # every entity closed 2026 except the parent's December
            for m in range(1, 13):
                if e != entity_id(0) or m < 12:
                    s.add(EntityPeriod(company_id=e, period=f"2026-{m:02d}", status="closed", closed_at=now))
    print(f"seeded {len(items):,} projection rows, {len(members)} entities, {len(pairs)} intercompany pairs")


async def measure_runs(db: Database, runs: int) -> None:
    whole, domain = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        async with db.transaction() as s:
            run = await consolidate_group(s, "BENCH", "2026-01", "2026-12", actor="bench", trigger="api",
                                          today=dt.date.today())
        whole.append(time.perf_counter() - t0)
    assert run.result["balance_sheet"]["balanced"]
    async with db.sessions() as s:
        _, group = await load_group(s, "BENCH")
        moves = await load_movements(s, [e.company_id for e in group.entities], dt.date(2026, 12, 31))
        rates = await load_rates(s, group)
        inventory = await load_inventory(s, "BENCH")
    for _ in range(runs):
        t0 = time.perf_counter()
        opening = consolidate(group, moves, rates, dt.date(2025, 12, 31), ic_inventory=inventory)
        closing = consolidate(group, moves, rates, dt.date(2026, 12, 31), ic_inventory=inventory)
        st.balance_sheet(closing), st.income_statement(opening, closing), st.changes_in_equity(opening, closing)
        domain.append(time.perf_counter() - t0)
    journals = len(run.result["journals"])
    print(f"run of {ENTITIES} entities x {ACCOUNTS} accounts x 12 months, {PAIRS} IC pairs ({journals} consolidation "
          f"journals, {len(run.result['mismatches'])} mismatched pairs):")
    print(f"  whole use case (PostgreSQL read + consolidate + store): median {statistics.median(whole):.3f} s "
          f"(min {min(whole):.3f}, max {max(whole):.3f}, n={runs})  target < 2 s")
    print(f"  domain only (two consolidations + statements):          median {statistics.median(domain):.3f} s "
          f"(min {min(domain):.3f}, max {max(domain):.3f}, n={runs})")


async def measure_latency(db: Database, settings: ConsolidationSettings, runs: int) -> None:
    from fincore.events import encode_record, new_envelope
    from fincore.kafka import make_producer

    consumer = build_consumers(settings, db)[0]
    await consumer.start()
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    producer = make_producer(settings, client_id="bench")
    await producer.start()
    out = []
    try:
        for i in range(runs + 1):  # the first one warms the consumer up (joins the group)
            async with db.transaction() as s:
                await s.execute(sa.delete(EntityPeriod).where(EntityPeriod.company_id == entity_id(0),
                                                              EntityPeriod.period == "2026-12"))
                before = (await s.execute(sa.select(sa.func.count()).select_from(Run).where(
                    Run.trigger == "period-closed"))).scalar_one()
            env = new_envelope(gl_events.PeriodClosed(company_id=entity_id(0), document_number=f"bench-{i}",
                                                      occurrence_date=dates.to_proto(dt.date(2026, 12, 31)),
                                                      period="2026-12", closed_by="bench"), source="gl")
            k, v, h = encode_record(env)
            t0 = time.perf_counter()
            await producer.send_and_wait(env.topic, key=k, value=v, headers=h)
            while True:
                async with db.sessions() as s:
                    n = (await s.execute(sa.select(sa.func.count()).select_from(Run).where(
                        Run.trigger == "period-closed"))).scalar_one()
                if n > before:
                    break
                if time.perf_counter() - t0 > 120:
                    raise AssertionError("no run 120 s after PeriodClosed")
                await asyncio.sleep(0.01)
            if i:
                out.append(time.perf_counter() - t0)
    finally:
        stop.set()
        await task
        await consumer.stop()
        await producer.stop()
    print(f"PeriodClosed published -> final run stored (consumer over the broker): median "
          f"{statistics.median(out):.3f} s (min {min(out):.3f}, max {max(out):.3f}, n={len(out)})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    log_dir = ROOT / ".run" / "bench" / f"consolidation-{time.strftime('%Y%m%d-%H%M%S')}"
    with start_infra(log_dir) as infra:
        os.environ.update(infra.env())
        url = infra.database_url("b_consol")
        migrate(MIGRATIONS, url)
        settings = ConsolidationSettings(database_url=url)

        async def go() -> None:
            db = Database(url)
            try:
                await seed(db)
                await measure_runs(db, args.runs)
                await measure_latency(db, settings, args.runs)
            finally:
                await db.dispose()

        asyncio.run(go())


if __name__ == "__main__":
    main()
