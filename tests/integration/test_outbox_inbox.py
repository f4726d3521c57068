"""fincore's outbox relay and inbox consumer on real PostgreSQL and the real broker."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections import Counter, defaultdict

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, TopicPartition
from finance.ar.v1 import events_pb2 as ar
from fincore import dates
from fincore.db import Database
from fincore.events import decode_record
from fincore.inbox import InboxConsumer, PermanentError
from fincore.kafka import ensure_topics
from fincore.outbox import OutboxRelay, add_event
from fincore.settings import ServiceSettings
from fincore.tables import (
    DeadLetter,
    IdempotencyRecord,
    InboxRecord,
    OutboxPending,
    OutboxRecord,
    create_outbox_tables,
)
from sqlmodel import Field, SQLModel

pytestmark = pytest.mark.integration


class Effect(SQLModel, table=True):
    __tablename__ = "itest_effect"
    event_id: str = Field(primary_key=True)
    document: str


@pytest.fixture
async def env(infra):
    uid = uuid.uuid4().hex[:8]
    url = infra.database_url(f"fincore_{uid}")
    db = Database(url)
    async with db.engine.begin() as conn:
        await conn.run_sync(create_outbox_tables)
        await conn.run_sync(lambda c: SQLModel.metadata.create_all(c, tables=[
            InboxRecord.__table__, DeadLetter.__table__, IdempotencyRecord.__table__,
            Effect.__table__]))
    settings = ServiceSettings(service_name=f"itest{uid}", database_url=url,
                               kafka_bootstrap_servers=infra.bootstrap_servers,
                               kafka_idempotent_producer=infra.idempotent_producer,
                               outbox_batch_size=40, consumer_retry_backoff_s=0.01)
    yield db, settings
    await db.dispose()


def event(key: str, doc: str) -> ar.InvoiceIssued:
    return ar.InvoiceIssued(company_id="IT", document_number=doc, invoice_id=key,
                            occurrence_date=dates.to_proto(dt.date(2026, 11, 1)))


async def read_topic(settings: ServiceSettings, n: int, wait_s: float = 30):
    c = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers, enable_auto_commit=False)
    await c.start()
    out = []
    try:
        c.assign([TopicPartition(settings.events_topic, p) for p in c.partitions_for_topic(settings.events_topic)])
        await c.seek_to_beginning()
        deadline = asyncio.get_running_loop().time() + wait_s
        while len(out) < n and asyncio.get_running_loop().time() < deadline:
            for recs in (await c.getmany(timeout_ms=300)).values():
                out += recs
        for recs in (await c.getmany(timeout_ms=1000)).values():  # anything beyond n is a duplicate
            out += recs
    finally:
        await c.stop()
    return out


async def test_two_relays_publish_every_row_once_in_key_order(env):
    db, settings = env
    keys = [f"inv-{i}" for i in range(30)]
    async with db.transaction() as s:
        for seq in range(20):
            for k in keys:
                add_event(s, event(k, f"{k}:{seq:03d}"), source="itest", topic=settings.events_topic)
    relays = [OutboxRelay(db, settings), OutboxRelay(db, settings)]
    for r in relays:
        await r.start()
    stop = asyncio.Event()
    tasks = [asyncio.create_task(r.run(stop)) for r in relays]
    deadline = asyncio.get_running_loop().time() + 120
    while await relays[0].pending():  # noqa: ASYNC110 - polling the database, not an event
        for t in tasks:  # a relay that died must fail the test, not leave it waiting for ever
            if t.done():
                t.result()
                raise AssertionError("a relay stopped before the outbox was empty")
        assert asyncio.get_running_loop().time() < deadline, "outbox not drained within 120 s"
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.gather(*tasks)
    for r in relays:
        await r.stop()

    records = await read_topic(settings, 600)
    envs = [decode_record(r.topic, r.key, r.value, r.headers) for r in records]
    ids = Counter(e.id for e in envs)
    assert len(ids) == 600 and max(ids.values()) == 1, "each row published exactly once"
    per_key = defaultdict(list)
    partitions = defaultdict(set)
    for r, e in sorted(zip(records, envs, strict=True), key=lambda x: (x[0].partition, x[0].offset)):
        per_key[e.subject].append(e.payload.document_number)
        partitions[e.subject].add(r.partition)
        assert r.key.decode() == e.subject == e.payload.invoice_id
    assert all(len(p) == 1 for p in partitions.values()), "one key, one partition"
    assert all(docs == sorted(docs) for docs in per_key.values()), "per-aggregate order kept"


async def test_inbox_dedups_retries_transients_and_dead_letters_poison(env):
    db, settings = env
    attempts = Counter()

    async def handler(session, e):
        doc = e.payload.document_number
        attempts[doc] += 1
        if doc == "transient" and attempts[doc] <= 2:
            raise RuntimeError("database hiccup")
        if doc == "poison":
            raise PermanentError("cannot ever post this")
        session.add(Effect(event_id=e.id, document=doc))

    async with db.transaction() as s:
        for doc in ("a", "transient", "b", "poison", "c"):
            add_event(s, event("same-key", doc), source="itest", topic=settings.events_topic)
    relay = OutboxRelay(db, settings)
    await relay.start()
    await relay.publish_batch()
    # Publish everything a second time (a relay that died before taking its rows off the list).
    async with db.transaction() as s:
        await s.execute(sa.insert(OutboxPending).from_select(["id"], sa.select(OutboxRecord.id)))
    await relay.publish_batch()
    await relay.stop()

    consumer = InboxConsumer(db, settings, name=f"{settings.service_name}-c", topics=[settings.events_topic],
                             handler=handler)
    await consumer.start()
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    deadline = asyncio.get_running_loop().time() + 60
    while asyncio.get_running_loop().time() < deadline:
        async with db.sessions() as s:
            effects = (await s.execute(sa.select(Effect.document))).scalars().all()
            dead = (await s.execute(sa.select(DeadLetter))).scalars().all()
        if len(effects) >= 4 and dead:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(1)
    stop.set()
    await task
    await consumer.stop()

    assert sorted(effects) == ["a", "b", "c", "transient"], "each event has its effect exactly once"
    assert len(dead) == 1 and dead[0].attempts == 1 and "cannot ever post this" in dead[0].error
    assert dead[0].topic == settings.events_topic and dead[0].offset >= 0
    dlq = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers, enable_auto_commit=False)
    await dlq.start()
    try:
        dlq.assign([TopicPartition(settings.dlq_topic, p) for p in dlq.partitions_for_topic(settings.dlq_topic)])
        await dlq.seek_to_beginning()
        got = [r for recs in (await dlq.getmany(timeout_ms=3000)).values() for r in recs]
    finally:
        await dlq.stop()
    headers = [dict(r.headers) for r in got]
    # Published twice, the poison arrived twice: one dead letter per event, not per copy.
    assert len(headers) == 1
    assert headers[0]["dlq_original_topic"].decode() == settings.events_topic
    assert b"cannot ever post this" in headers[0]["dlq_error"]

    # A new consumer in the same group starts after the committed offsets: nothing is redone.
    before = dict(attempts)
    again = InboxConsumer(db, settings, name=f"{settings.service_name}-c", topics=[settings.events_topic],
                          handler=handler)
    await again.start()
    stop2 = asyncio.Event()
    task2 = asyncio.create_task(again.run(stop2))
    await asyncio.sleep(3)
    stop2.set()
    await task2
    await again.stop()
    assert dict(attempts) == before


async def test_relay_is_woken_by_the_outbox_commit_not_by_its_poll(env):
    """Platform schema v3: the outbox's insert trigger notifies on commit and the relay, which
    otherwise polls only every `outbox_idle_poll_s` (here a minute), publishes at once. A
    rolled-back insert notifies nothing (PostgreSQL drops the notification with it)."""
    from alembic.migration import MigrationContext
    from alembic.operations import Operations
    from fincore.tables import create_platform_tables_v3

    db, settings = env
    async with db.engine.begin() as conn:
        await conn.run_sync(lambda c: create_platform_tables_v3(Operations(MigrationContext.configure(c))))
    settings = settings.model_copy(update={"outbox_idle_poll_s": 60.0})
    relay = OutboxRelay(db, settings)
    await relay.start()
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    loop = asyncio.get_running_loop()
    try:
        deadline = loop.time() + 30
        while not relay._listening:  # noqa: ASYNC110 - waiting for the LISTEN connection
            assert not task.done(), task.result()
            assert loop.time() < deadline, "the relay never listened"
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # the relay is now in its (one-minute) idle wait

        with pytest.raises(RuntimeError):
            async with db.transaction() as s:
                add_event(s, event("k", "rolled-back"), source="itest", topic=settings.events_topic)
                raise RuntimeError("abort")
        async with db.transaction() as s:
            add_event(s, event("k", "woken"), source="itest", topic=settings.events_topic)
        committed = loop.time()
        while await relay.pending():  # noqa: ASYNC110 - polling the database, not an event
            assert not task.done(), task.result()
            assert loop.time() - committed < 20, "not published: the relay waited for its poll"
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        await asyncio.gather(task)
        await relay.stop()
    records = await read_topic(settings, 1, wait_s=10)
    assert [decode_record(r.topic, r.key, r.value, r.headers).payload.document_number for r in records] == ["woken"]

async def _publish(settings: ServiceSettings, topic: str, n: int, partitions: list[int] | None = None) -> None:
    from fincore.events import encode_record, new_envelope
    from fincore.kafka import make_producer

    producer = make_producer(settings, client_id=f"{settings.service_name}-load")
    await producer.start()
    try:
        sent = []
        for i in range(n):
            e = new_envelope(event(f"inv-{i % 97}", f"doc-{i}"), source="itest")
            e.topic = topic
            k, v, h = encode_record(e)
            part = partitions[i % len(partitions)] if partitions else None
            sent.append(await producer.send(topic, key=k, value=v, headers=h, partition=part))
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


class _Group:
    """Inbox consumers of one group on one topic whose handler records who handled what; a
    member's handler can be Python-bound (time.sleep: work that never awaits, as a rule plan
    applied per event is) for `slow_s` per event."""

    def __init__(self, db, settings: ServiceSettings, topic: str, slow_s: dict[str, float]) -> None:
        self.db, self.handled, self.by_member = db, Counter(), Counter()
        self.members = {m: InboxConsumer(db, settings, name=f"{settings.service_name}-rebalance", topics=[topic],
                                         handler=self._handler(m, s)) for m, s in slow_s.items()}
        self.stop, self.tasks = asyncio.Event(), []

    def _handler(self, member: str, slow_s: float):
        import time

        async def handler(session, e):
            self.handled[e.id] += 1
            self.by_member[member] += 1
            time.sleep(slow_s)  # noqa: ASYNC251 - on purpose: handler work that never awaits
            session.add(Effect(event_id=e.id, document=e.payload.document_number))
        return handler

    async def start(self, member: str) -> None:
        await self.members[member].start()
        self.tasks.append(asyncio.create_task(self.members[member].run(self.stop)))

    async def effects(self) -> int:
        async with self.db.sessions() as s:
            return (await s.execute(sa.select(sa.func.count()).select_from(Effect))).scalar_one()

    async def until(self, condition, what: str, timeout_s: float = 120) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not await condition():
            for t in self.tasks:  # a consumer that died fails the test, not a timeout
                if t.done():
                    t.result()
                    raise AssertionError("a consumer stopped")
            assert loop.time() < deadline, f"{what}: not within {timeout_s} s"
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        self.stop.set()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for m in self.members.values():
            await m.stop()

    def assert_each_handled_once(self, n: int, caplog) -> None:
        twice = sum(1 for c in self.handled.values() if c > 1)
        assert len(self.handled) == n and not twice, f"{twice} events handled more than once"
        messages = [r.getMessage() for r in caplog.records]
        assert not [m for m in messages if "one by one" in m or "duplicate key" in m], messages[:5]


async def _ge(count, n: int) -> bool:
    return await count >= n


async def test_a_member_joining_mid_poll_waits_for_the_event_in_hand(env, caplog):
    """A 2,000-record poll in hand, Python-bound for 16 s (longer than the rebalance
    timeout), and a second member joining the group mid-poll (a scale-out, a restarted pod):
    the first member finishes the event in hand when the rebalance begins, commits it with
    its offsets and only then hands over its partitions; every event is handled once, by
    exactly one member. Before the fix the rebalance could not begin until the whole poll
    was done (or the first member was dropped past the rebalance timeout, and the second
    re-read records the first still held: events handled twice, duplicate keys)."""
    import logging

    db, settings = env
    settings = settings.model_copy(update={"consumer_max_records": 2000})
    topic = f"{settings.service_name}.join"
    await ensure_topics(settings, [topic], partitions=4)
    caplog.set_level(logging.WARNING, logger="fincore.inbox.consumer")
    n = 2000
    await _publish(settings, topic, n)
    g = _Group(db, settings, topic, {"a": 0.008, "b": 0.008})
    try:
        await g.start("a")

        async def inside_first_poll() -> bool:
            return g.by_member["a"] >= 100

        await g.until(inside_first_poll, "the first member beginning its poll", 60)
        await g.start("b")
        await g.until(lambda: _ge(g.effects(), n), f"{n} effects")
    finally:
        await g.close()
    assert await g.effects() == n
    g.assert_each_handled_once(n, caplog)
    assert g.by_member["b"] > 0, "the second member got no partitions before the first had done it all"


async def test_a_poll_another_member_committed_first_is_applied_again_not_one_by_one(env, caplog):
    """Two members holding the same records at once (a member that stalled past its session
    while its successor re-read the partition): the second's inbox COPY waits for the first's
    transaction and is refused by the primary key when it commits. The second then reads the
    inbox again and finds every event handled: no effect twice, no one-by-one retries."""
    import logging

    from aiokafka import ConsumerRecord
    from fincore.events import encode_record, new_envelope

    db, settings = env
    caplog.set_level(logging.WARNING, logger="fincore.inbox.consumer")
    items = []
    for i in range(50):
        e = new_envelope(event(f"k{i}", f"d{i}"), source="itest")
        k, v, h = encode_record(e)
        items.append((ConsumerRecord("t", 0, i, 0, 0, k, v, None, len(k), len(v), h), e))
    hold, entered = asyncio.Event(), asyncio.Event()
    calls: Counter = Counter()

    class Handler:
        def __init__(self, member: str, wait: bool) -> None:
            self.member, self.wait = member, wait

        async def __call__(self, session, e):
            calls[self.member] += 1
            session.add(Effect(event_id=e.id, document=e.payload.document_number))

        async def before_commit(self, session):  # after the inbox rows are in
            if self.wait:
                entered.set()
                await hold.wait()  # the first member's transaction stays open

    def handler_of(member: str, wait: bool):
        return Handler(member, wait)

    name = f"{settings.service_name}-twice"
    first = InboxConsumer(db, settings, name=name, topics=[], handler=handler_of("first", True))
    second = InboxConsumer(db, settings, name=name, topics=[], handler=handler_of("second", False))
    a = asyncio.create_task(first._apply(items))
    await asyncio.wait_for(entered.wait(), 30)

    async def second_member() -> int:
        try:
            return await second._apply(items)
        except Exception as exc:  # noqa: BLE001 - the path under test
            n = await second._after_failure(exc, items, lambda: False, 0)
            assert n is not None
            return n

    b = asyncio.create_task(second_member())
    await asyncio.sleep(0.5)  # the second's COPY is now waiting for the first's rows
    hold.set()
    assert await asyncio.wait_for(a, 30) == len(items)
    assert await asyncio.wait_for(b, 30) == len(items)
    async with db.sessions() as s:
        n = (await s.execute(sa.select(sa.func.count()).select_from(Effect))).scalar_one()
    assert n == len(items)
    messages = [r.getMessage() for r in caplog.records]
    assert any("met a duplicate key" in m for m in messages), messages
    assert not [m for m in messages if "one by one" in m], messages
