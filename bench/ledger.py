"""GL benchmarks on PostgreSQL: sustained posting from Kafka, and report times on a big ledger.

    .venv/bin/python bench/ledger.py                       # defaults below
    .venv/bin/python bench/ledger.py --preload-journals 333334 --events 60000 --consumers 1

1. Preload: the ledger is filled with `--preload-journals` 3-line journals over two years
   (SQL, with their period balances and balances per customer, by month and in total) and
   ANALYZEd, so the posting and the reports run against a ledger of realistic size
   (333,334 journals = 1,000,002 lines by default).
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
import collections
import datetime as dt
import os
import signal
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import httpx
import psycopg
from aiokafka import AIOKafkaProducer
from finance.ar.v1 import events_pb2 as ar
from fincore import dates, money
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
        # lines first: the journal's insert checks its balance against them (GL migration 0017)
        conn.execute("""
            INSERT INTO journal_line (journal_id, line_no, company_id, posting_date, account_code, debit, credit,
                                      currency, memo, customer, product, region)
            SELECT 'pre-' || g, l, %(c)s, date '2025-01-01' + (g %% 700),
                   CASE l WHEN 1 THEN '1122' WHEN 2 THEN '6001' ELSE '22210102' END,
                   CASE l WHEN 1 THEN 113 ELSE 0 END, CASE l WHEN 2 THEN 100 WHEN 3 THEN 13 ELSE 0 END,
                   'CNY', '', 'C' || (g %% 500), 'P' || (g %% 50), CASE g %% 3 WHEN 0 THEN 'EAST' ELSE 'WEST' END
            FROM generate_series(1, %(n)s) g, generate_series(1, 3) l""", {"c": COMPANY, "n": n})
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
        if conn.execute("SELECT to_regclass('counterparty_total')").fetchone()[0]:  # GL migration 0015 on
            conn.execute("""
            INSERT INTO counterparty_total (company_id, account_code, counterparty, currency, debit, credit, txn_amount)
            SELECT company_id, account_code, counterparty, currency, sum(debit), sum(credit), sum(txn_amount)
            FROM counterparty_balance WHERE company_id = %(c)s GROUP BY 1, 2, 3, 4""", {"c": COMPANY})
        # Their months' journal-number counters, as posting keeps them (the trial balance counts
        # whole months' journals from them).
        conn.execute("""
            INSERT INTO document_sequence (scope, last_value)
            SELECT 'journal:' || company_id || ':' || period, count(*) FROM journal WHERE company_id = %(c)s
            GROUP BY company_id, period
            ON CONFLICT (scope) DO UPDATE SET last_value = document_sequence.last_value + excluded.last_value""",
                     {"c": COMPANY})
        conn.commit()
        conn.autocommit = True
        # A ledger at rest has been vacuumed by autovacuum (PostgreSQL >= 13 also after inserts):
        # statistics, and the visibility map that lets counts read an index alone.
        conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - t


def records(n: int) -> list[tuple[str, bytes, bytes, list]]:
    """The events, encoded before any clock runs: (document, key, value, headers)."""
    m = lambda v: money.to_proto(Decimal(v), "CNY")  # noqa: E731
    out = []
    for i in range(n):
        msg = ar.InvoiceIssued(company_id=COMPANY, document_number=f"B-{i}", invoice_id=f"b-{i}",
                               customer_code=f"C{i % 500}", currency="CNY",
                               occurrence_date=dates.to_proto(dt.date(2026, 11, 1 + i % 28)),
                               net_total=m("100.00"), tax_total=m("13.00"), gross_total=m("113.00"))
        msg.lines.append(ar.InvoiceLine(line_no=1, item_code=f"P{i % 50}", net=m("100.00"), tax=m("13.00"),
                                        tax_code="VAT13"))
        key, value, headers = encode_record(new_envelope(msg, source="bench"))
        out.append((f"B-{i}", key, value, headers))
    return out


async def publish(bootstrap: str, recs: list, rate: float = 0.0) -> tuple[float, dict[str, float]]:
    """Publish `recs`, as fast as the producer goes (rate 0) or at `rate` events/s; returns
    the seconds it took and each document's send time (time.time())."""
    p = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5 if rate else 20,
                         max_batch_size=512 * 1024)
    await p.start()
    sent: dict[str, float] = {}
    t = time.perf_counter()
    try:
        futures = []
        for i, (doc, key, value, headers) in enumerate(recs):
            if rate:
                ahead = t + i / rate - time.perf_counter()
                if ahead > 0:
                    await asyncio.sleep(ahead)
            sent[doc] = time.time()
            futures.append(await p.send("finance.ar.events.v1", key=key, value=value, headers=headers))
        await asyncio.gather(*futures)
    finally:
        await p.stop()
    return time.perf_counter() - t, sent


class Progress:
    """Journals the consumers have committed, read on one connection (a connection per read
    would fork a backend every 0.1 s). `sequence` reads the period's journal-number counter
    (one row; numbers are gap-free and taken in the posting transaction, so the committed
    value is the committed count); `count` is the query this bench used before 2026-12-02 (a
    scan of the whole journal table every 0.1 s, ~20-50 ms of PostgreSQL CPU each on
    100k-333k preloaded journals, taken from the same 2 cores as the consumers)."""

    def __init__(self, url: str, how: str) -> None:
        self.conn = psycopg.connect(pg(url), autocommit=True)
        self.how = how
        # Made before the consumers start: the preload sets the month's counter to the preloaded
        # journals of the month (the trial balance counts whole months from the counters), so the
        # run's journals are the counter's rise from here. (Before this, a run began "at the first
        # journal" with the counter already at the preloaded 4,260: the consumers' start-up was
        # timed as ingest and the last 4,260 journals were not waited for.)
        self.base = 0
        self.base = self()

    def __call__(self) -> int:
        if self.how == "count":
            return self.conn.execute("SELECT count(*) FROM journal WHERE kind = 'event' AND id NOT LIKE 'pre-%%'"
                                     ).fetchone()[0]
        row = self.conn.execute("SELECT last_value FROM document_sequence WHERE scope = %s",
                                (f"journal:{COMPANY}:2026-11",)).fetchone()
        return (row[0] if row else 0) - self.base

    def pid(self) -> int:
        return self.conn.info.backend_pid

    def waits(self) -> list[str]:
        """What each consumer backend is doing now: 'lock' (waiting for a row another
        transaction holds: the company, the journal-number counter, a balance row), 'io',
        'active', 'client' (waiting for the consumer: its Python, or Kafka), 'idle'."""
        rows = self.conn.execute(
            "SELECT state, wait_event_type FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_type = 'client backend'").fetchall()
        out = []
        for state, wait in rows:
            if wait == "Lock":
                out.append("lock")
            elif wait == "IO":
                out.append("io")
            elif state == "active":
                out.append("active")
            elif state == "idle in transaction":
                out.append("client")
            else:
                out.append("idle")
        return out


def cpu_probe() -> float:
    """CPU milliseconds of a fixed Python workload (Decimal arithmetic and dicts, like posting):
    the same work takes longer when the machine is slower (its host busy, its clock lower),
    which no load average shows."""
    t = time.process_time()
    total = Decimal(0)
    for i in range(200_000):
        row = {"debit": Decimal(i % 1000) / 100, "account": str(i % 50)}
        total += row["debit"]
    return (time.process_time() - t) * 1000


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (/proc), in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pg_state(url: str) -> dict[str, float]:
    """Autovacuum/autoanalyze runs in the bench database, checkpoints of the cluster, and the
    CPU seconds of the database's backends so far (the consumers' connections)."""
    with psycopg.connect(pg(url)) as conn:
        av, aa = conn.execute("SELECT coalesce(sum(autovacuum_count), 0), coalesce(sum(autoanalyze_count), 0) "
                              "FROM pg_stat_user_tables").fetchone()
        ck = conn.execute("SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter").fetchone()[0]
        pids = [r[0] for r in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'").fetchall()]
    return {"autovacuum": float(av), "autoanalyze": float(aa), "checkpoints": float(ck),
            "backend_cpu": sum(cpu_seconds(p) for p in pids)}


def machine() -> tuple[dict[str, int], dict[int, tuple[str, float]]]:
    """/proc/stat's CPU time by state (user, system, idle, iowait, steal... in ticks) and
    every process's (command line, CPU seconds)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    names = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
    states = {n: int(v) for n, v in zip(names, fields, strict=False)}
    procs = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:200]
                procs[int(d.name)] = (cmd, cpu_seconds(int(d.name)))
            except OSError:
                continue
    return states, procs


def where_cpu_went(start, end, consumers: list[int], backends: list[int], broker_port: str,
                   bench: list[int]) -> dict[str, float]:
    """Of the machine's CPU time between two `machine()` snapshots, the share (%) of each:
    the consumers, their PostgreSQL backends, the rest of PostgreSQL, the broker, this bench
    (with its progress reads' backend),
    every other process, idle, iowait and steal (time the hypervisor gave to another guest)."""
    (s0, p0), (s1, p1) = start, end
    tick = os.sysconf("SC_CLK_TCK")
    total = sum(s1.values()) - sum(s0.values())
    out = {k: (s1[k] - s0[k]) / total * 100 for k in ("idle", "iowait", "steal")}
    groups = {"consumers": 0.0, "PG backends": 0.0, "PG other": 0.0, "broker": 0.0, "bench": 0.0, "others": 0.0}
    for pid, (cmd, cpu) in p1.items():
        used = cpu - p0.get(pid, (cmd, 0.0))[1]
        if used <= 0:
            continue
        if pid in consumers:
            g = "consumers"
        elif pid in backends:
            g = "PG backends"
        elif cmd.startswith("postgres"):
            g = "PG other"
        elif broker_port and broker_port in cmd:
            g = "broker"
        elif pid == os.getpid() or pid in bench:
            g = "bench"
        else:
            g = "others"
        groups[g] += used * tick
    out.update({g: v / total * 100 for g, v in groups.items()})
    out["unaccounted"] = 100 - sum(out.values())  # processes that exited meanwhile, the kernel's own work
    return out


def backend_pids(url: str) -> list[int]:
    with psycopg.connect(pg(url)) as conn:
        return [r[0] for r in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'").fetchall()]


# What the consumers' logs say about rebalances and retries (the causes of slow runs).
LOG_SIGNS = {"assignments": "partitions assigned", "commit failures": "offset commit failed",
             "one-by-one retries": "retrying one by one", "duplicate keys": "duplicate key",
             "database away": "the database went away"}


def log_signs(paths: list[Path]) -> dict[str, int]:
    text = "".join(p.read_text(errors="replace") for p in paths if p.exists())
    return {name: text.count(sign) for name, sign in LOG_SIGNS.items()}


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def one_run(args, log_dir: Path, reports: bool) -> dict:
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
        recs = records(args.events)
        sent: dict[str, float] = {}
        if not args.rate:
            secs, sent = asyncio.run(publish(infra.bootstrap_servers, recs))
            print(f"published {args.events:,} events in {secs:.1f}s")

        speed = statistics.median(cpu_probe() for _ in range(3))
        env = {**infra.env(), "GL_DATABASE_URL": url, "LOG_LEVEL": "INFO", "OTEL_TRACES_EXPORTER": "none",
               "GL_CONSUMER_MAX_RECORDS": str(args.max_records), "GL_POSTING_TOPICS": "finance.ar.events.v1"}
        consumers = [ServiceProcess(f"gl-consume-{i}", "gl", "consume", env, log_dir) for i in range(args.consumers)]
        vacuums = pg_state(url)
        progress = Progress(url, args.progress)  # before the consumers post anything
        for c in consumers:
            c.start(wait=False)
        spies = [subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--format", "raw",
                                   "--rate", "250", "--nonblocking", "-o", str(log_dir / f"{c.name}.pyspy.txt"),
                                   "--pid", str(c.proc.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
                 for c in consumers] if args.profile else []
        publisher = None
        if args.rate:  # consumers first (all in the group), then the load at a fixed rate
            deadline = time.monotonic() + 60
            while log_signs([c.log_path for c in consumers])["assignments"] < args.consumers:
                if time.monotonic() > deadline:
                    sys.exit("consumers did not join\n" + "\n".join(c.tail() for c in consumers))
                time.sleep(0.2)
            time.sleep(3)  # the group settles (the last join rebalances the others)
            import threading

            box: dict = {}
            publisher = threading.Thread(target=lambda: box.update(
                r=asyncio.run(publish(infra.bootstrap_servers, recs, args.rate))), daemon=True)
            publisher.start()
        load = [float(Path("/proc/loadavg").read_text().split()[0])]
        marks: dict[int, float] = {}
        first = None
        deadline = time.monotonic() + 1200
        polled = 0
        waits: collections.Counter = collections.Counter()
        cpu: dict[int, float] = {}
        try:
            while True:
                done = progress()
                now = time.perf_counter()
                if done and first is None:
                    # CPU from here on (start-up and the first transaction's imports are not ingest)
                    first, done0 = now, done
                    cpu0 = {c.proc.pid: cpu_seconds(c.proc.pid) for c in consumers}
                    before = pg_state(url)
                    snap0 = machine()
                for pct in (10, 90, 100):
                    if pct not in marks and done >= args.events * pct // 100:
                        marks[pct] = now
                if done >= args.events:
                    break
                if time.monotonic() > deadline or not all(c.running for c in consumers):
                    sys.exit(f"stopped at {done} journals\n" + "\n".join(c.tail() for c in consumers))
                polled += 1
                if first is not None:
                    waits.update(progress.waits())
                if polled % 10 == 0:
                    load.append(float(Path("/proc/loadavg").read_text().split()[0]))
                    cpu = {c.proc.pid: cpu_seconds(c.proc.pid) for c in consumers}
                time.sleep(0.1)
            cpu = {c.proc.pid: cpu_seconds(c.proc.pid) for c in consumers}
            snap1 = machine()
            after = pg_state(url)
            shares = where_cpu_went(snap0, snap1, list(cpu), [p for p in backend_pids(url) if p != progress.pid()],
                                    infra.bootstrap_servers.rsplit(":", 1)[-1], [progress.pid()])
            progress.conn.close()
        finally:
            for spy in spies:  # py-spy writes its profile on SIGINT
                spy.send_signal(signal.SIGINT)
                spy.wait(30)
            for c in consumers:
                c.stop()
        if publisher is not None:
            publisher.join()
            sent = box["r"][1]
        lines = 3 * args.events
        res = {"e2e": lines / (marks[100] - first), "steady": lines * 0.8 / (marks[90] - marks[10]),
               "load_start": load[0], "load_max": max(load),
               "consumer_cpu_us": (sum(cpu.values()) - sum(cpu0.values())) / (args.events - done0) * 1e6,
               "backend_cpu_us": (after["backend_cpu"] - before["backend_cpu"]) / (args.events - done0) * 1e6,
               **{k: int(after[k] - vacuums[k]) for k in ("autovacuum", "autoanalyze", "checkpoints")},
               **log_signs([c.log_path for c in consumers]), "cpu": shares, "speed": speed,
               "waits": {k: v / max(1, sum(waits.values())) * 100 for k, v in waits.most_common()}}
        if args.rate:
            with psycopg.connect(pg(url)) as conn:
                posted = conn.execute("SELECT source_document, extract(epoch FROM posted_at)::float8 FROM journal "
                                      "WHERE id NOT LIKE 'pre-%%'").fetchall()
            lags = [max(0.0, t - sent[doc]) * 1000 for doc, t in posted]
            res.update(lag_p50=percentile(lags, 0.5), lag_p95=percentile(lags, 0.95),
                       lag_p99=percentile(lags, 0.99), lag_max=max(lags),
                       achieved=args.events / (max(sent.values()) - min(sent.values())))
        if reports:
            run_reports(url, env, log_dir)
        return res


def main() -> None:
    ap_ = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap_.add_argument("--preload-journals", type=int, default=333_334)
    ap_.add_argument("--events", type=int, default=60_000)
    ap_.add_argument("--consumers", type=int, default=1)
    ap_.add_argument("--max-records", type=int, default=2000, help="records per poll (GL_CONSUMER_MAX_RECORDS)")
    ap_.add_argument("--runs", type=int, default=1, help="independent runs (each its own broker and database)")
    ap_.add_argument("--rate", type=float, default=0.0,
                     help="publish at this many events/s while the consumers run, and report event-to-journal "
                          "lag (default 0: publish everything first, then measure ingest)")
    ap_.add_argument("--no-reports", dest="reports", action="store_false", help="skip the report timings")
    ap_.add_argument("--profile", action="store_true",
                     help="py-spy each consumer (raw collapsed stacks in the run's log directory)")
    ap_.add_argument("--progress", choices=("sequence", "count"), default="sequence",
                     help="how progress is polled (count: the old full-table count, for comparison)")
    args = ap_.parse_args()
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    results = []
    for k in range(args.runs):
        log_dir = ROOT / ".run" / "bench" / f"ledger-{stamp}" / f"run-{k + 1}"
        r = one_run(args, log_dir, reports=args.reports and k == args.runs - 1)
        results.append(r)
        signs = ", ".join(f"{n} {r[n]}" for n in LOG_SIGNS if r[n])
        lag = (f"; lag p50/p95/p99/max {r['lag_p50']:.0f}/{r['lag_p95']:.0f}/{r['lag_p99']:.0f}/{r['lag_max']:.0f} ms"
               f" at {r['achieved']:,.0f} events/s" if args.rate else "")
        print(f"run {k + 1}: {r['e2e']:,.0f} lines/s first->last, {r['steady']:,.0f} steady (10%->90%); "
              f"load {r['load_start']:.2f} (max {r['load_max']:.2f}); "
              f"consumer CPU {r['consumer_cpu_us']:.0f} us/event, "
              f"PostgreSQL backends {r['backend_cpu_us']:.0f} us/event; autovacuum {r['autovacuum']}, "
              f"autoanalyze {r['autoanalyze']}, checkpoints {r['checkpoints']}; {signs}{lag}", flush=True)
        print("  machine's CPU while posting (%): " + ", ".join(f"{k} {v:.0f}" for k, v in r["cpu"].items()),
              flush=True)
        print("  consumers' database sessions, sampled every 0.1 s (%): "
              + ", ".join(f"{k} {v:.0f}" for k, v in r["waits"].items())
              + f"; CPU probe before the run {r['speed']:.0f} ms (a fixed Python workload: the machine's speed)",
              flush=True)
    e2e = [r["e2e"] for r in results]
    steady = [r["steady"] for r in results]
    print(f"ingest: {args.events:,} journals x 3 lines with {args.consumers} consumer(s) on {args.preload_journals:,} "
          f"preloaded journals, {args.runs} run(s): median {statistics.median(e2e):,.0f} lines/s first->last "
          f"({min(e2e):,.0f}-{max(e2e):,.0f}), steady {statistics.median(steady):,.0f} "
          f"({min(steady):,.0f}-{max(steady):,.0f}); load at start {min(r['load_start'] for r in results):.2f}-"
          f"{max(r['load_start'] for r in results):.2f}")
    if args.rate:
        for q in ("lag_p50", "lag_p95", "lag_p99"):
            vals = [r[q] for r in results]
            print(f"  {q}: median {statistics.median(vals):.0f} ms ({min(vals):.0f}-{max(vals):.0f})")


def run_reports(url: str, env: dict[str, str], log_dir: Path) -> None:
    from fincore.auth import ALL_SCOPES, mint_token  # here: older checkouts run this bench too

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
