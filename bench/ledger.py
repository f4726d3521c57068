"""GL benchmarks on PostgreSQL: sustained posting from Kafka, and report times on a big ledger.

    .venv/bin/python bench/ledger.py                       # defaults below
    .venv/bin/python bench/ledger.py --preload-journals 333334 --events 60000 --consumers 1

1. Preload: the ledger is filled with `--preload-journals` 3-line journals over two years
   (SQL, with their period balances and balances per customer) and ANALYZEd, so the posting and the reports run
   against a ledger of realistic size (333,334 journals = 1,000,002 lines by default).
2. Ingest: `--events` InvoiceIssued events of one line each (a 3-line journal each) are
   published to finance.ar.events.v1 first; then `--consumers` GL posting processes
   (`python -m gl consume`, as in production) start, and the clock runs from the first
   committed journal to the last. Reported: journal lines/s, end to end and steady (10%->90%).
3. Reports: GET /v1/trial-balance (month end: period balances; mid-month: plus lines),
   a dimension-filtered trial balance (lines only), and the income statement for a year,
   through the HTTP API of a running GL (`python -m gl api`), median of 7 calls each.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

import httpx
import psycopg
from aiokafka import AIOKafkaProducer
from finance.ar.v1 import events_pb2 as ar
from fincore import dates, money
from fincore.auth import ALL_SCOPES, mint_token
from fincore.db import Database, migrate
from fincore.events import encode_record, new_envelope
from fincore.kafka import ensure_topics
from fincore.settings import ServiceSettings
from fincore.testing import ServiceProcess, free_port, start_infra
from gl.bootstrap import MIGRATIONS
from gl.service.posting import create_company

ROOT = Path(__file__).resolve().parents[1]
COMPANY = "BENCH"


def pg(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def preload(url: str, n: int) -> float:
    t = time.perf_counter()
    with psycopg.connect(pg(url)) as conn:
        conn.execute("""
            INSERT INTO journal (id, company_id, number, posting_date, period, currency, description, total_debit,
                                 total_credit, source_event_id, source_event_type, source_document, rule_id,
                                 rule_version, trace_id, posted_at, kind, posted_by)
            SELECT 'pre-' || g, %(c)s, 'PRE-' || g, d, to_char(d, 'YYYY-MM'), 'CNY', 'preloaded sale', 113, 113,
                   'pre-ev-' || g, 'finance.ar.InvoiceIssued.v1', 'PRE-' || g, 'ar.invoice_issued', 1, '', now(),
                   'event', 'bench'
            FROM generate_series(1, %(n)s) g, LATERAL (SELECT date '2025-01-01' + (g %% 700) AS d) x""",
                     {"c": COMPANY, "n": n})
        conn.execute("""
            INSERT INTO journal_line (journal_id, line_no, company_id, posting_date, account_code, debit, credit,
                                      currency, memo, customer, product, region)
            SELECT 'pre-' || g, l, %(c)s, date '2025-01-01' + (g %% 700),
                   CASE l WHEN 1 THEN '1122' WHEN 2 THEN '6001' ELSE '22210102' END,
                   CASE l WHEN 1 THEN 113 ELSE 0 END, CASE l WHEN 2 THEN 100 WHEN 3 THEN 13 ELSE 0 END,
                   'CNY', '', 'C' || (g %% 500), 'P' || (g %% 50), CASE g %% 3 WHEN 0 THEN 'EAST' ELSE 'WEST' END
            FROM generate_series(1, %(n)s) g, generate_series(1, 3) l""", {"c": COMPANY, "n": n})
        conn.execute("""
            INSERT INTO period_balance (company_id, account_code, period, debit, credit)
            SELECT company_id, account_code, to_char(posting_date, 'YYYY-MM'), sum(debit), sum(credit)
            FROM journal_line WHERE company_id = %(c)s GROUP BY 1, 2, 3""", {"c": COMPANY})
        if conn.execute("SELECT to_regclass('counterparty_balance')").fetchone()[0]:  # GL migration 0014 on
            conn.execute("""
            INSERT INTO counterparty_balance (company_id, account_code, counterparty, currency, period, debit, credit,
                                              txn_amount)
            SELECT company_id, account_code, customer, txn_currency, to_char(posting_date, 'YYYY-MM'), sum(debit),
                   sum(credit), sum(txn_amount)
            FROM journal_line WHERE company_id = %(c)s AND account_code = '1122' GROUP BY 1, 2, 3, 4, 5""",
                         {"c": COMPANY})
        conn.commit()
        conn.autocommit = True
        # A ledger at rest has been vacuumed by autovacuum (PostgreSQL >= 13 also after inserts):
        # statistics, and the visibility map that lets counts read an index alone.
        conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - t


async def publish(bootstrap: str, n: int) -> float:
    m = lambda v: money.to_proto(Decimal(v), "CNY")  # noqa: E731
    p = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20, max_batch_size=512 * 1024)
    await p.start()
    t = time.perf_counter()
    try:
        futures = []
        for i in range(n):
            msg = ar.InvoiceIssued(company_id=COMPANY, document_number=f"B-{i}", invoice_id=f"b-{i}",
                                   customer_code=f"C{i % 500}", currency="CNY",
                                   occurrence_date=dates.to_proto(dt.date(2026, 11, 1 + i % 28)),
                                   net_total=m("100.00"), tax_total=m("13.00"), gross_total=m("113.00"))
            msg.lines.append(ar.InvoiceLine(line_no=1, item_code=f"P{i % 50}", net=m("100.00"), tax=m("13.00"),
                                            tax_code="VAT13"))
            key, value, headers = encode_record(new_envelope(msg, source="bench"))
            futures.append(await p.send("finance.ar.events.v1", key=key, value=value, headers=headers))
        await asyncio.gather(*futures)
    finally:
        await p.stop()
    return time.perf_counter() - t


def count(url: str) -> int:
    with psycopg.connect(pg(url)) as conn:
        return conn.execute("SELECT count(*) FROM journal WHERE kind = 'event' AND id NOT LIKE 'pre-%%'").fetchone()[0]


def main() -> None:
    ap_ = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap_.add_argument("--preload-journals", type=int, default=333_334)
    ap_.add_argument("--events", type=int, default=60_000)
    ap_.add_argument("--consumers", type=int, default=1)
    ap_.add_argument("--max-records", type=int, default=2000, help="records per poll (GL_CONSUMER_MAX_RECORDS)")
    args = ap_.parse_args()
    log_dir = ROOT / ".run" / "bench" / ("ledger-" + dt.datetime.now().strftime("%Y%m%d-%H%M%S"))
    with start_infra(log_dir) as infra:
        url = infra.database_url("bench_gl")
        migrate(MIGRATIONS, url)

        async def setup():
            db = Database(url)
            async with db.transaction() as s:
                await create_company(s, company_id=COMPANY, name="Bench", functional_currency="CNY",
                                     chart_template="cas")
            await db.dispose()
            await ensure_topics(ServiceSettings(service_name="bench", kafka_bootstrap_servers=infra.bootstrap_servers),
                                ["finance.ar.events.v1"])

        asyncio.run(setup())
        secs = preload(url, args.preload_journals)
        print(f"preloaded {args.preload_journals:,} journals ({3 * args.preload_journals:,} lines) in {secs:.0f}s")
        secs = asyncio.run(publish(infra.bootstrap_servers, args.events))
        print(f"published {args.events:,} events in {secs:.1f}s")

        env = {**infra.env(), "GL_DATABASE_URL": url, "LOG_LEVEL": "INFO", "OTEL_TRACES_EXPORTER": "none",
               "GL_CONSUMER_MAX_RECORDS": str(args.max_records), "GL_POSTING_TOPICS": "finance.ar.events.v1"}
        consumers = [ServiceProcess(f"gl-consume-{i}", "gl", "consume", env, log_dir) for i in range(args.consumers)]
        for c in consumers:
            c.start(wait=False)
        marks: dict[int, float] = {}
        first = None
        deadline = time.monotonic() + 1200
        try:
            while True:
                done = count(url)
                now = time.perf_counter()
                if done and first is None:
                    first = now
                for pct in (10, 90, 100):
                    if pct not in marks and done >= args.events * pct // 100:
                        marks[pct] = now
                if done >= args.events:
                    break
                if time.monotonic() > deadline or not all(c.running for c in consumers):
                    sys.exit(f"stopped at {done} journals\n" + "\n".join(c.tail() for c in consumers))
                time.sleep(0.1)
        finally:
            for c in consumers:
                c.stop()
        lines = 3 * args.events
        e2e = lines / (marks[100] - first)
        steady = lines * 0.8 / (marks[90] - marks[10])
        print(f"ingest: {args.events:,} journals x 3 lines with {args.consumers} consumer(s): "
              f"{e2e:,.0f} lines/s first->last journal, {steady:,.0f} lines/s steady (10%->90%)")

        port = free_port()
        api = ServiceProcess("gl-api", "gl", "api", {**env, "GL_HTTP_PORT": str(port)}, log_dir,
                             ready_url=f"http://127.0.0.1:{port}/readyz").start()
        token = mint_token(ServiceSettings(), subject="bench", scopes=ALL_SCOPES, companies=["*"])
        base = f"http://127.0.0.1:{port}/v1"
        cases = {
            "trial balance, month end": ("/trial-balance", {"company": COMPANY, "as_of": "2026-11-30"}),
            "trial balance, mid-month": ("/trial-balance", {"company": COMPANY, "as_of": "2026-11-15",
                                                            "from": "2026-01-01"}),
            "trial balance, region=EAST (lines)": ("/trial-balance", {"company": COMPANY, "as_of": "2026-11-30",
                                                                      "region": "EAST"}),
            "income statement, 2025": ("/statements/income-statement", {"company": COMPANY, "from": "2025-01-01",
                                                                       "to": "2025-12-31"}),
            "balance sheet": ("/statements/balance-sheet", {"company": COMPANY, "as_of": "2026-11-30"}),
        }
        try:
            with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=120) as h:
                n_lines = None
                for name, (path, params) in cases.items():
                    times = []
                    for _ in range(7):
                        t = time.perf_counter()
                        r = h.get(base + path, params=params)
                        times.append(time.perf_counter() - t)
                        r.raise_for_status()
                    if n_lines is None:
                        with psycopg.connect(pg(url)) as conn:
                            n_lines = conn.execute("SELECT count(*) FROM journal_line").fetchone()[0]
                        print(f"reports over {n_lines:,} journal lines (median of 7 calls):")
                    print(f"  {name:<38} {statistics.median(times) * 1000:8.1f} ms")
        finally:
            api.stop()


if __name__ == "__main__":
    main()
