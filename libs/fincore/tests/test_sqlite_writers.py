"""SQLite (the embedded database of `make run`) lets one writer at a time hold the file. A
transaction that begins DEFERRED reads first and asks for the write lock at its first write;
if another writer committed meanwhile, SQLite cannot let it write on a stale snapshot and
answers "database is locked" at once, whatever the busy timeout (SQLITE_BUSY_SNAPSHOT).
`Database.transaction()` begins IMMEDIATE on SQLite (SQLAlchemy's pysqlite/aiosqlite recipe
in fincore.db), so writers wait for each other instead: no error, and no lost update."""

import asyncio

import pytest
import sqlalchemy as sa
from fincore.db import Database


async def _race(db: Database, writers: int, orm: bool) -> tuple[int, list[BaseException]]:
    async with db.transaction() as s:
        await s.execute(sa.text("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"))
        await s.execute(sa.text("INSERT INTO counter VALUES (1, 0)"))

    async def add_one() -> None:
        async with db.transaction() if orm else db.begin() as s:
            n = (await s.execute(sa.text("SELECT n FROM counter WHERE id = 1"))).scalar_one()
            await asyncio.sleep(0.01)  # the others read meanwhile
            await s.execute(sa.text("UPDATE counter SET n = :n WHERE id = 1"), {"n": n + 1})

    got = await asyncio.gather(*(add_one() for _ in range(writers)), return_exceptions=True)
    async with db.sessions() as s:
        n = (await s.execute(sa.text("SELECT n FROM counter"))).scalar_one()
    return n, [e for e in got if isinstance(e, BaseException)]


@pytest.mark.parametrize("orm", [True, False], ids=["transaction", "begin"])
def test_concurrent_writers_queue_instead_of_failing(tmp_path, orm):
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
    try:
        n, errors = asyncio.run(_race(db, 8, orm))
    finally:
        asyncio.run(db.dispose())
    assert errors == [] and n == 8


def test_reads_and_savepoints_still_work(tmp_path):
    async def go(db: Database) -> list:
        async with db.transaction() as s:
            await s.execute(sa.text("CREATE TABLE t (x INTEGER)"))
            await s.execute(sa.text("INSERT INTO t VALUES (1)"))
            try:
                async with s.begin_nested():
                    await s.execute(sa.text("INSERT INTO t VALUES (2)"))
                    raise RuntimeError("undo the savepoint only")
            except RuntimeError:
                pass
            await s.execute(sa.text("INSERT INTO t VALUES (3)"))
        async with db.sessions() as s:  # a read: no write lock taken, no commit needed
            return (await s.execute(sa.text("SELECT x FROM t ORDER BY x"))).scalars().all()

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'r.db'}")
    try:
        assert asyncio.run(go(db)) == [1, 3]
    finally:
        asyncio.run(db.dispose())
