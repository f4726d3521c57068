"""One Idempotency-Key mechanism (fincore.idempotency) in every service, on PostgreSQL (and
the embedded SQLite): a retry replays the first answer, a reused key with another request is
refused, and concurrent requests with one key have one effect.

The services run in-process (their real create_app on a fresh database each), so the requests
are truly concurrent transactions on one connection pool."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import asynccontextmanager
from decimal import Decimal

import httpx
import pytest
import sqlalchemy as sa
from fincore.auth import ALL_SCOPES, mint_token
from fincore.db import Database, migrate
from fincore.testing.rowlocks import scratch_database

pytestmark = pytest.mark.integration


@pytest.fixture
def pg_url():
    """A fresh PostgreSQL database, dropped afterwards."""
    with scratch_database("t_idem") as url:
        yield url


def _app(service: str, url: str, **extra):
    """The service's app on `url` (migrated), and its settings."""
    import importlib

    boot = importlib.import_module(f"{service}.bootstrap")
    settings_mod = importlib.import_module(f"{service}.settings")
    cls = next(v for k, v in vars(settings_mod).items() if k.endswith("Settings") and k != "ServiceSettings")
    settings = cls(database_url=url, **extra)
    migrate(boot.MIGRATIONS, url)
    return boot, settings


@asynccontextmanager
async def client(app, subject: str = "idem-test", companies: list[str] | None = None):
    token = mint_token(app.state.settings, subject=subject, scopes=ALL_SCOPES, companies=companies or ["*"])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc",
                                 headers={"Authorization": f"Bearer {token}"}, timeout=60) as c:
        yield c
    await app.state.db.dispose()


async def _count(db: Database, table: str, **where) -> int:
    async with db.sessions() as s:
        q = sa.select(sa.func.count()).select_from(sa.table(table))
        for col, val in where.items():
            q = q.where(sa.column(col) == val)
        return (await s.execute(q)).scalar_one()


async def _check_key(c: httpx.AsyncClient, path: str, body: dict, other: dict, concurrent_body: dict,
                     n: int = 6) -> None:
    """Replay, reuse with another body, and `n` concurrent requests with one fresh key."""
    key = f"k-{uuid.uuid4().hex}"
    first = await c.post(path, json=body, headers={"Idempotency-Key": key})
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    again = await c.post(path, json=body, headers={"Idempotency-Key": key})
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert again.headers.get("location") == first.headers.get("location")
    reused = await c.post(path, json=other, headers={"Idempotency-Key": key})
    assert reused.status_code == 409, reused.text
    assert reused.headers["content-type"] == "application/problem+json"
    assert reused.json()["type"].endswith("/idempotency-key-reused")
    key2 = f"k-{uuid.uuid4().hex}"
    answers = await asyncio.gather(*[c.post(path, json=concurrent_body, headers={"Idempotency-Key": key2})
                                     for _ in range(n)])
    assert [a.status_code for a in answers] == [201] * n, [a.text for a in answers]
    assert len({a.text for a in answers}) == 1  # every request got the one answer
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == n - 1


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
async def test_inventory_goods_receipt_sent_twice_is_received_once(backend, pg_url, tmp_path):
    url = pg_url if backend == "postgresql" else f"sqlite+aiosqlite:///{tmp_path / 'inv.db'}"
    boot, settings = _app("inventory", url)
    app = boot.create_app(settings)
    async with client(app) as c:
        assert (await c.post("/v1/items", json={"company_id": "C", "code": "BOLT", "name": "Bolt",
                                                "costing_method": "moving_average"})).status_code == 201
        wh = await c.post("/v1/warehouses", json={"company_id": "C", "code": "W", "name": "Main"})
        assert wh.status_code == 201

        def receipt(qty: str) -> dict:
            return {"company_id": "C", "movement_date": "2026-11-02", "warehouse": "W", "partner": "S1",
                    "lines": [{"item": "BOLT", "quantity": qty, "unit_cost": "2.50"}]}

        await _check_key(c, "/v1/receipts", receipt("10"), receipt("11"), receipt("7"))
        # 10 received once, the concurrent 7 once: 17, not 10 + 10 + 6 x 7.
        val = (await c.get("/v1/valuation", params={"company": "C", "as_of": "2026-12-31"})).json()
        assert [(ln["quantity"], ln["value"]) for ln in val["lines"]] == [("17", "42.50")]  # 17 x 2.50
        assert await _count(app.state.db, "movement_doc") == 2
        # Without a key a retry is a second document (the client asked for no protection).
        assert (await c.post("/v1/receipts", json=receipt("1"))).status_code == 201
        assert await _count(app.state.db, "movement_doc") == 3


async def test_ar_invoices_and_receipts_share_the_mechanism(pg_url):
    boot, settings = _app("ar", pg_url)
    app = boot.create_app(settings)
    async with client(app) as c:
        r = await c.put("/v1/customers/C1", json={"company_id": "C", "code": "C1", "name": "Acme",
                                                  "credit_limit": "1000000.00"})
        assert r.status_code in (200, 201), r.text

        def invoice(price: str) -> dict:
            return {"company_id": "C", "customer_code": "C1", "currency": "CNY", "issue_date": "2026-11-03",
                    "lines": [{"description": "Pump", "quantity": "1", "unit_price": price, "tax_code": "VAT13"}]}

        await _check_key(c, "/v1/invoices", invoice("100.00"), invoice("101.00"), invoice("50.00"))
        assert await _count(app.state.db, "invoice", company_id="C") == 2

        def receipt(amount: str) -> dict:
            return {"company_id": "C", "customer_code": "C1", "receipt_date": "2026-11-20", "amount": amount}

        await _check_key(c, "/v1/receipts", receipt("10.00"), receipt("11.00"), receipt("5.00"))
        assert await _count(app.state.db, "receipt", company_id="C") == 2


async def test_gl_company_setup_retried_concurrently_is_one_company(pg_url):
    boot, settings = _app("gl", pg_url)
    app = boot.create_app(settings)
    async with client(app) as c:
        body = {"id": "IDEM", "name": "Idem Co", "functional_currency": "CNY"}
        await _check_key(c, "/v1/companies", body, {**body, "name": "Other"},
                         {"id": "IDEM2", "name": "Idem 2", "functional_currency": "CNY"})
        assert await _count(app.state.db, "company") == 2


async def test_budget_version_retried_is_one_version(pg_url):
    boot, settings = _app("budget", pg_url)
    app = boot.create_app(settings)
    async with client(app) as c:
        def version(code: str) -> dict:
            return {"company_id": "C", "code": code, "currency": "EUR"}

        await _check_key(c, "/v1/budget-versions", version("V1"), version("V9"), version("V2"))
        assert await _count(app.state.db, "budget_version") == 2


class FakeBudget:
    """The budget service's answers for AP (allowed, counted), without a gRPC server."""

    def __init__(self) -> None:
        self.reserved: set[str] = set()

    async def reserve(self, *, company, cost_centre, budget_item, period, amount, currency, document_ref, token):
        from finance.budget.v1 import budget_service_pb2 as pb

        self.reserved.add(document_ref)
        return pb.BudgetDecision(allowed=True, reason="ok")

    async def release(self, *, company, document_ref, token):
        from finance.budget.v1 import budget_service_pb2 as pb

        self.reserved.discard(document_ref)
        return pb.BudgetDecision(allowed=True, reason="released")


async def test_ap_requisition_retried_concurrently_reserves_budget_once(pg_url):
    from ap.domain.matching import Tolerances
    from ap.entrypoints.http import build_router
    from fincore.http import create_service_app

    boot, settings = _app("ap", pg_url)
    db = Database(pg_url)
    app = create_service_app(settings=settings, db=db, title="AP", description="", routers=[])
    budget = FakeBudget()
    app.include_router(build_router(db, app.state.auth, budget, Tolerances(Decimal(0), Decimal(0))))
    async with client(app) as c:
        def requisition(qty: str) -> dict:
            return {"company_id": "C", "request_date": "2026-11-04", "currency": "CNY",
                    "lines": [{"description": "Paper", "quantity": qty, "unit_price": "5", "tax_code": "VAT13",
                               "cost_centre": "ADM", "budget_item": "OFFICE"}]}

        await _check_key(c, "/v1/requisitions", requisition("1"), requisition("2"), requisition("3"))
        assert await _count(db, "requisition") == 2
        assert len(budget.reserved) == 2  # the losers of the race released what they reserved


@pytest.mark.parametrize("service", ["gl", "ar", "ap", "inventory", "budget"])
def test_every_post_documents_the_key_and_its_problem_answers(service, tmp_path):
    from fastapi.testclient import TestClient

    boot, settings = _app(service, f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    spec = TestClient(boot.create_app(settings)).get("/openapi.json")
    assert spec.status_code == 200, spec.text  # inventory's answered 500 (a type local to build_router)
    posts = [op for item in spec.json()["paths"].values() for m, op in item.items() if m == "post"]
    assert posts
    for op in posts:
        assert "Idempotency-Key" in [p["name"] for p in op.get("parameters", [])], op["summary"]
        assert {"400", "401", "403", "404", "409", "413", "422"} <= set(op["responses"]), op["summary"]
        assert "application/problem+json" in op["responses"]["409"]["content"]
