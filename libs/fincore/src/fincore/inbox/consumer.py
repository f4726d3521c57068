"""Idempotent consumer: the effect of an event and the record that it was handled commit
together, and the Kafka offset is committed only after that.

So a redelivered event (consumer crash, rebalance, a relay that published twice) finds its
id in the inbox and has no second effect, and a crash can never skip an event. Auto-commit
would break the second half of that promise; it is off.

A poll's records are handled in few transactions (throughput), each bounded in time
(consumer_max_batch_s) and followed by the commit of its offsets. The handlers' work can be
Python-bound for seconds on a large poll, so the loop yields to the event loop every few
milliseconds (the client's heartbeats keep the member in its group) and a rebalance waits
for the transaction in hand: the rebalance listener sets a flag, the poll stops at the next
event, commits what it has done, and the partitions go to their new owner only then. Before
this, a 2,000-record poll outlived the session: the member was dropped mid-poll, a second
member re-read the same records while the first still held them, the inbox's primary key
refused one of the two, and the poll fell back to one-by-one retries.

If a transaction fails on a duplicate key (another member committed the same events first,
e.g. a member that stalled past its session), it is run once more: the inbox is re-read, the
events already handled are skipped as copies and the rest applied. Any other failure retries
the records one by one with backoff, so one bad record cannot hold back the others: after the
retries it goes to the context's dead-letter topic (and the dead_letter table, for the admin
API) with the error and its original topic/partition/offset, and the partition moves on.
A failure while the database does not answer (a restart, a failover) is none of that: the
consumer waits until it answers and handles the same records again. (Before, a PostgreSQL
restart sent valid events through the one-by-one retries towards the dead-letter queue,
and the consumer exited when it could not write the dead letter either.)
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence

import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from tenacity import AsyncRetrying, retry_if_not_exception_type, stop_after_attempt, wait_exponential

from fincore.db import Database, HotStatement, bulk_insert
from fincore.events.envelope import Envelope, EnvelopeError, decode_record
from fincore.kafka import ensure_topics, make_consumer, make_producer
from fincore.metrics import Heartbeat
from fincore.settings import ServiceSettings
from fincore.tables import DeadLetter, InboxRecord, utcnow
from fincore.telemetry import extract_context, recording

log = logging.getLogger(__name__)
tracer = trace.get_tracer("fincore.inbox")

Handler = Callable[[AsyncSession, Envelope], Awaitable[None]]

CONSUMED = Counter("events_consumed_total", "Events handled by a consumer",
                   ["consumer", "ce_type", "outcome"])
DEAD_LETTERED = Counter("events_dead_lettered_total", "Records sent to the dead-letter topic",
                        ["consumer", "topic"])

# Lag from the high-water mark each fetch response carries (ListOffsets "latest" is wrong on
# the development broker for multi-record batches; the fetch's high-water mark is right).
LAG = Gauge("kafka_consumer_lag_messages", "Records in the partition the consumer has not yet handled",
            ["consumer", "topic", "partition"])
EVENT_TO_COMMIT = Histogram(
    "event_to_commit_latency_seconds",
    "From the event's time (ce_time) to the commit of its effect; for gl-posting, event to journal",
    ["consumer", "ce_type"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600),
)


# Longest stretch of handler work without giving the event loop a turn (heartbeats, rebalances).
_YIELD_EVERY_S = 0.02
_INBOX = InboxRecord.__table__
# One index probe per id, whatever the statistics. The plain `consumer = :c AND event_id =
# ANY(:ids)` is prepared by the driver after five runs, and the generic plan made while the inbox
# was empty (a new database, before its first autoanalyze) probes the index by consumer alone and
# filters event_id: it read the whole inbox per poll, 59 ms at 30,000 rows and growing, until
# autovacuum's first analyze (15-60 s into a new database's life at 1,000 events/s). A LATERAL
# subquery with a LIMIT is not flattened into a join, so its only access is the primary key with
# both columns (0.3 ms for 70 ids, before and after the analyze).
_SEEN_PG = HotStatement(sa.text(
    "SELECT i.event_id FROM unnest(CAST(:ids AS varchar[])) AS x(id) JOIN LATERAL ("
    "SELECT inbox.event_id FROM inbox WHERE inbox.consumer = :consumer AND inbox.event_id = x.id LIMIT 1) AS i "
    "ON true"))


class PermanentError(Exception):
    """The event can never be handled as it is (bad data): no retries, straight to the DLQ."""


class Handlers:
    """Several handlers behind one consumer of a topic: each sees every event and acts on the
    types it handles, in one transaction with one inbox row per event. One service reading one
    topic twice (a consumer group per concern) would read and record every event twice."""

    def __init__(self, *handlers: Handler) -> None:
        self.handlers = handlers

    async def __call__(self, session: AsyncSession, env: Envelope) -> None:
        for handler in self.handlers:
            await handler(session, env)

    async def before_batch(self, session: AsyncSession, envelopes: list[Envelope]) -> None:
        for handler in self.handlers:
            if (hook := getattr(handler, "before_batch", None)) is not None:
                await hook(session, envelopes)

    async def before_commit(self, session: AsyncSession) -> None:
        for handler in self.handlers:
            if (hook := getattr(handler, "before_commit", None)) is not None:
                await hook(session)


class InboxConsumer:
    def __init__(self, db: Database, settings: ServiceSettings, *, name: str, topics: Sequence[str],
                 handler: Handler, group_id: str | None = None) -> None:
        self.db = db
        self.settings = settings
        self.name = name
        self.topics = list(topics)
        self.handler = handler
        self.group_id = group_id or name
        self.consumer: AIOKafkaConsumer | None = None
        self.dlq_producer: AIOKafkaProducer | None = None
        self.heartbeat = Heartbeat(f"consumer {name}")
        self._lag_at = 0.0
        # Held while a poll's records are handled and their offsets committed; a rebalance
        # waits for it. _revocations counts rebalances begun: a poll read before one is stale.
        self._busy = asyncio.Lock()
        self._revocations = 0

    async def start(self) -> None:
        await ensure_topics(self.settings, [*self.topics, self.settings.dlq_topic])
        self.dlq_producer = make_producer(self.settings, client_id=f"{self.name}-dlq")
        await self.dlq_producer.start()
        self.consumer = make_consumer(self.settings, group_id=self.group_id)
        self.consumer.subscribe(self.topics, listener=_Rebalance(self))
        await self.consumer.start()

    async def stop(self) -> None:
        if self.consumer:
            await self.consumer.stop()
        if self.dlq_producer:
            await self.dlq_producer.stop()

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set (after `start`)."""
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            self.heartbeat.beat()
            generation = self._revocations
            batches = await self.consumer.getmany(timeout_ms=200)
            if batches:
                await self.process_batches(batches, generation)
            if loop.time() - self._lag_at >= 1.0:
                self._lag_at = loop.time()
                await self._measure_lag()

    async def _measure_lag(self) -> None:
        for tp in self.consumer.assignment():
            hw = self.consumer.highwater(tp)
            if hw is None:  # no fetch answered for it yet: position may not be known either
                continue
            try:  # known once a fetch answered; never let a metric hold up the loop
                position = await asyncio.wait_for(self.consumer.position(tp), 1.0)
            except (TimeoutError, KafkaError, AssertionError):
                continue
            LAG.labels(self.name, tp.topic, str(tp.partition)).set(max(0, hw - position))

    def _forget_lag(self, revoked) -> None:
        for tp in revoked:
            try:
                LAG.remove(self.name, tp.topic, str(tp.partition))
            except KeyError:
                pass

    async def process(self, tp: TopicPartition, records: list[ConsumerRecord]) -> None:
        await self.process_batches({tp: records})

    async def process_batches(self, batches: dict[TopicPartition, list[ConsumerRecord]],
                              generation: int | None = None) -> None:
        """Handle one poll (all its partitions), per partition in offset order, in transactions
        of at most consumer_max_batch_s, committing the offsets after each. Stops early, with
        what it has done committed, once a rebalance begins (the records not handled are read
        again by the partitions' next owner, from the committed offsets)."""
        if generation is None:
            generation = self._revocations
        decoded: list[tuple[ConsumerRecord, Envelope]] = []
        for records in batches.values():
            for rec in records:
                try:
                    decoded.append((rec, decode_record(rec.topic, rec.key, rec.value, rec.headers)))
                except EnvelopeError as exc:
                    await self._dead_letter(rec, None, exc, attempts=1)
        async with self._busy:
            if self._revocations != generation:
                return  # read before a rebalance: the partitions' owner now reads them from the commit
            budget = self.settings.consumer_max_batch_s
            done = 0
            while done < len(decoded):
                started = time.monotonic()

                def enough(started=started) -> bool:
                    return self._revocations != generation or time.monotonic() - started >= budget

                part = decoded[done:]
                try:
                    n = await self._apply(part, until=enough)
                except Exception as exc:  # noqa: BLE001 - sorted out in _after_failure
                    n = await self._after_failure(exc, part, enough, generation)
                    if n is None:
                        if self._revocations != generation:
                            break  # rebalanced while the database was away: the new owner reads it
                        continue  # the database is back: the same part again
                done += n
                await self._commit(batches, decoded[done:])
                if self._revocations != generation:
                    break
            if not decoded:
                await self._commit(batches, [])

    async def _after_failure(self, exc: Exception, part, enough, generation: int) -> int | None:
        """A transaction of `part` failed: None if the database was unreachable (it is back
        now, or the partitions went to another member meanwhile: nothing was done), else how
        many records were handled another way."""
        if await self.db.recover(exc, self.name, give_up=lambda: self._revocations != generation):
            # A restart or failover, not the records: never retried one by one into the
            # dead-letter queue (that would lose valid events from the books).
            log.warning("%s: %d records not handled: the database went away (%s)", self.name, len(part),
                        exc.__class__.__name__)
            return None
        if _duplicate_key(exc):
            # Another member committed some of these first: read the inbox again.
            log.warning("%s: %d records met a duplicate key (%s); applying again after the inbox",
                        self.name, len(part), getattr(exc, "orig", None) or exc)
            return await self._apply_or_isolate(part, enough)
        log.warning("%s: batch of %d records failed (%s); retrying one by one", self.name, len(part), exc)
        return await self._one_by_one(part, enough)

    async def _apply_or_isolate(self, items, until) -> int:
        try:
            return await self._apply(items, until=until)
        except Exception as exc:  # noqa: BLE001
            log.warning("%s: batch of %d records failed again (%s); retrying one by one", self.name, len(items), exc)
            return await self._one_by_one(items, until)

    async def _one_by_one(self, items, until) -> int:
        n = 0
        for rec, env in items:
            if n and until():
                break
            await self._apply_with_retries(rec, env)
            n += 1
        return n

    async def _commit(self, batches: dict[TopicPartition, list[ConsumerRecord]],
                      pending: list[tuple[ConsumerRecord, Envelope]]) -> None:
        """Commit each partition's offset up to its first record not yet handled (`pending`
        are the poll's records not handled, in order)."""
        first_pending: dict[TopicPartition, int] = {}
        for rec, _ in pending:
            first_pending.setdefault(TopicPartition(rec.topic, rec.partition), rec.offset)
        offsets = {tp: first_pending.get(tp, records[-1].offset + 1) for tp, records in batches.items() if records}
        offsets = {tp: o for tp, o in offsets.items() if o > batches[tp][0].offset}
        if not offsets:
            return
        try:
            await self.consumer.commit(offsets)
        except (CommitFailedError, KafkaError) as exc:
            # Rebalanced away: the new owner re-reads from the last commit; the inbox dedups.
            log.warning("%s: offset commit failed: %s", self.name, exc)

    async def _apply(self, items: list[tuple[ConsumerRecord, Envelope]],
                     until: Callable[[], bool] | None = None) -> int:
        """Handle `items` in one transaction; with `until`, stop before the first event for
        which it says so (never before the first). Returns how many were handled."""
        handled = len(items)
        async with self.db.transaction() as session:
            seen = await self._seen(session, [env.id for _, env in items])
            # A handler may read what the batch's events need at once (e.g. per company).
            if (before_batch := getattr(self.handler, "before_batch", None)) is not None:
                await before_batch(session, [env for _, env in items if env.id not in seen])
            outcomes, inbox_rows, now = [], [], utcnow()
            payloads: dict[str, bytes] = {}
            yielded = time.monotonic()
            for index, (rec, env) in enumerate(items):
                if index and until is not None and until():
                    handled = index
                    break
                if time.monotonic() - yielded >= _YIELD_EVERY_S:
                    # Handlers can be Python-bound for a whole poll: let the client heartbeat
                    # (and the rebalance listener run) every few milliseconds.
                    await asyncio.sleep(0)
                    yielded = time.monotonic()
                if env.id in seen:
                    # A copy of an event already handled has no second effect; a different
                    # payload under the same id is not a copy but a conflict: refused (to the
                    # dead-letter queue, with an alert), never applied over the first.
                    if env.id in payloads and payloads[env.id] != (rec.value or b""):
                        raise PermanentError(f"event {env.id} was received with a different payload")
                    if (check := getattr(self.handler, "duplicate", None)) is not None:
                        await check(session, env, rec.value or b"")
                    outcomes.append((env.type, "duplicate"))
                    continue
                seen.add(env.id)
                payloads[env.id] = rec.value or b""
                inbox_rows.append({"consumer": self.name, "event_id": env.id, "processed_at": now})
                if not recording():
                    # No spans to record: only carry the event's trace context, so what the
                    # handler publishes still continues the trace of its source.
                    token = otel_context.attach(extract_context(env.trace_headers))
                    try:
                        await self.handler(session, env)
                    finally:
                        otel_context.detach(token)
                    outcomes.append((env.type, "handled"))
                    continue
                with tracer.start_as_current_span(
                    f"{rec.topic} process",
                    context=extract_context(env.trace_headers),
                    kind=SpanKind.CONSUMER,
                    attributes={
                        "messaging.system": "kafka",
                        "messaging.operation.type": "process",
                        "messaging.destination.name": rec.topic,
                        "messaging.consumer.group.name": self.group_id,
                        "messaging.kafka.offset": rec.offset,
                        "messaging.destination.partition.id": str(rec.partition),
                        "messaging.message.id": env.id,
                        "cloudevents.event_type": env.type,
                    },
                ) as span:
                    try:
                        await self.handler(session, env)
                    except Exception as exc:
                        span.record_exception(exc)
                        span.set_status(Status(StatusCode.ERROR, str(exc)))
                        raise
                outcomes.append((env.type, "handled"))
            await bulk_insert(session, InboxRecord.__table__, inbox_rows)
            # A handler may stage its writes per event and write the batch at once.
            before_commit = getattr(self.handler, "before_commit", None)
            if before_commit is not None:
                await before_commit(session)
        committed = utcnow()
        # Metric children looked up once per type and outcome in the batch, not per event.
        for (ce_type, outcome), n in collections.Counter(outcomes).items():
            CONSUMED.labels(self.name, ce_type, outcome).inc(n)
        latency: dict[str, Histogram] = {}
        for (_, env), (_, outcome) in zip(items[:handled], outcomes, strict=True):
            if outcome == "handled":
                if (child := latency.get(env.type)) is None:
                    child = latency[env.type] = EVENT_TO_COMMIT.labels(self.name, env.type)
                child.observe(max(0.0, (committed - env.time).total_seconds()))
        return handled

    async def _seen(self, session: AsyncSession, ids: list[str]) -> set[str]:
        """Which of these events this consumer already handled. On PostgreSQL the ids travel
        as one array parameter (a statement that does not change with the batch size)."""
        t = InboxRecord.__table__
        conn = await session.connection()
        if conn.dialect.name == "postgresql":  # compiled once, run on the driver's connection
            return {r[0] for r in await _SEEN_PG.rows(conn, {"consumer": self.name, "ids": ids})}
        return set((await session.execute(select(t.c.event_id).where(
            t.c.consumer == self.name, t.c.event_id.in_(ids)))).scalars().all())

    async def _apply_with_retries(self, rec: ConsumerRecord, env: Envelope) -> None:
        while True:
            attempts = 0
            try:
                async for attempt in AsyncRetrying(
                    stop=stop_after_attempt(self.settings.consumer_max_retries),
                    wait=wait_exponential(multiplier=self.settings.consumer_retry_backoff_s, max=5),
                    retry=retry_if_not_exception_type(PermanentError),
                    reraise=True,
                ):
                    with attempt:
                        attempts += 1
                        await self._apply([(rec, env)])
                return
            except PermanentError as exc:
                await self._dead_letter(rec, env, exc, attempts=attempts)
                return
            except Exception as exc:  # noqa: BLE001 - whatever it is, it goes to the DLQ with its error
                if await self.db.recover(exc, self.name):
                    continue  # the database went away while the record was retried: not its fault
                await self._dead_letter(rec, env, exc, attempts=attempts)
                return

    async def _dead_letter(self, rec: ConsumerRecord, env: Envelope | None, exc: BaseException,
                           *, attempts: int) -> None:
        error = f"{type(exc).__name__}: {exc}"
        if env is not None:
            # A redelivered copy of an event already dead-lettered (and not yet replayed) is the
            # same problem, not a new one: one dead letter per event.
            async with self.db.sessions() as session:
                earlier = (await session.execute(
                    select(DeadLetter.id).where(DeadLetter.consumer == self.name, DeadLetter.event_id == env.id,
                                                DeadLetter.replayed_at.is_(None)))).scalars().first()
            if earlier is not None:
                log.warning("%s: %s[%d]@%d is a copy of dead letter #%d; skipped", self.name, rec.topic,
                            rec.partition, rec.offset, earlier)
                return
        log.error("%s: %s[%d]@%d -> %s: %s", self.name, rec.topic, rec.partition, rec.offset,
                  self.settings.dlq_topic, error)
        headers = [(k, v) for k, v in rec.headers if not k.startswith("dlq_")] + [
            ("dlq_error", error.encode()),
            ("dlq_consumer", self.name.encode()),
            ("dlq_original_topic", rec.topic.encode()),
            ("dlq_original_partition", str(rec.partition).encode()),
            ("dlq_original_offset", str(rec.offset).encode()),
            ("dlq_attempts", str(attempts).encode()),
            ("dlq_failed_at", utcnow().isoformat().encode()),
        ]
        # The DLQ record is acknowledged before the offset moves past the original.
        await self.dlq_producer.send_and_wait(self.settings.dlq_topic, value=rec.value, key=rec.key,
                                              headers=headers)
        async with self.db.transaction() as session:
            session.add(DeadLetter(
                consumer=self.name, topic=rec.topic, partition=rec.partition, offset=rec.offset,
                event_id=env.id if env else _header(rec, "ce_id"),
                ce_type=env.type if env else _header(rec, "ce_type"),
                msg_key=rec.key,
                headers={k: v.decode(errors="replace") for k, v in rec.headers},
                payload=rec.value, error=error + "\n" + "".join(traceback.format_exception_only(exc)).strip(),
                attempts=attempts, failed_at=utcnow(),
                company_id=(getattr(env.payload, "company_id", "") or "")[:40] or None if env else None,
            ))
        DEAD_LETTERED.labels(self.name, rec.topic).inc()

    async def replay(self, dead_letter_id: int) -> None:
        """Handle a dead-lettered record again (after the cause is fixed); marks it replayed."""
        async with self.db.sessions() as session:
            dl = await session.get(DeadLetter, dead_letter_id)
            if dl is None:
                raise KeyError(dead_letter_id)
        headers = [(k, v.encode()) for k, v in dl.headers.items()]
        try:
            env = decode_record(dl.topic, dl.msg_key, dl.payload, headers)
            rec = ConsumerRecord(
                topic=dl.topic, partition=dl.partition, offset=dl.offset, timestamp=0, timestamp_type=0,
                key=dl.msg_key, value=dl.payload, checksum=None, serialized_key_size=len(dl.msg_key or b""),
                serialized_value_size=len(dl.payload or b""), headers=headers,
            )
            await self._apply([(rec, env)])
        except Exception as exc:  # noqa: BLE001 - the cause goes back to the operator, the attempt is counted
            cause = f"{type(exc).__name__}: {exc}"
            async with self.db.transaction() as session:
                dl = await session.get(DeadLetter, dead_letter_id)
                dl.attempts += 1
                dl.error = cause
                attempts = dl.attempts
            log.warning("%s: replay of dead letter #%d failed again: %s", self.name, dead_letter_id, cause)
            raise ReplayFailed(str(exc) or type(exc).__name__, attempts) from exc
        async with self.db.transaction() as session:
            dl = await session.get(DeadLetter, dead_letter_id)
            dl.replayed_at = utcnow()


class ReplayFailed(Exception):
    """A replayed dead letter failed again; `cause` says why, `attempts` counts every try."""

    def __init__(self, cause: str, attempts: int) -> None:
        super().__init__(cause)
        self.cause, self.attempts = cause, attempts


class _Rebalance(ConsumerRebalanceListener):
    """Logs assignments; on revocation, marks a rebalance begun (the consumer's poll stops at
    the next event) and waits until the transaction in hand has committed with its offsets,
    so no two members ever handle the same records at once. aiokafka awaits this callback
    and keeps heartbeating meanwhile (up to the rebalance timeout)."""

    def __init__(self, consumer: InboxConsumer) -> None:
        self.consumer = consumer

    async def on_partitions_revoked(self, revoked) -> None:
        c = self.consumer
        c._revocations += 1
        c._forget_lag(revoked)
        async with c._busy:
            pass
        if revoked:
            log.info("%s: partitions revoked: %s", c.name, sorted(f"{tp.topic}[{tp.partition}]" for tp in revoked))

    async def on_partitions_assigned(self, assigned) -> None:
        log.info("%s: partitions assigned: %s", self.consumer.name,
                 sorted(f"{tp.topic}[{tp.partition}]" for tp in assigned))


def _duplicate_key(exc: BaseException) -> bool:
    """A constraint refused the transaction: through SQLAlchemy, or from the driver itself
    (the inbox rows go in by COPY on psycopg's connection, fincore.db.bulk_insert)."""
    if isinstance(exc, IntegrityError):
        return True
    try:
        import psycopg
    except ImportError:  # pragma: no cover - SQLite-only installs
        return False
    return isinstance(exc, psycopg.errors.IntegrityError)


def _header(rec: ConsumerRecord, name: str) -> str | None:
    for k, v in rec.headers:
        if k == name:
            return v.decode(errors="replace")
    return None


def dead_letter_json(dl: DeadLetter) -> dict:
    return json.loads(dl.model_dump_json(exclude={"payload", "msg_key"}))
