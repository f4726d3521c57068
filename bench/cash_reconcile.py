"""Cash management benchmarks (issue 11), on PostgreSQL and the broker.

    .venv/bin/python bench/cash_reconcile.py [--lines 10000] [--runs 3] [--lag-runs 5]

1. Reconcile 10,000 statement lines against 10,000 open items, end to end through the import
   API (`python -m cashmgmt api`): one camt.053.001.08 file (about 12 MB) posted to
   `POST /v1/statements`; the clock runs from sending the file to the answer, which comes
   after the file is XSD-validated, parsed, checked (duplicates, continuity, sum), kept with
   its lines, and every line reconciled (decision, allocations, outbox events). The open items
   are 10,000 AR invoices of 1,000 customers, loaded as the documents consumer would have
   stored them; the lines pay them: 70% one-to-one by reference, 10% one line paying two
   invoices, 10% by amount and name without reference, 5% partial payments, 5% bank charges.
   Target: under 10 s.
2. Lag from the import to the GL bank line: a one-line statement (a bank charge) posted to the
   import API, with the cashmgmt relay and the GL's posting consumer running; the clock runs
   from sending the file until the GL's API shows the charge on the bank account.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import time
import uuid
from decimal import Decimal
from pathlib import Path

import httpx
import psycopg
from cashmgmt.adapters import bankfiles
from cashmgmt.bootstrap import MIGRATIONS as CASH_MIGRATIONS
from cashmgmt.domain.statements import ParsedLine, ParsedStatement
from fincore.auth import ALL_SCOPES, mint_token
from fincore.db import migrate
from fincore.settings import ServiceSettings
from fincore.testing import ServiceProcess, free_port, start_infra
from gl.bootstrap import MIGRATIONS as GL_MIGRATIONS

ROOT = Path(__file__).resolve().parents[1]
TOKEN = mint_token(ServiceSettings(), subject="bench", scopes=ALL_SCOPES, companies=["*"])
H = {"Authorization": f"Bearer {TOKEN}"}
D0 = dt.date(2026, 11, 1)


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def seed(cash_db: str, company: str, n: int, rng: random.Random) -> list[ParsedLine]:
    """n open invoices (as the documents consumer stores them) and the statement lines paying them."""
    customers = [f"K{i:04d}" for i in range(max(1, n // 10))]
    items, lines = [], []
    for i in range(n):
        cust = customers[i % len(customers)]
        amount = Decimal(rng.randrange(1000, 500000)) / 100
        items.append((company, f"ar_invoice:{company}-{i}", "ar_invoice", f"{company}-{i}", f"INV-{i:07d}", cust,
                      "CNY", amount, amount, True, D0 + dt.timedelta(days=i % 28), "[]", "", dt.datetime.now(dt.UTC)))
    with psycopg.connect(libpq(cash_db)) as conn, conn.cursor() as cur:
        with cur.copy("COPY cash_open_item (company_id, key, kind, document_id, number, party, currency, amount, "
                      "open, is_open, item_date, \"references\", bank_account, updated_at) FROM STDIN") as copy:
            for row in items:
                copy.write_row(row)
        with cur.copy("COPY cash_party (company_id, code, kind, name, ibans) FROM STDIN") as copy:
            for c in customers:
                copy.write_row((company, c, "customer", f"Customer {c} Trading", "[]"))
    i = 0
    while i < n:
        day = D0 + dt.timedelta(days=(i % 28) + 1)
        kind = rng.random()
        _, _, _, _, num, cust, _, amount, *_ = items[i]
        name = f"Customer {cust} Trading"
        if kind < 0.10 and i + 1 < n and items[i + 1][5] == cust:  # one line, two invoices
            amount2, num2 = items[i + 1][7], items[i + 1][4]
            lines.append(ParsedLine(day, day, amount + amount2, f"{num} {num2}", name, "", "Invoices", f"B{i}", "RCDT"))
            i += 2
            continue
        if kind < 0.20:  # no reference: amount and name
            lines.append(ParsedLine(day, day, amount, "", name, "", "Payment", f"B{i}", "RCDT"))
        elif kind < 0.25:  # partial
            lines.append(ParsedLine(day, day, (amount / 2).quantize(Decimal("0.01")), num, name, "", "Part",
                                    f"B{i}", "RCDT"))
        elif kind < 0.30:  # a bank charge
            lines.append(ParsedLine(day, day, -Decimal(rng.randrange(100, 5000)) / 100, "", "", "", "Fee", f"B{i}",
                                    "CHRG"))
        else:
            lines.append(ParsedLine(day, day, amount, num, name, "", f"Invoice {num}", f"B{i}", "RCDT"))
        i += 1
    return lines


def reconcile_runs(infra, log_dir: Path, n: int, runs: int) -> list[float]:
    cash_db = infra.database_url("bench_cash")
    migrate(CASH_MIGRATIONS, cash_db)
    port = free_port()
    env = {**infra.env(), "CASHMGMT_DATABASE_URL": cash_db, "CASHMGMT_HTTP_PORT": str(port), "LOG_LEVEL": "WARNING"}
    api = ServiceProcess("cashmgmt-api", "cashmgmt", "api", env, log_dir,
                         ready_url=f"http://127.0.0.1:{port}/healthz").start()
    out = []
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=H, timeout=600) as http:
            for run in range(runs):
                rng = random.Random(run)
                company = f"BENCH-{uuid.uuid4().hex[:6]}"
                r = http.post("/v1/bank-accounts", json={
                    "company_id": company, "code": "BANK-1", "name": "Main", "currency": "CNY",
                    "account_number": f"{run}{uuid.uuid4().int % 10**12}", "gl_account": "1002",
                    "opened_on": "2026-11-01"})
                assert r.status_code == 201, r.text
                lines = seed(cash_db, company, n, rng)
                total = sum((ln.amount for ln in lines), Decimal(0))
                st = ParsedStatement("any", f"{company}-11", "CNY", Decimal("0.00"), total, D0, D0 + dt.timedelta(29),
                                     tuple(lines), account_number=r.json()["account_number"])
                body = bankfiles.write_camt053(st)
                t0 = time.perf_counter()
                r = http.post("/v1/statements", params={"company": company}, content=body)
                took = time.perf_counter() - t0
                assert r.status_code == 201, r.text[:2000]
                got = r.json()["reconciliation"]
                print(f"  run {run + 1}: {len(lines)} lines ({len(body) / 1e6:.1f} MB) against {n} open items: "
                      f"{took:.2f} s (load {os.getloadavg()[0]:.2f})  {got}")
                out.append(took)
    finally:
        api.stop()
    return out


def lag_runs(infra, log_dir: Path, runs: int) -> list[float]:
    cash_db, gl_db = infra.database_url("bench_lag_cash"), infra.database_url("bench_lag_gl")
    migrate(CASH_MIGRATIONS, cash_db)
    migrate(GL_MIGRATIONS, gl_db)
    cport, gport = free_port(), free_port()
    env = {**infra.env(), "CASHMGMT_DATABASE_URL": cash_db, "CASHMGMT_HTTP_PORT": str(cport), "GL_DATABASE_URL": gl_db,
           "GL_HTTP_PORT": str(gport), "LOG_LEVEL": "WARNING", "CASHMGMT_METRICS_PORT": str(free_port()),
           "GL_METRICS_PORT": str(free_port())}
    procs = [ServiceProcess("cashmgmt-api", "cashmgmt", "api", env, log_dir,
                            ready_url=f"http://127.0.0.1:{cport}/healthz"),
             ServiceProcess("cashmgmt-relay", "cashmgmt", "relay", {**env, "LOG_LEVEL": "INFO"}, log_dir,
                            ready_log="outbox relay publishing"),
             ServiceProcess("gl-api", "gl", "api", env, log_dir, ready_url=f"http://127.0.0.1:{gport}/healthz"),
             ServiceProcess("gl-consume", "gl", "consume", {**env, "LOG_LEVEL": "INFO"}, log_dir,
                            ready_log="consumer gl-posting reading")]
    out = []
    try:
        for p in procs:
            p.start()
        with httpx.Client(headers=H, timeout=60) as http:
            company = f"LAG-{uuid.uuid4().hex[:6]}"
            assert http.post(f"http://127.0.0.1:{gport}/v1/companies", json={
                "id": company, "name": company, "functional_currency": "CNY"}).status_code == 201
            r = http.post(f"http://127.0.0.1:{cport}/v1/bank-accounts", json={
                "company_id": company, "code": "BANK-1", "name": "Main", "currency": "CNY",
                "account_number": "62220000111", "gl_account": "1002", "opened_on": "2026-11-01"})
            assert r.status_code == 201, r.text
            balance = Decimal("0.00")
            for run in range(runs + 1):  # the first run warms the consumer's group join up
                fee = Decimal(10 + run)
                day = D0 + dt.timedelta(days=run)
                st = ParsedStatement("any", f"LAG-{run}", "CNY", balance, balance - fee, day, day,
                                     (ParsedLine(day, day, -fee, "", "", "", "Fee", f"F{run}", "CHRG"),),
                                     account_number="62220000111")
                balance -= fee
                t0 = time.perf_counter()
                r = http.post(f"http://127.0.0.1:{cport}/v1/statements", params={"company": company},
                              content=bankfiles.write_camt053(st))
                assert r.status_code == 201, r.text
                deadline = time.monotonic() + 120
                while True:
                    tb = http.get(f"http://127.0.0.1:{gport}/v1/trial-balance",
                                  params={"company": company, "as_of": "2026-12-31"}).json()
                    bank = next((ln for ln in tb["lines"] if ln["account"] == "1002"), None)
                    if bank and Decimal(bank["credit_balance"]) - Decimal(bank["debit_balance"]) == -balance:
                        break
                    if time.monotonic() > deadline:
                        raise AssertionError("the charge never reached the GL")
                    time.sleep(0.01)
                took = time.perf_counter() - t0
                if run:
                    out.append(took)
                    print(f"  run {run}: import -> GL bank line {took * 1000:.0f} ms (load {os.getloadavg()[0]:.2f})")
    finally:
        for p in reversed(procs):
            p.stop()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--lag-runs", type=int, default=5)
    args = ap.parse_args()
    log_dir = ROOT / ".run" / "bench" / dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    log_dir.mkdir(parents=True, exist_ok=True)
    with start_infra(log_dir) as infra:
        print(f"1. import + reconcile {args.lines} lines against {args.lines} open items (target < 10 s)")
        times = reconcile_runs(infra, log_dir, args.lines, args.runs)
        print(f"   median {statistics.median(times):.2f} s (runs: {', '.join(f'{t:.2f}' for t in times)})")
        print("2. lag: statement import -> GL bank line")
        lags = lag_runs(infra, log_dir, args.lag_runs)
        print(f"   median {statistics.median(lags) * 1000:.0f} ms (min {min(lags) * 1000:.0f}, "
              f"max {max(lags) * 1000:.0f})")


if __name__ == "__main__":
    main()
