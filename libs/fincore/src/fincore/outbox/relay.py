"""Outbox relay: publishes committed outbox rows in order and takes them off the pending list.

Why it is shaped this way:
- One batch = one database transaction: read the pending rows (outbox_pending, platform
  schema v4, joined to their outbox rows), produce them with acks=all, wait for every
  acknowledgement, delete their ids from outbox_pending, commit. A crash anywhere before the
  commit leaves the rows pending, so they are produced again: at-least-once, and the
  consumers' inboxes make a duplicate harmless. The outbox row is never updated (see
  fincore.tables.OutboxPending: marking it in place cost a dead 1.5 KB row per event).
- Several relay processes may run (rolling deploys, replicas). On PostgreSQL a transaction
  -scoped advisory lock makes exactly one of them publish at a time, which also keeps
  per-aggregate order (row-level SKIP LOCKED would let two relays interleave one key).
  SQLite (development) serialises writers itself; run one relay there.
- On PostgreSQL the outbox's insert trigger notifies on commit (LISTEN/NOTIFY, platform
  schema v3), which wakes the relay at once; between notifications it polls only every
  `outbox_idle_poll_s`, as a safety net for a notification lost with its connection. While
  the listening connection is down (a database restart) it polls at `outbox_poll_interval_s`.
  A batch that fails because the database does not answer (a restart, a failover) is waited
  out, not a crash (the chaos suite's PostgreSQL restart: every relay exited before).
  SQLite has no notifications: the relay polls at `outbox_poll_interval_s`.
- Published rows stay for a retention window so an operator can re-publish a time range
  after a broker disaster (`republish` puts their ids back on the pending list).
- Every business transaction passes through a relay, and at the rates a service sees a batch
  is a row or a few, so a batch's fixed cost is the relay's cost: on PostgreSQL its three
  statements are compiled once and run on the driver's connection (fincore.db.HotStatement),
  rows are read as tuples, not ORM objects, and a producer span per row is made only when
  spans are recorded (with nothing exported the stored traceparent travels as it is: the
  consumers continue the same trace id either way).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable

import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from prometheus_client import Counter, Gauge
from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects.postgresql import ARRAY

from fincore.db import Database, HotStatement
from fincore.kafka import ensure_topics, make_producer
from fincore.metrics import Heartbeat
from fincore.settings import ServiceSettings
from fincore.tables import OUTBOX_CHANNEL, IdempotencyRecord, OutboxPending, OutboxRecord, utcnow
from fincore.telemetry import extract_context, inject_headers, recording

log = logging.getLogger(__name__)
tracer = trace.get_tracer("fincore.outbox")

PUBLISHED = Counter("outbox_published_total", "Outbox rows published to Kafka", ["topic"])
PENDING = Gauge("outbox_pending", "Outbox rows not yet published (the backlog)")
OLDEST_AGE = Gauge("outbox_oldest_pending_age_seconds",
                   "Age of the oldest outbox row not yet published (0 when none is waiting)")
LOCK_KEY = 0x0F1_0B0C5  # advisory lock id of the relay in this service's database
_T = OutboxRecord.__table__
_P = OutboxPending.__table__
_LOCK = HotStatement(select(func.pg_try_advisory_xact_lock(LOCK_KEY)))
_DONE_PG = HotStatement(delete(_P).where(_P.c.id == func.any(sa.bindparam("ids", type_=ARRAY(sa.BigInteger)))))


def _backlog(n: int) -> None:
    """Set the backlog gauge. With nothing waiting the oldest row's age is 0 too (the periodic
    sample sets it otherwise), so the two gauges never disagree about an empty outbox."""
    PENDING.set(n)
    if n == 0:
        OLDEST_AGE.set(0.0)


class OutboxRelay:
    def __init__(self, db: Database, settings: ServiceSettings, *,
                 producer_factory: Callable[[], AIOKafkaProducer] | None = None) -> None:
        self.db = db
        self.settings = settings
        self._producer_factory = producer_factory or (
            lambda: make_producer(settings, client_id=f"{settings.service_name}-outbox-relay")
        )
        self.producer: AIOKafkaProducer | None = None
        self.heartbeat = Heartbeat(f"{settings.service_name} outbox relay")
        self._wake = asyncio.Event()
        self._listening = False  # a LISTEN connection is up: idle polling may slow down
        self._unpublished = HotStatement(
            select(_T.c.id, _T.c.event_id, _T.c.topic, _T.c.msg_key, _T.c.ce_type, _T.c.headers, _T.c.payload)
            .select_from(_P.join(_T, _T.c.id == _P.c.id)).order_by(_P.c.id).limit(settings.outbox_batch_size))

    async def start(self) -> None:
        await ensure_topics(self.settings, [self.settings.events_topic])
        self.producer = self._producer_factory()
        await self.producer.start()

    async def stop(self) -> None:
        if self.producer:
            await self.producer.stop()

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until `stop` is set (after `start`); purges expired rows now and then."""
        last_purge = 0.0
        loop = asyncio.get_running_loop()
        listener = None if self.db.is_sqlite else asyncio.create_task(self._listen(stop))
        try:
            while not stop.is_set():
                self.heartbeat.beat()
                self._wake.clear()  # before reading: a commit after this read wakes the next wait
                try:
                    n = await self.publish_batch()
                    if loop.time() - last_purge > 600:
                        await self.purge()
                        last_purge = loop.time()
                except Exception as exc:
                    # A database restart or failover: wait for it (the rows stay in the outbox,
                    # nothing is lost); any other failure stops the relay as before.
                    if not await self.db.recover(exc, "outbox relay", give_up=stop.is_set):
                        raise
                    continue
                if n == 0:
                    await self._idle(stop)
        finally:
            if listener is not None:
                listener.cancel()
                await asyncio.gather(listener, return_exceptions=True)

    async def _idle(self, stop: asyncio.Event) -> None:
        """Wait for a notification, `stop`, or the poll interval (long while listening)."""
        timeout = self.settings.outbox_idle_poll_s if self._listening else self.settings.outbox_poll_interval_s
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()

    async def _listen(self, stop: asyncio.Event) -> None:
        """LISTEN on the outbox channel on a connection of its own; reconnect after a failure
        (the relay polls quickly meanwhile). Each notification sets the wake-up event."""
        import psycopg

        dsn = self.db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        while not stop.is_set():
            try:
                async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {OUTBOX_CHANNEL}")
                    self._listening = True
                    self._wake.set()  # rows committed before LISTEN took effect are read now
                    async for _ in conn.notifies():
                        self._wake.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a lost connection: poll quickly, retry
                log.warning("outbox relay: LISTEN connection lost (%s); polling until it is back", exc)
            finally:
                self._listening = False
            try:
                await asyncio.wait_for(stop.wait(), 1.0)
            except TimeoutError:
                pass

    async def publish_batch(self) -> int:
        assert self.producer is not None, "start() first"
        async with self.db.transaction() as session:
            conn = await session.connection()
            if not self.db.is_sqlite and not (await _LOCK.rows(conn, {}))[0][0]:
                return 0
            # (id, event_id, topic, msg_key, ce_type, headers, payload)
            rows = await self._unpublished.rows(conn, {})
            if not rows:
                _backlog(0)
                return 0
            if recording():
                await self._send_traced(rows)
            else:
                futures = [await self.producer.send(
                    topic, value=payload, key=key.encode(), headers=[(k, v.encode()) for k, v in headers.items()])
                    for _, _, topic, key, _, headers, payload in rows]
                await asyncio.gather(*futures)
            ids = [r[0] for r in rows]
            if self.db.is_sqlite:
                await session.execute(delete(_P).where(_P.c.id.in_(ids)))
            else:
                await _DONE_PG.rows(conn, {"ids": ids})
        counts: dict[str, int] = {}
        for r in rows:
            counts[r[2]] = counts.get(r[2], 0) + 1
        for topic, n in counts.items():
            PUBLISHED.labels(topic).inc(n)
        return len(rows)

    async def _send_traced(self, rows) -> None:
        """Produce `rows`, each in a producer span continuing the trace its row stored."""
        spans, futures = [], []
        try:
            for _, event_id, topic, key, ce_type, headers, payload in rows:
                span = tracer.start_span(
                    f"{topic} publish",
                    context=extract_context(headers),
                    kind=SpanKind.PRODUCER,
                    attributes={
                        "messaging.system": "kafka",
                        "messaging.operation.type": "publish",
                        "messaging.destination.name": topic,
                        "messaging.message.id": event_id,
                        "messaging.kafka.message.key": key,
                        "cloudevents.event_type": ce_type,
                    },
                )
                spans.append(span)
                with trace.use_span(span, end_on_exit=False):
                    headers = {**headers, **inject_headers()}
                futures.append(await self.producer.send(
                    topic, value=payload, key=key.encode(), headers=[(k, v.encode()) for k, v in headers.items()]))
            await asyncio.gather(*futures)
        except Exception as exc:
            for span in spans:
                span.set_status(Status(StatusCode.ERROR, str(exc)))
                span.end()
            raise
        for span in spans:
            span.end()

    async def pending(self) -> int:
        async with self.db.sessions() as session:
            n = (await session.execute(select(func.count()).select_from(_P))).scalar_one()
        _backlog(n)
        return n

    async def sample(self) -> None:
        """Backlog and age of the oldest waiting row, for the gauges (run every few seconds)."""
        async with self.db.sessions() as session:
            # The oldest is the lowest pending id's row: two index probes. (A join for the least
            # created_at was planned as a scan of the whole outbox, retention window included.)
            first = select(func.min(_P.c.id)).scalar_subquery()
            n, oldest = (await session.execute(select(
                select(func.count()).select_from(_P).scalar_subquery(),
                select(_T.c.created_at).where(_T.c.id == first).scalar_subquery()))).one()
        PENDING.set(n)
        if oldest is not None and oldest.tzinfo is None:  # SQLite returns naive UTC
            oldest = oldest.replace(tzinfo=dt.UTC)
        OLDEST_AGE.set(max(0.0, (utcnow() - oldest).total_seconds()) if oldest is not None else 0.0)

    async def purge(self) -> int:
        cutoff = utcnow() - dt.timedelta(days=self.settings.outbox_retention_days)
        async with self.db.transaction() as session:
            res = await session.execute(  # published rows only: a pending row waits, however old
                delete(_T).where(_T.c.created_at < cutoff, _T.c.id.not_in(select(_P.c.id))))
            # Idempotency keys are answered for as long as a client may still retry.
            await session.execute(delete(IdempotencyRecord).where(
                IdempotencyRecord.created_at < utcnow() - dt.timedelta(days=self.settings.idempotency_retention_days)))
        return res.rowcount or 0


async def republish(db: Database, *, since: dt.datetime, until: dt.datetime) -> int:
    """Put the published rows created in [since, until) back on the pending list so the relay
    produces them again (in id order, as the first time)."""
    async with db.transaction() as session:
        res = await session.execute(insert(_P).from_select(
            ["id"], select(_T.c.id).where(_T.c.created_at >= since, _T.c.created_at < until,
                                          _T.c.id.not_in(select(_P.c.id)))).returning(_P.c.id))
        return len(res.all())  # an INSERT ... SELECT reports no rowcount through SQLAlchemy
