from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from google.protobuf.message import Message
from opentelemetry import context as otel_context
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils import uuid7

from fincore.events.envelope import Envelope, ce_time, envelope_headers, headers_of, new_envelope
from fincore.events.registry import EventSpec, registry
from fincore.tables import OutboxRecord, utcnow
from fincore.telemetry import inject_headers


def event_row(payload: Message, *, source: str, topic: str | None = None, serialize: bool = True) -> dict:
    """An outbox row (as a dict, for bulk inserts) for `payload`, carrying the current trace
    context."""
    return event_rows([payload], source=source, topic=topic, serialize=serialize)[0]


def event_rows(payloads: Sequence[Message], *, source: str, topic: str | None = None, serialize: bool = True,
               contexts: Sequence[otel_context.Context | None] | None = None,
               time: dt.datetime | None = None) -> list[dict]:
    """The outbox rows of events written together, all at `time` (now if not given): the
    events' time and the rows'. Each carries the trace context: `contexts[i]` for the i-th (the
    ledger writes each journal's event in the trace of its source, without attaching it), else
    the current one. `serialize` False: the rows' payloads are left empty for the caller, who
    sets them once the messages are final (the ledger numbers its journals after building
    their events). The per-event work is the id, the key and the trace headers; the rest is
    done once (the posting consumer writes one per journal)."""
    time = time or utcnow()
    when = ce_time(time)
    specs: dict[type, EventSpec] = {}
    rows = []
    for i, payload in enumerate(payloads):
        spec = specs.get(type(payload))
        if spec is None:
            spec = specs[type(payload)] = registry.for_message(payload)
        event_id, subject = str(uuid7()), spec.key_of(payload)
        trace_headers = inject_headers(contexts[i] if contexts is not None else None)
        rows.append({"event_id": event_id, "topic": topic or spec.topic, "msg_key": subject, "ce_type": spec.ce_type,
                     "headers": headers_of(event_id, spec.ce_type, source, when, subject, trace_headers),
                     "payload": payload.SerializeToString() if serialize else b"", "created_at": time})
    return rows


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
