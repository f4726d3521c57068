"""Every process serves Prometheus metrics and a health endpoint: scraped here from the real
relay, consumer and gRPC processes of the session suite, after real work went through them."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import grpc
import httpx
import pytest
from finance.credit.v1 import credit_service_pb2 as pb
from finance.credit.v1 import credit_service_pb2_grpc as pb_grpc
from fincore import money
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.e2e


def samples(url: str) -> list:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return [s for fam in text_string_to_metric_families(text) for s in fam.samples]


def value(url: str, name: str, **labels) -> float | None:
    got = [s.value for s in samples(url) if s.name == name and labels.items() <= s.labels.items()]
    return sum(got) if got else None


def wait_value(url: str, name: str, ok, timeout: float = 60, **labels) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = value(url, name, **labels)
        if v is not None and ok(v):
            return v
        time.sleep(0.3)
    raise AssertionError(f"{name}{labels} never satisfied the condition; last {value(url, name, **labels)}")


def test_relay_consumer_and_grpc_processes_export_metrics_and_health(suite):
    company = suite.new_company("MET")
    suite.post_invoice(company, 1)
    suite.wait_journals(company, 1, timeout=120)

    consume = suite.gl_consumer.metrics_url
    # The journal's commit was observed from the event's time (one InvoiceIssued at least).
    assert wait_value(consume, "event_to_commit_latency_seconds_count", lambda v: v >= 1,
                      consumer="gl-posting", ce_type="finance.ar.InvoiceIssued.v1") >= 1
    assert value(consume, "events_consumed_total", consumer="gl-posting", outcome="handled") >= 1
    # Lag per partition from the fetch high-water mark: every partition of the AR topic is
    # reported, and it drains to 0 once the journal is in.
    lag = [s for s in samples(consume) if s.name == "kafka_consumer_lag_messages"
           and s.labels["topic"] == "finance.ar.events.v1" and s.labels["consumer"] == "gl-posting"]
    assert lag, "no lag series for finance.ar.events.v1"
    wait_value(consume, "kafka_consumer_lag_messages", lambda v: v == 0, consumer="gl-posting",
               topic="finance.ar.events.v1")
    assert value(consume, "db_client_connection_max", pool_name="gl") == 20  # pool_size 10 + max_overflow 10
    assert value(consume, "db_client_connection_count", pool_name="gl", state="idle") >= 1

    relay = suite.ar_relay.metrics_url
    assert wait_value(relay, "outbox_published_total", lambda v: v >= 1, topic="finance.ar.events.v1") >= 1
    wait_value(relay, "outbox_pending", lambda v: v == 0)
    assert value(relay, "outbox_oldest_pending_age_seconds") == 0

    # Health: the loops turn, so liveness answers 200 with each loop named; readiness too, once
    # every loop of the process has started (a second consumer may still be joining its group).
    for proc in (suite.gl_consumer, suite.ar_relay, suite.budget_consumer):
        h = httpx.get(f"{proc.metrics_url}/healthz", timeout=10)
        assert h.status_code == 200 and h.json()["status"] == "ok", (proc.name, h.text)
        deadline = time.monotonic() + 90
        while (r := httpx.get(f"{proc.metrics_url}/readyz", timeout=10)).status_code != 200 \
                and time.monotonic() < deadline:
            time.sleep(0.5)
        assert r.status_code == 200, (proc.name, r.text)
    assert "consumer gl-posting" in httpx.get(f"{consume}/healthz", timeout=10).json()["loops"]

    # gRPC latency by method and status code (OK for the health check, NOT_FOUND = 5).
    async def calls():
        async with grpc.aio.insecure_channel(f"127.0.0.1:{suite.ar_grpc_port}") as ch:
            await health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=10)
            with pytest.raises(grpc.aio.AioRpcError) as e:
                await pb_grpc.CreditServiceStub(ch).CheckCredit(
                    pb.CheckCreditRequest(company_id=company, customer_code="NOBODY",
                                          amount=money.to_proto(Decimal("1.00"), "CNY"), order_ref="M-1"),
                    metadata=(("authorization", f"Bearer {suite.token}"),), timeout=10)
            assert e.value.code() == grpc.StatusCode.NOT_FOUND

    asyncio.run(calls())
    grpc_metrics = suite.ar_grpc.metrics_url
    assert value(grpc_metrics, "rpc_server_call_duration_seconds_count", rpc_service="finance.credit.v1.CreditService",
                 rpc_method="CheckCredit", rpc_grpc_status_code="5") >= 1
    assert value(grpc_metrics, "rpc_server_call_duration_seconds_count", rpc_service="grpc.health.v1.Health",
                 rpc_method="Check", rpc_grpc_status_code="0") >= 1


def test_an_event_parked_in_a_closed_period_shows_on_the_gl_gauge(suite):
    h = suite.http
    company = suite.new_company("MPARK")
    assert h.post(f"{suite.gl_url}/v1/companies/{company}/periods/2026-10/close", json={}).status_code == 200
    body = {**suite.invoice_body(company, 1), "issue_date": "2026-10-15"}
    r = h.post(f"{suite.ar_url}/v1/invoices", json=body, headers={"Idempotency-Key": f"{company}-park"})
    assert r.status_code == 201, r.text
    # Left parked on purpose (the gauge is the point): AR has the invoice, the ledger not yet.
    # The GL relay samples the parked events every few seconds.
    assert wait_value(suite.gl_relay.metrics_url, "gl_parked_events", lambda v: v == 1, timeout=120,
                      company=company, period="2026-10", period_state="closed",
                      reason="period-closed") == 1
    # finance-verify: AR's receivables exceed the ledger's by exactly the parked invoice, which
    # it names as the reconciling item (I7 explained), not as a breach.
    res = suite.verify([company])
    assert not res.breaches, res.report()
    assert [b.subject for b in res.explained] == [f"customer {r.json()['customer_code']} CNY"], res.report()
    assert (f"explained I7 {company} customer {r.json()['customer_code']} CNY: AR open items - credit vs "
            f"receivables: sub-ledger {r.json()['gross_total']} != ledger 0 (difference {r.json()['gross_total']}), "
            f"explained by 1 event(s) not posted: InvoiceIssued {r.json()['number']} {r.json()['gross_total']} "
            "(parked: period 2026-10 of company") in res.report(), res.report()
    # The relay of a service with consumers also samples its dead letters not yet replayed.
    assert "# TYPE dead_letters_pending gauge" in httpx.get(f"{suite.gl_relay.metrics_url}/metrics", timeout=10).text
