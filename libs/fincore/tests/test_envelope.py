import datetime as dt
from decimal import Decimal

import pytest
from finance.ar.v1 import events_pb2 as ar
from fincore import dates, money
from fincore.events import EnvelopeError, decode_record, encode_record, new_envelope, registry


def invoice() -> ar.InvoiceIssued:
    return ar.InvoiceIssued(company_id="C1", document_number="INV-1", invoice_id="inv-123",
                            occurrence_date=dates.to_proto(dt.date(2026, 11, 3)), currency="CNY",
                            gross_total=money.to_proto(Decimal("113.00"), "CNY"))


def test_round_trip_binary_mode():
    env = new_envelope(invoice(), source="ar", trace_headers={"traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01"})
    key, value, headers = encode_record(env)
    assert key == b"inv-123"  # key = aggregate id (per-aggregate order)
    h = dict(headers)
    assert h["ce_type"] == b"finance.ar.InvoiceIssued.v1"
    assert h["ce_specversion"] == b"1.0"
    assert h["content-type"] == b"application/protobuf"
    assert h["traceparent"].startswith(b"00-aaaa")
    back = decode_record("finance.ar.events.v1", key, value, headers)
    assert back.id == env.id and back.type == env.type and back.subject == "inv-123"
    assert back.payload == env.payload
    assert back.time == env.time.replace(microsecond=back.time.microsecond)
    assert back.trace_headers == env.trace_headers


def test_ids_are_uuid7_and_ordered():
    a, b = (new_envelope(invoice(), source="ar") for _ in range(2))
    assert a.id[14] == "7" and a.id < b.id


@pytest.mark.parametrize("mutate, message", [
    (lambda h, v: ([x for x in h if x[0] != "ce_type"], v), "missing CloudEvents headers"),
    (lambda h, v: ([(k, b"finance.nope.Thing.v1" if k == "ce_type" else x) for k, x in h], v), "unknown event type"),
    (lambda h, v: (h, b"\xff\xff\xff"), "payload is not a valid InvoiceIssued"),
    (lambda h, v: ([(k, b"text/plain" if k == "content-type" else x) for k, x in h], v), "content-type"),
    (lambda h, v: (h, None), "no value"),
])
def test_bad_records_are_refused_with_a_reason(mutate, message):
    key, value, headers = encode_record(new_envelope(invoice(), source="ar"))
    headers, value = mutate(headers, value)
    with pytest.raises(EnvelopeError, match=message):
        decode_record("finance.ar.events.v1", key, value, headers)


def test_registry_reads_topics_from_proto():
    spec = registry.by_type("finance.ar.InvoiceIssued.v1")
    assert spec.topic == "finance.ar.events.v1" and spec.key_field == "invoice_id" and spec.producer == "ar"
    assert "finance.gl.events.v1" in registry.topics()
    assert all(s.ce_type.endswith(".v1") for s in registry.all())
