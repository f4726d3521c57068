"""Throughput from the AR outbox to committed GL journals, on PostgreSQL and the real broker.

    make bench                                   # 10k invoices, 3 runs
    .venv/bin/python bench/outbox_to_gl.py --invoices 10000 --runs 3

Each run: a fresh broker (with KAFKA_BOOTSTRAP_SERVERS, the same cluster: then use --runs 1),
fresh AR and GL databases (migrated), a company in the GL, N invoices issued through AR's
use case (invoice + lines + InvoiceIssued outbox row, one transaction per block of 200)
while no relay runs. Then the AR relay and the GL posting consumer start as the same
processes production runs, and the clock runs until the GL has committed N journals.
Reported: end-to-end events/s (relay start -> last journal committed; the consumer has
joined its group before) and steady-state events/s (10% -> 90% of journals). Medians over
the runs."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

import psycopg
from ar.bootstrap import MIGRATIONS as AR_MIGRATIONS
from ar.domain.invoice import LineInput
from ar.service.invoicing import issue_invoice
from ar.service.orders import upsert_customer
from fincore.db import Database, migrate
from fincore.testing import ServiceProcess, start_infra
from gl.bootstrap import MIGRATIONS as GL_MIGRATIONS
from gl.service.posting import create_company

ROOT = Path(__file__).resolve().parents[1]


async def seed(ar_url: str, gl_url: str, company: str, n: int) -> None:
    gl = Database(gl_url)
    async with gl.transaction() as s:
        await create_company(s, company_id=company, name="Bench", functional_currency="CNY", chart_template="cas")
    await gl.dispose()
    ar = Database(ar_url)
    async with ar.transaction() as s:
        for c in range(50):
            await upsert_customer(s, company_id=company, code=f"C{c}", name=f"C{c}", customer_group="",
                                  currency="CNY", payment_terms_days=30, credit_limit=Decimal(0),
                                  credit_policy="block", intercompany_partner="")
    for start in range(0, n, 200):
        async with ar.transaction() as s:
            for i in range(start, min(n, start + 200)):
                await issue_invoice(
                    s, company_id=company, customer_code=f"C{i % 50}", customer_group="", currency="CNY",
                    issue_date=dt.date(2026, 11, 1 + i % 28), due_date=None,
                    lines=[LineInput("Widget", Decimal(1 + i % 5), Decimal("99.90"), "VAT13", item_code=f"P{i % 9}"),
                           LineInput("Service", Decimal(1), Decimal("12.50"), "VAT6")])
    await ar.dispose()


def count(url: str, sql: str) -> int:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        return conn.execute(sql).fetchone()[0]


def one_run(infra, log_dir: Path, n: int, run: int) -> tuple[float, float]:
    ar_url, gl_url = infra.database_url(f"bench_ar_{run}"), infra.database_url(f"bench_gl_{run}")
    migrate(AR_MIGRATIONS, ar_url)
    migrate(GL_MIGRATIONS, gl_url)
    company = f"BENCH{run}"
    t = time.perf_counter()
    asyncio.run(seed(ar_url, gl_url, company, n))
    print(f"  run {run}: seeded {n} invoices in {time.perf_counter() - t:.1f}s", flush=True)
    env = {**infra.env(), "AR_DATABASE_URL": ar_url, "GL_DATABASE_URL": gl_url,
           "GL_POSTING_GROUP": f"gl-posting-bench-{run}", "LOG_LEVEL": "INFO", "OTEL_TRACES_EXPORTER": "none"}
    consumer = ServiceProcess(f"bench-gl-consume-{run}", "gl", "consume", env, log_dir)
    relay = ServiceProcess(f"bench-ar-relay-{run}", "ar", "relay", env, log_dir)
    try:
        consumer.ready_log = "partitions assigned"
        consumer.start(wait=True, timeout=120)  # joined its group: the clock measures work, not the join
        t0 = time.perf_counter()
        relay.start(wait=False)
        marks: dict[int, float] = {}
        while True:
            done = count(gl_url, "SELECT count(*) FROM journal")
            now = time.perf_counter()
            for pct in (10, 90, 100):
                if pct not in marks and done >= n * pct // 100:
                    marks[pct] = now
            if done >= n:
                break
            if not (consumer.running and relay.running):
                sys.exit(f"a process died:\n{consumer.tail()}\n{relay.tail()}")
            if now - t0 > 600:
                sys.exit(f"only {done} of {n} journals after 600s")
            time.sleep(0.05)
    finally:
        relay.stop()
        consumer.stop()
    assert count(gl_url, "SELECT count(DISTINCT source_event_id) FROM journal") == n
    end_to_end = n / (marks[100] - t0)
    steady = (n * 0.8) / (marks[90] - marks[10])
    print(f"  run {run}: end-to-end {end_to_end:,.0f} events/s ({marks[100] - t0:.1f}s), "
          f"steady state {steady:,.0f} events/s", flush=True)
    return end_to_end, steady


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--invoices", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    log_dir = ROOT / ".run" / "bench" / dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    results = []
    for r in range(1, args.runs + 1):
        with start_infra(log_dir / f"run{r}") as infra:  # a fresh broker per run: topics start empty
            print(f"run {r}: broker {infra.source} {infra.bootstrap_servers}; PostgreSQL {infra.pg_admin_url}")
            results.append(one_run(infra, log_dir, args.invoices, r))
    e2e = statistics.median(r[0] for r in results)
    steady = statistics.median(r[1] for r in results)
    print(f"\n{args.invoices} invoices x {args.runs} runs: median end-to-end {e2e:,.0f} events/s, "
          f"median steady state {steady:,.0f} events/s (AR outbox -> committed GL journals)")


if __name__ == "__main__":
    main()
