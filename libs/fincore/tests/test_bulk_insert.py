"""fincore.db.bulk_insert on PostgreSQL (COPY) and SQLite (executemany): rows as dicts or as
tuples with their columns, and the COPY's dumpers that remember the last date and instant.

Known answers: the rows read back are the rows written, value for value: a batch that repeats
one aware instant and one date (as the posting consumer's rows do), then other instants and
dates after them (a dumper that kept its first value would write it again), an instant in
another zone (the same moment in UTC), a naive timestamp and JSON."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
import sqlalchemy as sa
from fincore.db import Database, bulk_insert
from fincore.testing.rowlocks import scratch_database

pytestmark = pytest.mark.integration

_md = sa.MetaData()
_T = sa.Table("bulk_t", _md, sa.Column("id", sa.Integer, primary_key=True), sa.Column("at", sa.DateTime(timezone=True)),
              sa.Column("naive", sa.DateTime()), sa.Column("day", sa.Date()), sa.Column("doc", sa.JSON))
_COLUMNS = ("id", "at", "naive", "day", "doc")

NOW = dt.datetime(2026, 11, 30, 23, 59, 59, 123456, tzinfo=dt.UTC)
DAY = dt.date(2026, 11, 30)
ROWS = [
    (1, NOW, dt.datetime(2026, 1, 2, 3, 4, 5), DAY, {"k": "v"}),
    (2, NOW, dt.datetime(2026, 1, 2, 3, 4, 5), DAY, {"k": "v2"}),
    (3, NOW + dt.timedelta(microseconds=1), dt.datetime(2026, 1, 2, 9, 0), dt.date(2026, 12, 1), {}),
    (4, NOW, dt.datetime(2026, 1, 2, 3, 4, 5), DAY, {"n": 1}),  # the first values again, after others
    (5, dt.datetime(2026, 12, 1, 7, 59, 59, 123456, tzinfo=dt.timezone(dt.timedelta(hours=8))),
     dt.datetime(1999, 12, 31), dt.date(2000, 2, 29), {"nested": [1, "two"]}),
]


@pytest.fixture(params=["postgresql", "sqlite"])
def url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'bulk.db'}"
        return
    with scratch_database("t_bulkinsert") as pg_url:
        yield pg_url


def _read_back(url: str, rows: list) -> list[tuple]:
    async def go():
        db = Database(url)
        try:
            async with db.transaction() as s:
                await s.run_sync(lambda ss: _md.create_all(ss.connection()))
            async with db.transaction() as s:
                await bulk_insert(s, _T, rows[:3], None if isinstance(rows[0], dict) else _COLUMNS)
                await bulk_insert(s, _T, rows[3:], None if isinstance(rows[0], dict) else _COLUMNS)
            async with db.sessions() as s:
                return [tuple(r) for r in (await s.execute(sa.select(_T).order_by(_T.c.id))).all()]
        finally:
            await db.dispose()
    return asyncio.run(go())


def _same(got: list[tuple]) -> None:
    assert len(got) == len(ROWS)
    for (id_, at, naive, day, doc), want in zip(got, ROWS, strict=True):
        at = at if at.tzinfo else at.replace(tzinfo=dt.UTC)  # SQLite gives them back naive (UTC)
        assert (id_, at, naive, day, doc) == want


@pytest.mark.parametrize("shape", ["tuples", "dicts"])
def test_rows_read_back_as_written(url, shape):
    rows = ROWS if shape == "tuples" else [dict(zip(_COLUMNS, r, strict=True)) for r in ROWS]
    if "sqlite" in url:  # SQLite stores the wall time it is given: give it UTC
        rows = [_utc(r) for r in rows]
    _same(_read_back(url, rows))


def _utc(row):
    if isinstance(row, dict):
        return {**row, "at": row["at"].astimezone(dt.UTC)}
    return (row[0], row[1].astimezone(dt.UTC), *row[2:])
