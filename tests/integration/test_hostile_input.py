"""Hostile and careless input gets a 4xx problem and changes nothing (issue 10, item 4), and
admin routes follow the token's companies (item 5). Each case here answered 500, or worse,
before the shared mechanisms in fincore (schemas, dates, pagination, body limit, token
claims, admin scoping, CatchAll, the gRPC error interceptor).

The services run in-process on fresh databases (SQLite unless the case is about PostgreSQL)."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import threading
import time
import uuid
from decimal import Decimal

import httpx
import jwt
import pytest
import sqlalchemy as sa
from fincore.auth import ALL_SCOPES, mint_token
from fincore.tables import DeadLetter, utcnow

from tests.integration.test_idempotency import _app, client, pg_url  # noqa: F401 - pg_url is a fixture

pytestmark = pytest.mark.integration


def _problem(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    return r.json()


@pytest.fixture
def gl(tmp_path):
    boot, settings = _app("gl", f"sqlite+aiosqlite:///{tmp_path / 'gl.db'}")
    return boot.create_app(settings)


async def test_reports_refuse_dates_outside_1900_2199(gl):
    async with client(gl) as c:
        assert (await c.post("/v1/companies", json={"id": "D", "name": "D", "functional_currency": "CNY"})
                ).status_code == 201
        for bad in ("0001-01-01", "9999-12-31", "1899-12-31", "2200-01-01"):
            for path, params in (("/v1/trial-balance", {"as_of": bad}),
                                 ("/v1/statements/balance-sheet", {"as_of": bad}),
                                 ("/v1/statements/balance-sheet/counterparties", {"as_of": bad, "line": "2203"}),
                                 ("/v1/statements/income-statement", {"from": "2026-01-01", "to": bad}),
                                 ("/v1/statements/cash-flow", {"from": bad, "to": "2026-12-31"}),
                                 ("/v1/ledger", {"account": "1002", "to": bad}),
                                 ("/v1/journals", {"from": bad})):
                p = _problem(await c.get(path, params={"company": "D", **params}), 422)
                assert "supported range" in str(p["errors"]), (path, p)
        assert (await c.get("/v1/trial-balance", params={"company": "D", "as_of": "2199-12-31"})).status_code == 200
        # The balance sheet's list of counterparties: a line that presents none is refused, a
        # line key outside the pattern too; an empty ledger lists none.
        for line in ("1002", "x" * 41, "22 03"):
            _problem(await c.get("/v1/statements/balance-sheet/counterparties",
                                 params={"company": "D", "as_of": "2026-11-30", "line": line}), 422)
        empty = (await c.get("/v1/statements/balance-sheet/counterparties",
                             params={"company": "D", "as_of": "2026-11-30", "line": "2203"})).json()
        assert empty["lines"] == [] and empty["total"] == 0 and empty["amount"] == "0.00"


async def test_lists_bound_offset_and_limit(gl):
    async with client(gl) as c:
        await c.post("/v1/companies", json={"id": "P", "name": "P", "functional_currency": "CNY"})
        for params in ({"offset": "1e20"}, {"offset": str(10**20)}, {"offset": "-1"}, {"limit": "0"},
                       {"limit": "-5e20"}, {"limit": str(-(10**21))}):
            _problem(await c.get("/v1/journals", params={"company": "P", **params}), 422)
            _problem(await c.get("/v1/admin/dead-letters", params=params), 422)
        # limit=-1 used to mean "no limit" on dead letters
        _problem(await c.get("/v1/admin/dead-letters", params={"limit": "-1"}), 422)
        assert (await c.get("/v1/journals", params={"company": "P", "offset": "1000000000"})).json()["items"] == []


async def test_strict_booleans_control_characters_and_unknown_fields(gl):
    async with client(gl) as c:
        await c.post("/v1/companies", json={"id": "S", "name": "S", "functional_currency": "CNY"})
        journal = {"company_id": "S", "posting_date": "2026-11-05", "description": "Accrual",
                   "lines": [{"account": "6602", "debit": "10.00", "cost_centre": "ADM"},
                             {"account": "2241", "credit": "10.00"}]}
        for post in ("yes", 1, "true", "1"):
            p = _problem(await c.post("/v1/manual-journals", json={**journal, "post": post}), 422)
            assert ["body", "post"] in [e["loc"] for e in p["errors"]], p
        p = _problem(await c.post("/v1/companies", json={"id": "T", "name": "Evil\x00\x1b[2J", "functional_currency":
                                                         "CNY"}), 422)
        assert "control characters" in str(p["errors"])
        assert (await c.get("/v1/journals", params={"company": "S"})).json()["total"] == 0


async def test_supplier_invoice_in_9999_and_supplier_name_with_control_characters(tmp_path):
    boot, settings = _app("ap", f"sqlite+aiosqlite:///{tmp_path / 'ap.db'}")
    app = boot.create_app(settings)
    async with client(app) as c:
        p = _problem(await c.put("/v1/suppliers/S1", json={"company_id": "C", "name": "ACME\r\nBIC: EVIL",
                                                            "currency": "EUR"}), 422)
        assert "control characters" in str(p["errors"])
        assert (await c.put("/v1/suppliers/S1", json={"company_id": "C", "name": "ACME", "currency": "EUR"})
                ).status_code == 200
        p = _problem(await c.post("/v1/supplier-invoices", json={
            "company_id": "C", "kind": "expense", "supplier_code": "S1", "supplier_invoice_number": "X-1",
            "invoice_date": "9999-12-31", "expense_lines": [{"description": "x", "amount": "1.00"}]}), 422)
        assert "supported range" in str(p["errors"])


async def test_request_body_limit_is_413_by_length_and_while_reading(gl):
    from fincore.http import BodyLimit

    app = BodyLimit(gl, max_bytes=10_000)
    transport = httpx.ASGITransport(app=app)
    token = mint_token(gl.state.settings, subject="t", scopes=ALL_SCOPES, companies=["*"])
    async with httpx.AsyncClient(transport=transport, base_url="http://svc",
                                 headers={"Authorization": f"Bearer {token}"}) as c:
        big = b'{"id": "B", "name": "' + b"x" * 20_000 + b'", "functional_currency": "CNY"}'
        p = _problem(await c.post("/v1/companies", content=big, headers={"content-type": "application/json"}), 413)
        assert "exceeds 10000 bytes" in p["detail"]

        async def chunks():
            for _ in range(5):
                yield b"x" * 4_000

        p = _problem(await c.post("/v1/companies", content=chunks(), headers={"content-type": "application/json"}),
                     413)
        assert (await c.get("/v1/companies/B")).status_code in (403, 404)
    await gl.state.db.dispose()


def test_default_body_limit_refuses_ten_megabytes(tmp_path):
    from fastapi.testclient import TestClient

    boot, settings = _app("inventory", f"sqlite+aiosqlite:///{tmp_path / 'i.db'}")
    app = boot.create_app(settings)
    token = mint_token(settings, subject="t", scopes=ALL_SCOPES, companies=["*"])
    r = TestClient(app).post("/v1/items", content=b"{" + b" " * (10 * 1024 * 1024) + b"}",
                             headers={"Authorization": f"Bearer {token}", "content-type": "application/json"})
    _problem(r, 413)


def _claims_token(settings, **overrides) -> str:
    now = dt.datetime.now(dt.UTC)
    claims = {"sub": "x", "scope": " ".join(ALL_SCOPES), "companies": ["*"], "iss": settings.auth_jwt_issuer,
              "aud": settings.auth_jwt_audience, "iat": now, "exp": now + dt.timedelta(hours=1), **overrides}
    return jwt.encode(claims, settings.auth_jwt_secret, algorithm="HS256")


@pytest.mark.parametrize("claims", [{"companies": 7}, {"companies": {"*": 1}}, {"companies": "*"},
                                    {"companies": [1]}, {"companies": [""]}, {"scope": ["gl:read"]},
                                    {"scope": 1}, {"sub": 5}, {"sub": ""}])
async def test_malformed_claims_are_401_never_a_wildcard(gl, claims):
    async with client(gl) as c:
        r = await c.get("/v1/journals", params={"company": "ANY"},
                        headers={"Authorization": f"Bearer {_claims_token(gl.state.settings, **claims)}"})
        assert _problem(r, 401)["detail"].startswith("invalid token")


async def _dead_letter(db, company: str, consumer: str = "gl-posting") -> int:
    from finance.ar.v1 import events_pb2 as ar
    from fincore import dates, money
    from fincore.events import encode_record, new_envelope

    m = lambda v: money.to_proto(Decimal(v), "CNY")  # noqa: E731
    msg = ar.InvoiceIssued(company_id=company, document_number="DL-1", invoice_id=f"{company}-inv",
                           customer_code="C1", currency="CNY", occurrence_date=dates.to_proto(dt.date(2026, 11, 9)),
                           net_total=m("100.00"), tax_total=m("13.00"), gross_total=m("113.00"))
    msg.lines.append(ar.InvoiceLine(line_no=1, description="x", net=m("100.00"), tax=m("13.00"), tax_code="VAT13"))
    key, value, headers = encode_record(new_envelope(msg, source="test"))
    async with db.transaction() as s:
        dl = DeadLetter(consumer=consumer, topic="finance.ar.events.v1", partition=0, offset=1, event_id=None,
                        ce_type="finance.ar.InvoiceIssued.v1", msg_key=key,
                        headers={k: v.decode() for k, v in headers}, payload=value,
                        error="ValueError: company not set up", attempts=3, failed_at=utcnow(), company_id=company)
        s.add(dl)
        await s.flush()
        return dl.id


async def test_admin_routes_follow_the_tokens_companies_and_a_failing_replay_is_409(gl):
    db = gl.state.db
    a, b = f"A{uuid.uuid4().hex[:6]}", f"B{uuid.uuid4().hex[:6]}"
    dl_a, dl_b = await _dead_letter(db, a), await _dead_letter(db, b)
    async with client(gl, subject="admin-a", companies=[a]) as c:
        c.headers["Authorization"] = "Bearer " + mint_token(gl.state.settings, subject="admin-a",
                                                            scopes=["admin"], companies=[a])
        listed = (await c.get("/v1/admin/dead-letters")).json()
        assert [d["id"] for d in listed] == [dl_a]
        _problem(await c.get("/v1/admin/dead-letters", params={"company": b}), 403)
        _problem(await c.post(f"/v1/admin/dead-letters/{dl_b}/replay"), 404)  # B's is not even acknowledged
        _problem(await c.post("/v1/admin/outbox/republish", params={"since": "2026-01-01T00:00:00Z",
                                                                      "until": "2026-12-31T00:00:00Z"}), 403)
        # A's company is not set up in the ledger: the replay fails again, says why, counts it.
        p = _problem(await c.post(f"/v1/admin/dead-letters/{dl_a}/replay"), 409)
        assert p["type"].endswith("/replay-failed") and a in p["detail"] and p["attempts"] == 4
        assert "Error" not in p["detail"].split(":")[0]  # the cause, not a class name
        _problem(await c.post("/v1/admin/dead-letters/100000000000000000000000/replay"), 422)
        _problem(await c.post("/v1/admin/dead-letters/1e23/replay"), 422)
    async with client(gl, subject="ops") as c:
        c.headers["Authorization"] = "Bearer " + mint_token(gl.state.settings, subject="ops",
                                                            scopes=["ops:admin"], companies=[])
        assert {d["id"] for d in (await c.get("/v1/admin/dead-letters")).json()} == {dl_a, dl_b}
        r = await c.post("/v1/admin/outbox/republish", params={"since": "2026-01-01T00:00:00Z",
                                                                "until": "2026-12-31T00:00:00Z"})
        assert r.status_code == 200 and r.json() == {"requeued": 0}
        # Once the cause is fixed (the company is set up) the replay posts it.
        c.headers["Authorization"] = "Bearer " + mint_token(gl.state.settings, subject="ops",
                                                            scopes=[*ALL_SCOPES], companies=["*"])
        assert (await c.post("/v1/companies", json={"id": a, "name": a, "functional_currency": "CNY"})
                ).status_code == 201
        assert (await c.post(f"/v1/admin/dead-letters/{dl_a}/replay")).status_code == 200
        assert (await c.get("/v1/journals", params={"company": a})).json()["total"] == 1


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_amounts_are_stored_exactly_or_refused(backend, pg_url, tmp_path):  # noqa: F811
    url = pg_url if backend == "postgresql" else f"sqlite+aiosqlite:///{tmp_path / 'ar.db'}"
    boot, settings = _app("ar", url)
    app = boot.create_app(settings)
    async with client(app) as c:
        r = await c.put("/v1/customers/C1", json={"company_id": "C", "code": "C1", "name": "Acme"})
        assert r.status_code in (200, 201), r.text

        def receipt(amount: str) -> dict:
            return {"company_id": "C", "customer_code": "C1", "receipt_date": "2026-11-20", "amount": amount}

        p = _problem(await c.post("/v1/receipts", json=receipt("9999999999999999.99")), 422)
        assert "significant digits" in str(p["errors"])
        ok = await c.post("/v1/receipts", json=receipt("9999999999999.99"))  # 15 digits: exact on both
        assert ok.status_code == 201, ok.text
        async with app.state.db.sessions() as s:
            stored = (await s.execute(sa.text("SELECT amount FROM receipt"))).scalar_one()
        assert Decimal(str(stored)) == Decimal("9999999999999.99")


def test_the_connection_survives_a_500(tmp_path):
    """An unexpected error is a 500 problem, and the keep-alive connection stays usable."""
    import uvicorn
    from fastapi import APIRouter
    from fincore.db import Database
    from fincore.http import create_service_app
    from fincore.settings import ServiceSettings
    from fincore.testing import free_port

    boom = APIRouter()

    @boom.get("/boom")
    async def explode():
        raise RuntimeError("a bug")

    settings = ServiceSettings(service_name="t", database_url=f"sqlite+aiosqlite:///{tmp_path / 't.db'}")
    app = create_service_app(settings=settings, db=Database(settings.database_url), title="t", description="",
                             routers=[boom])
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            f = sock.makefile("rb")

            def get(path: str) -> tuple[int, bytes]:
                sock.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
                status = int(f.readline().split()[1])
                length = 0
                while (line := f.readline()) not in (b"\r\n", b""):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                return status, f.read(length)

            status, body = get("/boom")
            assert status == 500 and b'"type":"https://finance-suite.dev/problems/internal"' in body
            assert b"RuntimeError" not in body
            assert get("/healthz")[0] == 200  # same socket: not reset
    finally:
        server.should_exit = True
        thread.join(10)


async def test_grpc_errors_carry_no_exception_class_names():
    import grpc
    from fincore.grpc_server import ErrorInterceptor
    from fincore.testing import free_port

    async def boom(request, context):
        raise KeyError("secret internals")

    handler = grpc.method_handlers_generic_handler("t.T", {"Boom": grpc.unary_unary_rpc_method_handler(boom)})
    server = grpc.aio.server(interceptors=[ErrorInterceptor()])
    server.add_generic_rpc_handlers((handler,))
    port = free_port()
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await ch.unary_unary("/t.T/Boom")(b"", timeout=10)
        assert err.value.code() == grpc.StatusCode.INTERNAL
        assert "KeyError" not in err.value.details() and "secret" not in err.value.details()
    finally:
        await server.stop(None)


async def test_budget_reserve_refuses_absurd_expiry(tmp_path):
    import grpc
    from budget.entrypoints import grpc_budget
    from finance.budget.v1 import budget_service_pb2 as pb
    from finance.budget.v1 import budget_service_pb2_grpc as pb_grpc
    from fincore import money
    from fincore.db import Database
    from fincore.grpc_server import serve
    from fincore.testing import free_port

    boot, settings = _app("budget", f"sqlite+aiosqlite:///{tmp_path / 'b.db'}")
    db = Database(settings.database_url)
    port, stop = free_port(), asyncio.Event()
    task = asyncio.create_task(serve(host="127.0.0.1", port=port, stop=stop,
                                     register=grpc_budget.register(settings, db)))
    token = mint_token(settings, subject="t", scopes=ALL_SCOPES, companies=["*"])
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
            await asyncio.wait_for(ch.channel_ready(), 30)
            stub = pb_grpc.BudgetServiceStub(ch)
            for seconds in (2**62, -1, 366 * 24 * 3600 + 1):
                req = pb.ReserveBudgetRequest(check=pb.CheckBudgetRequest(
                    company_id="C", cost_centre="ADM", budget_item="OFFICE", period="2026-11",
                    amount=money.to_proto(Decimal("1.00"), "EUR")), document_ref="D-1", expires_in_seconds=seconds)
                with pytest.raises(grpc.aio.AioRpcError) as err:
                    await stub.Reserve(req, metadata=[("authorization", f"Bearer {token}")], timeout=30)
                assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, err.value.details()
                assert "expires_in_seconds" in err.value.details()
    finally:
        stop.set()
        await task
        await db.dispose()
