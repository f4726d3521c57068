"""The health endpoint of relays and consumers fails when a loop is stuck; the trace file
reader prints one trace as a tree with timings."""

from __future__ import annotations

import time
import weakref

import httpx
from fincore.metrics import Heartbeat, metrics_app
from fincore.tracefile import render_tree


async def test_healthz_fails_once_a_loop_stops_turning(monkeypatch):
    # The process's loops only: a relay or consumer left by an earlier test (not yet collected)
    # would answer for itself ("not started") and fail this one's readiness.
    monkeypatch.setattr(Heartbeat, "_all", weakref.WeakSet())
    hb = Heartbeat("consumer test-stuck")
    app = metrics_app(stall_after_s=30)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://m") as client:
        ready = await client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["loops"]["consumer test-stuck"] == "not started"
        assert (await client.get("/healthz")).status_code == 200  # starting is not stuck

        hb.beat()
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/readyz")).status_code == 200

        hb.last = time.monotonic() - 31  # no turn for longer than stall_after_s
        stuck = await client.get("/healthz")
        assert stuck.status_code == 503 and stuck.json()["loops"]["consumer test-stuck"].startswith("stuck")
        assert "python_info" in (await client.get("/metrics")).text  # the process's default registry
    del hb


def test_trace_tree_nests_children_and_times_from_the_first_span():
    ms = 1_000_000
    spans = [
        {"trace_id": "t", "span_id": "b", "parent_span_id": "a", "name": "finance.ar.events.v1 publish",
         "kind": "producer", "service": "ar", "start_ns": 12 * ms, "end_ns": 15 * ms, "status": "UNSET"},
        {"trace_id": "t", "span_id": "a", "parent_span_id": "", "name": "POST /v1/invoices", "kind": "server",
         "service": "ar", "start_ns": 10 * ms, "end_ns": 30 * ms, "status": "UNSET"},
        {"trace_id": "t", "span_id": "c", "parent_span_id": "b", "name": "finance.ar.events.v1 process",
         "kind": "consumer", "service": "gl", "start_ns": 40 * ms, "end_ns": 47 * ms, "status": "ERROR"},
    ]
    lines = render_tree(spans)
    # Offsets from the first span's start (10 ms): 0, 2, 30; durations 20, 3, 7.
    assert [ln.split()[0:2] for ln in lines] == [["0.0ms", "20.0ms"], ["2.0ms", "3.0ms"], ["30.0ms", "7.0ms"]]
    assert lines[0].endswith("ar: POST /v1/invoices (server)")
    assert "    gl: finance.ar.events.v1 process (consumer)  [ERROR]" in lines[2]


def test_with_no_exporter_every_request_still_gets_a_trace_id():
    """OTEL_TRACES_EXPORTER=none (the default): nothing is recorded, yet a request without a
    traceparent gets a fresh trace id and one with a traceparent keeps the caller's, so what
    the request writes (outbox rows, journals) records it. In a subprocess: the SDK provider
    is process-global."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent('''
        import os
        os.environ["OTEL_TRACES_EXPORTER"] = "none"
        from fastapi import FastAPI
        from fastapi.testclient import TestClient
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
        from fincore.telemetry import configure_telemetry, current_trace_id, inject_headers, recording
        configure_telemetry("t", "api")
        app = FastAPI()
        @app.get("/x")
        def x():
            return {"trace_id": current_trace_id(), "traceparent": inject_headers().get("traceparent", "")}
        FastAPIInstrumentor.instrument_app(app)
        c = TestClient(app)
        fresh = c.get("/x").json()
        caller = "0af7651916cd43dd8448eb211c80319c"
        kept = c.get("/x", headers={"traceparent": f"00-{caller}-b7ad6b7169203331-01"}).json()
        print(recording(), len(fresh["trace_id"]), fresh["traceparent"].split("-")[1] == fresh["trace_id"],
              kept["trace_id"] == caller)
    ''')
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "32", "True", "True"]
