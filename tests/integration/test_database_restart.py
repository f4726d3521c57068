"""A PostgreSQL restart under a running relay and inbox consumer (issue 15, found by the
chaos suite's fault "PostgreSQL restart while consumers commit"): both wait for the database
and carry on. Before, every relay and consumer process exited, and a consumer whose batch
failed while the database was away retried it one by one into the dead-letter queue (valid
events lost from the books had the dead letter been writable).

The database is a private server (fincore.testing.pg), never the machine's shared one."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid

import pytest
import sqlalchemy as sa
from finance.ar.v1 import events_pb2 as ar
from fincore import dates
from fincore.db import Database, connection_lost
from fincore.inbox import InboxConsumer
from fincore.outbox import OutboxRelay, add_event
from fincore.settings import ServiceSettings
from fincore.tables import DeadLetter, IdempotencyRecord, InboxRecord, create_outbox_tables
from fincore.testing.pg import private_postgres
from sqlmodel import Field, SQLModel

pytestmark = pytest.mark.integration


def event(key: str, doc: str) -> ar.InvoiceIssued:
    return ar.InvoiceIssued(company_id="IT", document_number=doc, invoice_id=key,
                            occurrence_date=dates.to_proto(dt.date(2026, 11, 1)))


class Handled(SQLModel, table=True):
    __tablename__ = "itest_restart_effect"
    event_id: str = Field(primary_key=True)
    document: str


async def test_relay_and_consumer_wait_out_a_database_restart(infra, log_dir, caplog):
    caplog.set_level(logging.WARNING)
    # Under the run's log directory: the server may run as the postgres user, which cannot
    # reach pytest's private tmp_path.
    with private_postgres(log_dir / f"pg-restart-{uuid.uuid4().hex[:6]}") as pg:
        db = Database(pg.url)
        async with db.engine.begin() as conn:
            await conn.run_sync(create_outbox_tables)
            await conn.run_sync(lambda c: SQLModel.metadata.create_all(c, tables=[
                InboxRecord.__table__, DeadLetter.__table__, IdempotencyRecord.__table__,
                Handled.__table__]))
        uid = uuid.uuid4().hex[:8]
        settings = ServiceSettings(service_name=f"itest{uid}", database_url=pg.url,
                                   kafka_bootstrap_servers=infra.bootstrap_servers,
                                   kafka_idempotent_producer=infra.idempotent_producer,
                                   consumer_retry_backoff_s=0.01)

        async def handler(session, e):
            session.add(Handled(event_id=e.id, document=e.payload.document_number))

        relay = OutboxRelay(db, settings)
        consumer = InboxConsumer(db, settings, name=f"itest{uid}-c", topics=[settings.events_topic], handler=handler)
        await relay.start()
        await consumer.start()
        stop = asyncio.Event()
        tasks = [asyncio.create_task(relay.run(stop)), asyncio.create_task(consumer.run(stop))]
        loop = asyncio.get_running_loop()

        async def until(condition, what: str, timeout_s: float = 90) -> None:
            deadline = loop.time() + timeout_s
            while not await condition():
                for t in tasks:  # a relay or consumer that died fails here, not by a timeout
                    assert not t.done(), f"{what}: a process stopped: {t.exception()!r}"
                assert loop.time() < deadline, f"{what}: not within {timeout_s} s"
                await asyncio.sleep(0.1)

        async def handled() -> int:
            try:
                async with db.sessions() as s:
                    return (await s.execute(sa.select(sa.func.count()).select_from(Handled))).scalar_one()
            except Exception:  # noqa: BLE001 - the database may still be coming back
                return -1

        async def add(docs: list[str]) -> None:
            # As an API request would: its first statement on a connection of the old server
            # fails (fincore.db: no ping on checkout), and it is asked again.
            for attempt in range(3):
                try:
                    async with db.transaction() as s:
                        for d in docs:
                            add_event(s, event(f"k-{d}", d), source="itest", topic=settings.events_topic)
                    return
                except Exception as exc:
                    if not connection_lost(exc) or attempt == 2:
                        raise

        try:
            await add([f"before-{i}" for i in range(20)])

            async def twenty() -> bool:
                return await handled() == 20

            await until(twenty, "20 events before the restart")
            # The restart: the consumer's next batch and the relay's next poll meet a database
            # that is gone. Records published meanwhile must still be handled, once.
            await asyncio.to_thread(pg.stop, "fast")

            async def both_waiting() -> bool:
                messages = [r.getMessage() for r in caplog.records]
                return sum(1 for m in messages if "the database does not answer" in m) >= 1

            await until(both_waiting, "a process noticing the database is gone", 30)
            await asyncio.to_thread(pg.start)
            await add([f"after-{i}" for i in range(20)])

            async def forty() -> bool:
                return await handled() == 40

            await until(forty, "40 events after the restart")
            # A restart over before anyone asks (the server back within a second): the next
            # statement on each pooled connection fails although the database answers again.
            await asyncio.to_thread(pg.restart, "fast")
            await add([f"quick-{i}" for i in range(20)])

            async def sixty() -> bool:
                return await handled() == 60

            await until(sixty, "60 events after a quick restart")
        finally:
            stop.set()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            await relay.stop()
            await consumer.stop()
        assert [r for r in results if isinstance(r, BaseException)] == []
        async with db.sessions() as s:
            dead = (await s.execute(sa.select(DeadLetter))).scalars().all()
            docs = sorted((await s.execute(sa.select(Handled.document))).scalars().all())
        await db.dispose()
        assert dead == [], [d.error for d in dead]
        assert docs == sorted(f"{phase}-{i}" for phase in ("before", "after", "quick") for i in range(20))
