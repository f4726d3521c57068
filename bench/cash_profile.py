"""Profile of the statement import in process (cProfile): 10,000 camt.053 lines against
10,000 open items, import_file + reconcile on a fresh PostgreSQL database (no HTTP), as used
to find where bench/cash_reconcile.py's time goes. Run under /work/notes/e2e-slot:

    .venv/bin/python bench/cash_profile.py [LINES]
"""
import asyncio
import cProfile
import datetime as dt
import pstats
import random
import sys
import time
import uuid
from decimal import Decimal

import psycopg

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
import cash_reconcile as B
from cashmgmt.adapters import bankfiles
from cashmgmt.bootstrap import MIGRATIONS
from cashmgmt.domain.reconcile import load_rules
from cashmgmt.domain.statements import ParsedStatement
from cashmgmt.service.accounts import open_account
from cashmgmt.service.reconciliation import reconcile
from cashmgmt.service.statements import import_file
from fincore.db import Database, migrate

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def main() -> None:
    name = f"prof_cash_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(ADMIN, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    try:
        migrate(MIGRATIONS, url)
        company = "PROF"
        async def setup():
            db = Database(url)
            async with db.transaction() as s:
                await open_account(s, company_id=company, code="BANK-1", name="M", currency="CNY", iban="", bic="",
                                       account_number="6222000011", gl_account="1002", opened_on=dt.date(2026, 11, 1))
            await db.engine.dispose()
        asyncio.run(setup())
        lines = B.seed(url, company, int(sys.argv[1]) if len(sys.argv) > 1 else 10000, random.Random(0))
        total = sum((ln.amount for ln in lines), Decimal(0))
        st = ParsedStatement("any", "S-11", "CNY", Decimal("0.00"), total, B.D0, B.D0 + dt.timedelta(29), tuple(lines),
                             account_number="6222000011")
        body = bankfiles.write_camt053(st)
        rules = load_rules()
        async def run():
            db = Database(url)
            t = time.perf_counter()
            async with db.transaction() as s:
                rows = await import_file(s, company_id=company, data=body, imported_by="p")
                t1 = time.perf_counter()
                summary = await reconcile(s, company, rules, statement_ids=[x.id for x in rows])
                t2 = time.perf_counter()
            t3 = time.perf_counter()
            print(f"import {t1-t:.2f}s reconcile {t2-t1:.2f}s commit {t3-t2:.2f}s", summary)
            await db.engine.dispose()
        prof = cProfile.Profile()
        prof.runcall(asyncio.run, run())
        p = pstats.Stats(prof)
        p.sort_stats("cumulative").print_stats(40)
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
