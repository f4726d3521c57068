"""What the posting consumer reads per company, read for a whole batch at once
(`posting.read_companies`, called by `Poster.before_batch` once per transaction) must be what reading
the companies one at a time gives: closed periods, blocked accounts and bank accounts' sub-accounts.

Known answers, three companies: A has 2026-10 closed, account 1122 blocked and bank accounts
BOC-1 -> 100201 and ICBC-2 -> 100202; B has bank account CMB-1 -> 100203 and nothing closed or
blocked; C has nothing. Run on PostgreSQL (the statement compiled once, with an array of
companies) and on SQLite (the same statement with IN)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import sqlalchemy as sa
from fincore.db import Database, migrate
from fincore.testing.rowlocks import scratch_url
from gl.adapters.tables import Account, BankAccountMap
from gl.bootstrap import MIGRATIONS
from gl.service import banks
from gl.service.posting import close_period, create_company, read_companies

pytestmark = pytest.mark.integration


@pytest.fixture(params=["postgresql", "sqlite"])
def db_url(request, tmp_path):
    with scratch_url(request.param, tmp_path, "t_glbatch") as url:
        yield url


def test_one_reading_per_batch_gives_what_each_company_reads(db_url):
    async def go():
        migrate(MIGRATIONS, db_url)
        db = Database(db_url)
        a, b, c = (f"{x}{uuid.uuid4().hex[:6]}" for x in "ABC")
        async with db.transaction() as s:
            for co in (a, b, c):
                await create_company(s, company_id=co, name=co, functional_currency="CNY", chart_template="cas")
            await close_period(s, company_id=a, period="2026-10", actor="alice", reason="month end")
            await s.execute(sa.update(Account).where(Account.company_id == a, Account.code == "1122")
                            .values(active=False))
            for co, code, account in ((a, "BOC-1", "100201"), (a, "ICBC-2", "100202"), (b, "CMB-1", "100203")):
                s.add(BankAccountMap(company_id=co, code=code, gl_account=account, currency="CNY"))
        one_by_one = {}
        for co in (a, b, c):  # a company at a time, each in a session of its own
            async with db.sessions() as s:
                await read_companies(s, {co})
                one_by_one[co] = (s.info["gl.closed_periods"][co], s.info["gl.blocked_accounts"][co])
            async with db.sessions() as s:  # the bank accounts' own per-company reading
                one_by_one[co] += (await banks.bank_accounts(s, co),)
        async with db.sessions() as s:
            await read_companies(s, {a, b, c})
            batch = {co: (s.info["gl.closed_periods"][co], s.info["gl.blocked_accounts"][co],
                          s.info[banks.CACHE][co]) for co in (a, b, c)}
            cached = await banks.bank_accounts(s, a)  # answered from the batch's reading
        await db.dispose()
        return one_by_one, batch, cached, (a, b, c)

    one_by_one, batch, cached, (a, b, c) = asyncio.run(go())
    assert batch == one_by_one
    assert batch[a] == ({"2026-10"}, {"1122"}, {"BOC-1": "100201", "ICBC-2": "100202"})
    assert batch[b] == (set(), set(), {"CMB-1": "100203"})
    assert batch[c] == (set(), set(), {})
    assert cached == {"BOC-1": "100201", "ICBC-2": "100202"}
