from __future__ import annotations

from google.protobuf.message import Message
from sqlalchemy.ext.asyncio import AsyncSession

from fincore.events.envelope import Envelope, envelope_headers, new_envelope
from fincore.tables import OutboxRecord, utcnow
from fincore.telemetry import inject_headers


def event_row(payload: Message, *, source: str, topic: str | None = None, serialize: bool = True) -> dict:
    """An outbox row (as a dict, for bulk inserts) for `payload`, carrying the current trace
    context. `serialize` False: the row's payload is left empty for the caller, who sets it
    once the message is final (the ledger numbers its journals after building their events)."""
    env = new_envelope(payload, source=source, trace_headers=inject_headers())
    if topic:
        env.topic = topic
    return {"event_id": env.id, "topic": env.topic, "msg_key": env.subject, "ce_type": env.type,
            "headers": envelope_headers(env), "payload": payload.SerializeToString() if serialize else b"",
            "created_at": utcnow()}


def add_event(session: AsyncSession, payload: Message, *, source: str, topic: str | None = None) -> Envelope:
    """Stage `payload` as an event in the caller's transaction; the relay publishes it after commit.

    The current trace context is stored with the row so the relay's produce span and the
    consumers continue the trace of the request that caused the event."""
    env = new_envelope(payload, source=source, trace_headers=inject_headers())
    if topic:  # e.g. a test's private topic; normally the topic declared in proto/
        env.topic = topic
    session.add(
        OutboxRecord(
            event_id=env.id,
            topic=env.topic,
            msg_key=env.subject,
            ce_type=env.type,
            headers=envelope_headers(env),
            payload=payload.SerializeToString(),
            created_at=utcnow(),
        )
    )
    return env
