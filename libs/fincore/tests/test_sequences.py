"""Gap-free numbers (fincore.sequences): `allocate_many` bumps several counters in one statement
and must number exactly as `allocate` one scope at a time would, including a scope it has never
seen, a rolled-back block (its numbers are taken again) and a second transaction that waited for
the first's counter rows (it numbers after the block the first committed, never inside it).

Known answers: "a" has 3 numbers taken (1-3). allocate_many {a: 2, b: 5, c: 1} (b and c new)
gives a 4, b 1, c 1. A rolled-back {a: 1, b: 1} leaves them; the next {a: 1, b: 1} gives a 6,
b 6. T1 takes {a: 2, b: 2} (7-8, 7-8) and holds them; T2 asks {a: 1, b: 1}, waits, and after
T1 commits gets a 9, b 9. PostgreSQL (the one-statement path); SQLite takes them one by one."""

from __future__ import annotations

import asyncio

import pytest
from fincore.db import Database
from fincore.sequences import DocumentSequence, allocate, allocate_many
from fincore.testing.rowlocks import scratch_url, waiting_for_a_row_lock

pytestmark = pytest.mark.integration


@pytest.fixture(params=["postgresql", "sqlite"])
def db_url(request, tmp_path):
    with scratch_url(request.param, tmp_path, "t_seq") as url:
        yield url


def test_allocate_many_numbers_as_allocate_would(db_url):
    async def go():
        db = Database(db_url)
        async with db.engine.begin() as conn:
            await conn.run_sync(DocumentSequence.__table__.create)
        async with db.transaction() as s:
            assert await allocate(s, "a", 3) == 1
        async with db.transaction() as s:
            assert await allocate_many(s, {"a": 2, "b": 5, "c": 1}) == {"a": 4, "b": 1, "c": 1}

        class Undo(Exception):
            pass

        with pytest.raises(Undo):
            async with db.transaction() as s:
                assert await allocate_many(s, {"a": 1, "b": 1}) == {"a": 6, "b": 6}
                raise Undo
        async with db.transaction() as s:
            assert await allocate_many(s, {"a": 1, "b": 1}) == {"a": 6, "b": 6}
        if db.is_sqlite:  # one writer at a time: nothing waits for a row
            await db.dispose()
            return
        async with db.transaction() as t1:
            assert await allocate_many(t1, {"a": 2, "b": 2}) == {"a": 7, "b": 7}

            async def t2_asks():
                async with db.transaction() as t2:
                    return await allocate_many(t2, {"a": 1, "b": 1})

            second = asyncio.create_task(t2_asks())
            await waiting_for_a_row_lock(db)  # T2 waits for the counters T1 holds
        assert await second == {"a": 9, "b": 9}
        await db.dispose()

    asyncio.run(go())
