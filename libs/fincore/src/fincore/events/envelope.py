"""CloudEvents 1.0 in Kafka binary content mode, with a protobuf payload.

Attributes travel as `ce_*` record headers, the payload is the record value, the key is
the aggregate id. Subscribers that know nothing of this code can read every event with
any Kafka client and the .proto files.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from google.protobuf.message import DecodeError, Message
from uuid_utils import uuid7

from fincore.events.registry import registry

CONTENT_TYPE = "application/protobuf"
SPEC_VERSION = "1.0"
TRACE_HEADERS = ("traceparent", "tracestate", "baggage")


class EnvelopeError(ValueError):
    """The record is not a valid finance event (missing header, unknown type, bad payload)."""


@dataclass
class Envelope:
    id: str
    type: str
    source: str
    time: dt.datetime
    subject: str
    topic: str
    payload: Message
    # traceparent / tracestate captured when the event was written.
    trace_headers: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.subject


def new_envelope(payload: Message, *, source: str, trace_headers: Mapping[str, str] | None = None,
                 time: dt.datetime | None = None) -> Envelope:
    spec = registry.for_message(payload)
    return Envelope(
        id=str(uuid7()),
        type=spec.ce_type,
        source=source,
        time=time or dt.datetime.now(dt.UTC),
        subject=spec.key_of(payload),
        topic=spec.topic,
        payload=payload,
        trace_headers=dict(trace_headers or {}),
    )


def envelope_headers(env: Envelope) -> dict[str, str]:
    return headers_of(env.id, env.type, env.source, ce_time(env.time), env.subject, env.trace_headers)


def ce_time(time: dt.datetime) -> str:
    """The `ce_time` attribute: RFC 3339 in UTC."""
    return time.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def headers_of(event_id: str, ce_type: str, source: str, time: str, subject: str,
               trace_headers: Mapping[str, str]) -> dict[str, str]:
    """An event's record headers (`time` as `ce_time` gives it)."""
    return {
        "ce_specversion": SPEC_VERSION,
        "ce_id": event_id,
        "ce_type": ce_type,
        "ce_source": source,
        "ce_time": time,
        "ce_subject": subject,
        "content-type": CONTENT_TYPE,
        **{k: v for k, v in trace_headers.items() if k in TRACE_HEADERS},
    }


def encode_record(env: Envelope) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """-> (key, value, headers) ready for a Kafka producer."""
    headers = [(k, v.encode()) for k, v in envelope_headers(env).items()]
    return env.subject.encode(), env.payload.SerializeToString(), headers


def decode_record(topic: str, key: bytes | None, value: bytes | None,
                  headers: Iterable[tuple[str, bytes]]) -> Envelope:
    try:
        h = {k: v.decode() for k, v in headers}
    except UnicodeDecodeError as exc:
        raise EnvelopeError(f"header is not UTF-8: {exc}") from exc
    missing = [n for n in ("ce_id", "ce_type", "ce_source", "ce_time") if not h.get(n)]
    if missing:
        raise EnvelopeError(f"missing CloudEvents headers: {', '.join(missing)}")
    if h.get("content-type", CONTENT_TYPE) != CONTENT_TYPE:
        raise EnvelopeError(f"unsupported content-type {h['content-type']!r}")
    try:
        spec = registry.by_type(h["ce_type"])
    except KeyError as exc:
        raise EnvelopeError(str(exc)) from exc
    if value is None:
        raise EnvelopeError("record has no value")
    try:
        payload = spec.message_class.FromString(value)
    except DecodeError as exc:
        raise EnvelopeError(f"payload is not a valid {spec.message_class.__name__}: {exc}") from exc
    try:
        time = dt.datetime.fromisoformat(h["ce_time"].replace("Z", "+00:00"))
    except ValueError as exc:
        raise EnvelopeError(f"bad ce_time {h['ce_time']!r}") from exc
    return Envelope(
        id=h["ce_id"],
        type=h["ce_type"],
        source=h["ce_source"],
        time=time,
        subject=h.get("ce_subject") or (key.decode() if key else ""),
        topic=topic,
        payload=payload,
        trace_headers={k: h[k] for k in TRACE_HEADERS if k in h},
    )
