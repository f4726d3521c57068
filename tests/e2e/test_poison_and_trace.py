"""A record that can never be handled goes to the DLQ with its reason and does not block its
partition; one invoice request is one trace from the AR API through Kafka to the journal."""

import asyncio
import datetime as dt
import os
import subprocess
import sys
import time
from decimal import Decimal

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from finance.ar.v1 import events_pb2 as ar
from fincore import dates, money
from fincore.events import encode_record, new_envelope

pytestmark = pytest.mark.e2e
TOPIC, DLQ = "finance.ar.events.v1", "finance.gl.dlq.v1"


def invoice_event(company: str, n: int) -> ar.InvoiceIssued:
    m = lambda v: money.to_proto(Decimal(v), "CNY")  # noqa: E731
    msg = ar.InvoiceIssued(company_id=company, document_number=f"EXT-{n}", invoice_id=f"{company}-inv-{n}",
                           customer_code="C1", currency="CNY", occurrence_date=dates.to_proto(dt.date(2026, 11, 9)),
                           net_total=m("100.00"), tax_total=m("13.00"), gross_total=m("113.00"))
    msg.lines.append(ar.InvoiceLine(line_no=1, description="x", net=m("100.00"), tax=m("13.00"), tax_code="VAT13"))
    return msg


async def produce_all(bootstrap: str, records: list[tuple[bytes, bytes | None, list]]) -> list[int]:
    """Send records, in order, to partition 0; return their offsets."""
    p = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await p.start()
    try:
        return [(await p.send_and_wait(TOPIC, key=k, value=v, headers=h, partition=0)).offset for k, v, h in records]
    finally:
        await p.stop()


async def read_dlq(bootstrap: str, offsets: set[int], wait_s: float = 60) -> dict[int, dict]:
    c = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest")
    await c.start()
    found: dict[int, dict] = {}
    try:
        parts = c.partitions_for_topic(DLQ) or set()
        c.assign([TopicPartition(DLQ, p) for p in parts])
        await c.seek_to_beginning()
        deadline = time.monotonic() + wait_s
        while len(found) < len(offsets) and time.monotonic() < deadline:
            for recs in (await c.getmany(timeout_ms=500)).values():
                for r in recs:
                    h = {k: v.decode() for k, v in r.headers}
                    if h.get("dlq_original_topic") == TOPIC and h.get("dlq_original_partition") == "0" \
                            and int(h["dlq_original_offset"]) in offsets:
                        found[int(h["dlq_original_offset"])] = h
    finally:
        await c.stop()
    return found


def test_poison_records_go_to_the_dlq_and_the_partition_moves_on(suite):
    company = suite.new_company("POISON")
    ghost = f"GHOST-{company}"  # a company the ledger does not know (yet)
    good = [encode_record(new_envelope(invoice_event(company, i), source="test")) for i in range(5)]
    k, v, h = good[0]
    garbage = (b"poison-1", b"\x08\xff\xff\xff\xff not protobuf", h)
    no_headers = (b"poison-2", v, [])
    unknown_company = encode_record(new_envelope(invoice_event(ghost, 99), source="test"))
    records = [good[0], garbage, good[1], no_headers, good[2], unknown_company, good[3], good[4]]
    offsets = asyncio.run(produce_all(suite.infra.bootstrap_servers, records))
    poison = {offsets[1]: "payload is not a valid InvoiceIssued", offsets[3]: "missing CloudEvents headers",
              offsets[5]: "is not set up in the ledger"}
    # Checked after the test: AR never had these invoices (EXT-0..4 to C1, 5 x 113.00 = 565.00; the
    # ghost's 113.00), and the garbage record carries the first good record's headers, so that
    # event id has its journal and, for the garbage copy, a dead letter.
    why = "InvoiceIssued published straight to the topic: AR never had the invoices"
    suite.expect_breach("I7", company, "customer C1 CNY", why, detail="sub-ledger 0 != ledger 565.00 ")
    suite.expect_breach("I7", ghost, "customer C1 CNY", why, detail="sub-ledger 0 != ledger 113.00 ")
    first_id = dict(h)["ce_id"].decode()
    suite.expect_breach("I2", company, f"event {first_id}", "a garbage payload sent under the first good record's "
                        "headers: the good copy posted, the garbage dead-lettered",
                        detail="more than one effect: 1 journal(s), 1 dead letter(s)")

    suite.wait_journals(company, 5, timeout=60)
    assert sorted(j["source"]["document"] for j in suite.journals(company)) == [f"EXT-{i}" for i in range(5)]

    dead = asyncio.run(read_dlq(suite.infra.bootstrap_servers, set(poison)))
    assert set(dead) == set(poison), dead
    for off, reason in poison.items():
        assert reason in dead[off]["dlq_error"], dead[off]
        assert dead[off]["dlq_consumer"] == "gl-posting" and int(dead[off]["dlq_attempts"]) >= 1

    listed = suite.http.get(f"{suite.gl_url}/v1/admin/dead-letters", params={"limit": 1000}).json()
    mine = {d["offset"]: d for d in listed if d["topic"] == TOPIC and d["partition"] == 0 and d["offset"] in poison}
    assert set(mine) == set(poison)

    # The cause of the third is fixed (the company is set up): replay posts it, once.
    r = suite.http.post(f"{suite.gl_url}/v1/companies",
                        json={"id": ghost, "name": "Ghost", "functional_currency": "CNY"})
    assert r.status_code == 201
    dl_id = mine[offsets[5]]["id"]
    assert suite.http.post(f"{suite.gl_url}/v1/admin/dead-letters/{dl_id}/replay").status_code == 200
    assert suite.journal_count(ghost) == 1
    again = suite.http.post(f"{suite.gl_url}/v1/admin/dead-letters/{dl_id}/replay")
    assert again.status_code == 200 and suite.journal_count(ghost) == 1  # the inbox already has it
    # Admin routes need the admin scope.
    unauth = suite.http.get(f"{suite.gl_url}/v1/admin/dead-letters", headers={"Authorization": "Bearer x"})
    assert unauth.status_code == 401


def test_one_invoice_is_one_trace_from_api_to_journal(suite, otlp):
    company = suite.new_company("TRACE")
    trace_id = os.urandom(16).hex()
    inv = suite.post_invoice(company, 1, traceparent=f"00-{trace_id}-{os.urandom(8).hex()}-01")
    suite.wait_journals(company, 1, timeout=60)
    journal = suite.journals(company)[0]
    assert journal["source"]["trace_id"] == trace_id
    assert journal["source"]["document"] == inv["number"]

    def spans():
        return otlp.trace(trace_id)

    deadline = time.monotonic() + 30
    want = {("ar", "POST /v1/invoices"), ("ar", f"{TOPIC} publish"),
            ("gl", f"{TOPIC} process"), ("gl", "gl.post_journal")}
    while not want <= {(s.service, s.name) for s in spans()} and time.monotonic() < deadline:
        time.sleep(0.2)
    got = spans()
    assert want <= {(s.service, s.name) for s in got}, sorted({(s.service, s.name) for s in got})
    # Other contexts consume AR's topic too (cash management's open items, ...), each with its
    # own "process" span in this trace: the GL's spans are picked by service as well as name.
    by_name = {(s.service, s.name): s for s in got}
    server, produce = by_name[("ar", "POST /v1/invoices")], by_name[("ar", f"{TOPIC} publish")]
    consume, post = by_name[("gl", f"{TOPIC} process")], by_name[("gl", "gl.post_journal")]
    ids = {s.span_id for s in got}
    assert server.kind == 2 and produce.kind == 4 and consume.kind == 5  # SERVER, PRODUCER, CONSUMER
    assert produce.parent_span_id in ids  # the request that wrote the outbox row
    assert consume.parent_span_id == produce.span_id  # restored from the Kafka record headers
    assert post.parent_span_id == consume.span_id
    assert produce.attributes["messaging.message.id"] == journal["source"]["event_id"]


def test_order_to_cash_is_one_trace_and_finance_trace_prints_it(suite, otlp):
    """The CRM's order and the warehouse's shipment carry one traceparent (the WMS passes on the
    one it got with the order); from there every hop continues it: credit check, shipment,
    GoodsIssued through Kafka to AR, the invoice AR issues, through Kafka to the GL, the
    journal, and JournalPosted on the GL's topic."""
    h, company = suite.http, suite.new_company("O2CTRACE")
    assert h.put(f"{suite.ar_url}/v1/customers/K1", json={"company_id": company, "code": "K1", "name": "K",
                                                          "credit_limit": "10000.00"}).status_code == 200
    assert h.post(f"{suite.inv_url}/v1/items", json={"company_id": company, "code": "MA", "name": "MA",
                                                     "costing_method": "moving_average"}).status_code == 201
    h.post(f"{suite.inv_url}/v1/warehouses", json={"company_id": company, "code": "W", "name": "W"})
    stock = {"company_id": company, "movement_date": "2026-11-02", "warehouse": "W", "partner": "S",
             "reference": "", "lines": [{"item": "MA", "quantity": "5", "unit_cost": "100.00"}]}
    assert h.post(f"{suite.inv_url}/v1/receipts", json=stock).status_code == 201

    trace_id = os.urandom(16).hex()
    tp = {"traceparent": f"00-{trace_id}-{os.urandom(8).hex()}-01"}
    so = h.post(f"{suite.ar_url}/v1/sales-orders", headers=tp, json={
        "company_id": company, "crm_order_id": "CRM-T", "customer_code": "K1", "order_date": "2026-11-04",
        "lines": [{"item_code": "MA", "description": "MA", "quantity": "2", "unit_price": "300.00",
                   "tax_code": "VAT13"}]})
    assert so.status_code == 201, so.text
    ship = h.post(f"{suite.inv_url}/v1/issues", headers=tp, json={
        **stock, "movement_date": "2026-11-05", "partner": "K1", "reference": "CRM-T",
        "lines": [{"item": "MA", "quantity": "2"}]})
    assert ship.status_code == 201, ship.text

    ar_topic, inv_topic, gl_topic = "finance.ar.events.v1", "finance.inventory.events.v1", "finance.gl.events.v1"
    want = {("ar", "POST /v1/sales-orders"), ("ar", "ar.credit_check"), ("inventory", "POST /v1/issues"),
            ("inventory", f"{inv_topic} publish"), ("ar", f"{inv_topic} process"), ("ar", f"{ar_topic} publish"),
            ("gl", f"{ar_topic} process"), ("gl", "gl.post_journal"), ("gl", f"{gl_topic} publish")}
    deadline = time.monotonic() + 120
    while not want <= {(s.service, s.name) for s in otlp.trace(trace_id)} and time.monotonic() < deadline:
        time.sleep(0.3)
    got = otlp.trace(trace_id)
    assert want <= {(s.service, s.name) for s in got}, sorted({(s.service, s.name) for s in got})
    by_id = {s.span_id: s for s in got}

    def parent(service: str, name: str, kind: int | None = None):
        """The parent of the span (the one with the given kind where a name has several)."""
        span = next(s for s in got if (s.service, s.name) == (service, name) and kind in (None, s.kind))
        return by_id.get(span.parent_span_id)

    # Each hop is the child of the one that caused it (5 = CONSUMER, 4 = PRODUCER).
    assert parent("ar", "ar.credit_check").name == "POST /v1/sales-orders"
    assert parent("ar", f"{inv_topic} process").name == f"{inv_topic} publish"
    assert parent("ar", f"{ar_topic} publish").name == f"{inv_topic} process"  # the invoice AR issued
    assert parent("gl", f"{ar_topic} process").name == f"{ar_topic} publish"
    assert parent("gl", f"{gl_topic} publish").name == "gl.post_journal"  # JournalPosted
    journals = suite.journals(company)
    assert trace_id in {j["source"]["trace_id"] for j in journals}

    # The same spans went to the local span files; finance-trace prints the tree.
    deadline = time.monotonic() + 30
    while True:
        out = subprocess.run([sys.executable, "-m", "fincore.tracefile", trace_id, "--dir",
                              str(suite.log_dir / "data" / "traces")],
                             capture_output=True, text=True)
        if all(name in out.stdout for _, name in want) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert out.returncode == 0, out.stderr
    assert all(name in out.stdout for _, name in want), out.stdout
    assert out.stdout.splitlines()[0].startswith(f"trace {trace_id}: ")
