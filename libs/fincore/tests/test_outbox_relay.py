"""The outbox relay's batch on the embedded database (SQLite; PostgreSQL's path, the same
statements run on the driver's connection, is tests/integration/test_outbox_inbox.py): rows
go out in id order with their key, payload and stored headers, leave the pending list once,
and a producer span per row is made only when spans are recorded."""

import asyncio
import datetime as dt

from finance.ar.v1 import events_pb2 as ar
from fincore import dates
from fincore import telemetry as tel
from fincore.db import Database
from fincore.outbox import OutboxRelay, add_event
from fincore.settings import ServiceSettings
from fincore.tables import OutboxPending, OutboxRecord, create_outbox_tables
from sqlalchemy import select

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


class FakeProducer:
    def __init__(self) -> None:
        self.sent: list[tuple] = []

    async def send(self, topic, *, value, key, headers):
        self.sent.append((topic, key, value, dict(headers)))
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


async def relay_with_rows(tmp_path, n: int, batch: int):
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}")
    async with db.engine.begin() as conn:
        await conn.run_sync(create_outbox_tables)
    async with db.transaction() as s:
        for i in range(n):
            add_event(s, ar.InvoiceIssued(company_id="C", document_number=f"INV-{i}", invoice_id=f"i{i}",
                                          occurrence_date=dates.to_proto(dt.date(2026, 11, 1))), source="ar")
    async with db.transaction() as s:  # the stored headers, as a request with a trace would have left them
        for row in (await s.execute(select(OutboxRecord))).scalars():
            row.headers = {**row.headers, "traceparent": TRACEPARENT}
    relay = OutboxRelay(db, ServiceSettings(service_name="ar", database_url=db.url, outbox_batch_size=batch))
    relay.producer = FakeProducer()
    return db, relay


async def test_a_batch_publishes_in_order_with_the_stored_headers_and_marks_the_rows(tmp_path, monkeypatch):
    monkeypatch.setattr(tel, "_recording", False)
    db, relay = await relay_with_rows(tmp_path, 5, batch=3)
    try:
        assert await relay.publish_batch() == 3
        assert await relay.publish_batch() == 2
        assert await relay.publish_batch() == 0
        sent = relay.producer.sent
        assert [v for _, _, v, _ in sent] == [
            ar.InvoiceIssued(company_id="C", document_number=f"INV-{i}", invoice_id=f"i{i}",
                             occurrence_date=dates.to_proto(dt.date(2026, 11, 1))).SerializeToString()
            for i in range(5)]
        assert {t for t, _, _, _ in sent} == {"finance.ar.events.v1"}
        assert [k for _, k, _, _ in sent] == [f"i{i}".encode() for i in range(5)]
        for _, _, _, headers in sent:
            assert headers["traceparent"] == TRACEPARENT.encode()  # as stored: no span was made
            assert headers["ce_type"] == b"finance.ar.InvoiceIssued.v1" and headers["ce_id"]
        async with db.sessions() as s:
            rows = (await s.execute(select(OutboxRecord).order_by(OutboxRecord.id))).scalars().all()
            assert (await s.execute(select(OutboxPending))).all() == []  # nothing waits any more
        assert [r.event_id.encode() for r in rows] == [h["ce_id"] for _, _, _, h in sent]
    finally:
        await db.dispose()


async def test_when_spans_are_recorded_each_row_gets_a_producer_span_in_its_trace(tmp_path, monkeypatch):
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(tel, "_recording", True)
    monkeypatch.setattr("fincore.outbox.relay.tracer", provider.get_tracer("test"))
    db, relay = await relay_with_rows(tmp_path, 2, batch=10)
    try:
        assert await relay.publish_batch() == 2
        spans = exporter.get_finished_spans()
        assert [s.name for s in spans] == ["finance.ar.events.v1 publish"] * 2
        assert all(format(s.context.trace_id, "032x") == TRACEPARENT.split("-")[1] for s in spans)
        for span, (_, _, _, headers) in zip(spans, relay.producer.sent, strict=True):
            # the record carries the producer span's context (same trace, the span's own id)
            assert headers["traceparent"].decode().split("-")[1:3] == [
                TRACEPARENT.split("-")[1], format(span.context.span_id, "016x")]
    finally:
        await db.dispose()
