"""The inbox's duplicate check on PostgreSQL (fincore.inbox.consumer._SEEN_PG): which of a poll's
event ids this consumer already handled, with the statement the driver prepares after five runs.

Known answers: the inbox holds 20,000 ids of consumer "gl-posting" and 100 of "other"; asked for
50 ids (20 of gl-posting's, 10 only of other's, 20 unknown) it returns exactly the 20.

The plan: a generic plan made while the inbox is empty (a new database, before its first
autoanalyze) must still probe the primary key with both columns once the inbox has grown. The
earlier form (`consumer = :c AND event_id = ANY(:ids)`) got a plan that probed by consumer alone
and filtered event_id, so each poll read the whole inbox (59 ms at 30,000 rows)."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
import sqlalchemy as sa
from fincore.db import Database
from fincore.inbox.consumer import _SEEN_PG
from fincore.tables import InboxRecord
from fincore.testing.rowlocks import scratch_database

pytestmark = pytest.mark.integration


@pytest.fixture
def pg_url():
    with scratch_database("t_inboxseen") as url:
        yield url


def _ids(n: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(n)]


def test_seen_returns_exactly_this_consumers_handled_ids(pg_url):
    async def go():
        db = Database(pg_url)
        try:
            async with db.engine.begin() as conn:
                await conn.run_sync(lambda c: InboxRecord.__table__.create(c))
            mine, others = _ids(20_000), _ids(100)
            unknown = _ids(20)
            async with db.sessions() as s:
                conn = await s.connection()
                for _ in range(7):  # past the driver's prepare threshold, on the empty inbox
                    assert await _SEEN_PG.rows(conn, {"consumer": "gl-posting", "ids": mine[:50]}) == []
                await conn.execute(sa.text(
                    "INSERT INTO inbox (consumer, event_id, processed_at) "
                    "SELECT c, id, now() FROM unnest(CAST(:c AS varchar[]), CAST(:ids AS varchar[])) AS x(c, id)"),
                    {"c": ["gl-posting"] * len(mine) + ["other"] * len(others), "ids": mine + others})
                asked = mine[100:120] + others[:10] + unknown
                got = {r[0] for r in await _SEEN_PG.rows(conn, {"consumer": "gl-posting", "ids": asked})}
                assert got == set(mine[100:120])
                assert await _SEEN_PG.rows(conn, {"consumer": "gl-posting", "ids": []}) == []
                await s.commit()
        finally:
            await db.dispose()

    asyncio.run(go())


def test_a_plan_made_on_the_empty_inbox_probes_the_key_with_both_columns(pg_url):
    async def go():
        db = Database(pg_url)
        try:
            async with db.engine.begin() as conn:
                await conn.run_sync(lambda c: InboxRecord.__table__.create(c))
            sql, _ = _SEEN_PG._sql(db.engine.dialect)
            raw_sql = sql.replace("%(ids)s", "$1").replace("%(consumer)s", "$2")
            async with db.engine.connect() as conn:
                await conn.execute(sa.text("SET plan_cache_mode = force_generic_plan"))
                await conn.exec_driver_sql(f"PREPARE seen(varchar[], varchar) AS {raw_sql}")
                await conn.exec_driver_sql("INSERT INTO inbox (consumer, event_id, processed_at) "
                                           "SELECT 'gl-posting', gen_random_uuid()::text, now() "
                                           "FROM generate_series(1, 5000)")
                plan = (await conn.exec_driver_sql(
                    "EXPLAIN (FORMAT JSON) EXECUTE seen(ARRAY['a', 'b']::varchar[], 'gl-posting')")).scalar_one()
                await conn.rollback()
            nodes, found = [plan[0]["Plan"] if isinstance(plan, list) else json.loads(plan)[0]["Plan"]], []
            while nodes:
                node = nodes.pop()
                nodes.extend(node.get("Plans", []))
                if node.get("Relation Name") == "inbox":
                    found.append(node)
            assert found, plan
            for node in found:
                cond = node.get("Index Cond", "")
                assert "consumer" in cond and "event_id" in cond and "Filter" not in node, node
        finally:
            await db.dispose()

    asyncio.run(go())
