"""Events that arrive before what they apply to: waiting in the consumer's database.

Events on different Kafka keys have no order between them: a customer return can be read
before the shipment whose invoice it credits. A handler that meets such an event raises
`AwaitingDocument(key)`; the handler (or `handle_or_park`) parks the event in
`awaiting_event`, keyed by what it waits for, in the same transaction that records it in the
inbox (so a redelivered copy is a duplicate, never a second parking). The handler that
later creates what was awaited calls `release(session, consumer, company, key, apply)` in its
own transaction: each parked event is applied again (in a savepoint) and resolved with it.

An event that still cannot apply once what it waited for exists is refused like a poison
record: a `dead_letter` row with the error (the admin API lists it, the dead-letter alert
counts it) and its inbox row removed, so a replay after the fix handles it again; the
transaction that released it (the shipment) is not harmed. One that now waits for something
else waits for that. A service that uses this adds the table with `create_awaiting_table(op)`
in an Alembic migration.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from fincore.db import locked
from fincore.events import registry
from fincore.events.envelope import Envelope, decode_record, encode_record
from fincore.inbox.consumer import DEAD_LETTERED, PermanentError
from fincore.tables import DeadLetter, InboxRecord, utcnow

log = logging.getLogger(__name__)


class AwaitingDocument(Exception):  # noqa: N818 - a state, not a failure
    """The event applies to a document not there yet: it waits for `key`."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(reason)
        self.key = key


class AwaitingEvent(SQLModel, table=True):
    __tablename__ = "awaiting_event"
    __table_args__ = (sa.Index("ix_awaiting_event_key", "consumer", "company_id", "awaiting"),)

    consumer: str = Field(sa_column=sa.Column(sa.String(100), primary_key=True))
    event_id: str = Field(sa_column=sa.Column(sa.String(64), primary_key=True))
    company_id: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    # What it waits for; None once resolved.
    awaiting: str | None = Field(default=None, sa_column=sa.Column(sa.String(200), nullable=True))
    topic: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    msg_key: bytes = Field(sa_column=sa.Column(sa.LargeBinary, nullable=False))
    headers: dict = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    payload: bytes = Field(sa_column=sa.Column(sa.LargeBinary, nullable=False))
    reason: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    parked_at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    resolved_at: dt.datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True)))
    # "applied when <key> arrived" or "refused: <error>".
    resolution: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))


def create_awaiting_table(op) -> None:
    """Alembic: the table of events waiting for a document."""
    op.create_table(
        "awaiting_event",
        sa.Column("consumer", sa.String(100), primary_key=True),
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("company_id", sa.String(40), nullable=False),
        sa.Column("awaiting", sa.String(200), nullable=True),
        sa.Column("topic", sa.String(255), nullable=False),
        sa.Column("msg_key", sa.LargeBinary, nullable=False),
        sa.Column("headers", sa.JSON, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("parked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.Text, nullable=True),
    )
    op.create_index("ix_awaiting_event_key", "awaiting_event", ["consumer", "company_id", "awaiting"])


def drop_awaiting_table(op) -> None:
    op.drop_index("ix_awaiting_event_key", "awaiting_event")
    op.drop_table("awaiting_event")


async def park(session: AsyncSession, consumer: str, env: Envelope, waiting: AwaitingDocument) -> None:
    """Keep `env` until `waiting.key` exists (in the caller's transaction)."""
    key, value, headers = encode_record(env)
    session.add(AwaitingEvent(
        consumer=consumer, event_id=env.id, company_id=getattr(env.payload, "company_id", "") or "",
        awaiting=waiting.key, topic=registry.by_type(env.type).topic, msg_key=key,
        headers={k: v.decode() for k, v in headers}, payload=value, reason=str(waiting), parked_at=utcnow()))
    log.info("%s: %s %s waits for %s: %s", consumer, env.type, env.id, waiting.key, waiting)


Apply = Callable[[AsyncSession, Envelope], Awaitable[None]]


async def handle_or_park(session: AsyncSession, consumer: str, env: Envelope, apply: Apply) -> bool:
    """Apply `env`, or park it if it awaits a document. True if applied. The attempt runs in a
    savepoint, so a parked event leaves nothing of its attempt behind."""
    try:
        async with session.begin_nested():
            await apply(session, env)
    except AwaitingDocument as waiting:
        await park(session, consumer, env, waiting)
        return False
    return True


async def release(session: AsyncSession, consumer: str, company_id: str, key: str, apply: Apply) -> int:
    """Apply, in this transaction, the events of `consumer` parked awaiting `key` (oldest
    first). Returns how many applied. Locks them (PostgreSQL) so two releases cannot both apply
    one, and reads them as locked (fincore.db.locked), not as this transaction may hold them."""
    q = locked(sa.select(AwaitingEvent).where(
        AwaitingEvent.consumer == consumer, AwaitingEvent.company_id == company_id, AwaitingEvent.awaiting == key,
        AwaitingEvent.resolved_at.is_(None)).order_by(AwaitingEvent.parked_at, AwaitingEvent.event_id))
    applied = 0
    for row in (await session.execute(q)).scalars().all():
        env = decode_record(row.topic, row.msg_key, row.payload, [(k, v.encode()) for k, v in row.headers.items()])
        try:
            async with session.begin_nested():
                await apply(session, env)
        except AwaitingDocument as waiting:
            row.awaiting, row.reason = waiting.key, str(waiting)
            continue
        except PermanentError as exc:
            await _refuse(session, row, env, exc)
            continue
        row.awaiting, row.resolved_at, row.resolution = None, utcnow(), f"applied when {key} arrived"
        applied += 1
    return applied


async def _refuse(session: AsyncSession, row: AwaitingEvent, env: Envelope, exc: PermanentError) -> None:
    error = f"{type(exc).__name__}: {exc}"
    log.error("%s: %s %s refused after waiting for %s: %s", row.consumer, env.type, env.id, row.awaiting, error)
    row.resolved_at, row.resolution = utcnow(), f"refused: {exc}"
    session.add(DeadLetter(consumer=row.consumer, topic=row.topic, partition=-1, offset=-1, event_id=env.id,
                           ce_type=env.type, msg_key=row.msg_key, headers=row.headers, payload=row.payload,
                           error=f"{error} (after waiting for {row.awaiting})", attempts=1, failed_at=utcnow(),
                           company_id=row.company_id[:40] or None))
    row.awaiting = None
    # Not handled after all: a replay of the dead letter (after the fix) applies it again.
    t = InboxRecord.__table__
    await session.execute(sa.delete(t).where(t.c.consumer == row.consumer, t.c.event_id == env.id))
    DEAD_LETTERED.labels(row.consumer, row.topic).inc()
