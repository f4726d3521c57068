"""Platform schema v4: the outbox rows waiting for the relay are the ids in outbox_pending.

On PostgreSQL and on the embedded SQLite, through a service's own migrations (AR's):
- the upgrade lists exactly the rows v3 had not published, and drops published_at;
- every way a row is written (ORM, COPY on PostgreSQL) puts its id on the list, in the
  writing transaction, and a rolled-back write puts nothing there;
- the relay publishes the list in id order and empties it; nothing else changes the outbox;
- republish puts a time range back on the list, purge never deletes a pending row;
- the downgrade gives back published_at (NULL for what still waits), and the upgrade again
  lists the same rows.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
import sqlalchemy as sa
from ar.bootstrap import MIGRATIONS
from finance.ar.v1 import events_pb2 as ar
from fincore import dates
from fincore.db import Database, bulk_insert, migrate, sync_url
from fincore.outbox import OutboxRelay, add_event, event_row
from fincore.outbox.relay import OLDEST_AGE, PENDING, republish
from fincore.settings import ServiceSettings
from fincore.tables import OutboxRecord
from fincore.testing.rowlocks import scratch_url

BEFORE_V4 = "0012"  # AR's revision before platform schema v4


@pytest.fixture(params=["postgresql", "sqlite"])
def url(request, tmp_path):
    with scratch_url(request.param, tmp_path, "t_outbox") as url:
        yield url


class FakeProducer:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, topic, *, value, key, headers):
        self.sent.append(dict(headers)["ce_id"].decode())
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


def invoice(n: int) -> ar.InvoiceIssued:
    return ar.InvoiceIssued(company_id="OP", document_number=f"INV-{n}", invoice_id=f"i{n}",
                            occurrence_date=dates.to_proto(dt.date(2026, 12, 1)))


def sql(url: str, statement: str, **params) -> list[tuple]:
    engine = sa.create_engine(sync_url(url))
    try:
        with engine.begin() as conn:
            res = conn.execute(sa.text(statement), params)
            return [tuple(r) for r in res] if res.returns_rows else []
    finally:
        engine.dispose()


def downgrade(url: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    command.downgrade(cfg, revision)


def columns(url: str) -> set[str]:
    engine = sa.create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            return {c["name"] for c in sa.inspect(conn).get_columns("outbox")}
    finally:
        engine.dispose()


def test_the_pending_list_through_upgrade_writes_relay_republish_purge_and_downgrade(url):
    migrate(MIGRATIONS, url, BEFORE_V4)
    for n, published in ((1, True), (2, False), (3, True)):
        row = event_row(invoice(n), source="ar")
        sql(url, "INSERT INTO outbox (event_id, topic, msg_key, ce_type, headers, payload, created_at, published_at) "
                 "VALUES (:e, :t, :k, :c, :h, :p, :at, :pub)",
            e=row["event_id"], t=row["topic"], k=row["msg_key"], c=row["ce_type"], h='{"ce_id": "x"}',
            p=row["payload"], at=row["created_at"], pub=row["created_at"] if published else None)
    ids = [r[0] for r in sql(url, "SELECT id FROM outbox ORDER BY id")]

    migrate(MIGRATIONS, url)
    assert [r[0] for r in sql(url, "SELECT id FROM outbox_pending")] == [ids[1]]  # what v3 had not published
    assert "published_at" not in columns(url)

    async def run():
        db = Database(url)
        relay = OutboxRelay(db, ServiceSettings(service_name="ar", database_url=url, outbox_batch_size=3,
                                                outbox_retention_days=0))
        relay.producer = FakeProducer()
        try:
            async with db.transaction() as s:  # ORM
                orm = add_event(s, invoice(4), source="ar").id
            with pytest.raises(RuntimeError):
                async with db.transaction() as s:
                    add_event(s, invoice(99), source="ar")
                    raise RuntimeError("rolled back")
            copied = [event_row(invoice(n), source="ar") for n in (5, 6)]
            async with db.transaction() as s:  # COPY on PostgreSQL, executemany on SQLite
                await bulk_insert(s, OutboxRecord.__table__, copied)
            assert await relay.pending() == 4
            await relay.sample()  # the gauges: the backlog, and the age of the v3 row still waiting
            assert PENDING._value.get() == 4 and 0 <= OLDEST_AGE._value.get() < 600
            event_ids = dict(sql(url, "SELECT id, event_id FROM outbox"))
            waiting = [event_ids[i] for i in sorted(r[0] for r in sql(url, "SELECT id FROM outbox_pending"))]
            assert waiting[1:] == [orm, *(r["event_id"] for r in copied)]

            before = sql(url, "SELECT * FROM outbox ORDER BY id")
            assert await relay.publish_batch() == 3
            assert await relay.publish_batch() == 1
            assert await relay.publish_batch() == 0
            assert relay.producer.sent[1:] == waiting[1:]  # id order (the v3 row's stored headers are made up)
            assert await relay.pending() == 0
            assert sql(url, "SELECT * FROM outbox ORDER BY id") == before  # the outbox itself is untouched

            assert await republish(db, since=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                                   until=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)) == 6
            assert await relay.purge() == 0  # every row waits again: none is deleted, however old
            while await relay.publish_batch():
                pass
            assert len(relay.producer.sent) == 4 + 6
            async with db.transaction() as s:
                add_event(s, invoice(7), source="ar")
            assert await relay.purge() == 6  # the published ones (retention 0 days); the new one waits
            assert await relay.pending() == 1
            assert await relay.publish_batch() == 1
            async with db.transaction() as s:
                add_event(s, invoice(8), source="ar")
        finally:
            await db.dispose()

    asyncio.run(run())
    (published,), (waiting,) = sql(url, "SELECT id FROM outbox ORDER BY id")
    assert sql(url, "SELECT id FROM outbox_pending") == [(waiting,)]

    downgrade(url, BEFORE_V4)
    assert sql(url, "SELECT id, published_at IS NULL FROM outbox ORDER BY id") == [(published, False), (waiting, True)]
    migrate(MIGRATIONS, url)
    assert sql(url, "SELECT id FROM outbox_pending") == [(waiting,)]
