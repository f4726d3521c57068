"""Order-to-cash benchmarks (issue 4), on PostgreSQL and the real broker.

    .venv/bin/python bench/credit_and_costing.py

1. CheckCredit over gRPC: the AR service's CreditService (`python -m ar grpc`, real
   database lookups) against a trivial grpc.aio handler of the same contract that answers a
   constant, both measured in this run from the same client: p50/p99 of 2,000 sequential
   calls and calls/s with 16 in flight for 5 s.
2. A 1,000-line shipment: POST /v1/issues with 1,000 lines (1,000 items, FIFO and moving
   average alternating) costed by the inventory API, then posted by the GL: time to the
   API's answer and to the committed journal.
3. Re-costing: a receipt dated before 10,000 issues of one item; time for the inventory
   service to replay the history and publish the cost adjustments (in-process use case).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import statistics
import time
from decimal import Decimal
from pathlib import Path

import grpc
import httpx
import psycopg
from ar.bootstrap import MIGRATIONS as AR_MIGRATIONS
from ar.service.orders import upsert_customer
from finance.credit.v1 import credit_service_pb2 as pb
from finance.credit.v1 import credit_service_pb2_grpc as pb_grpc
from fincore import money
from fincore.auth import ALL_SCOPES, mint_token
from fincore.db import Database, migrate
from fincore.settings import ServiceSettings
from fincore.testing import ServiceProcess, free_port, start_infra
from gl.bootstrap import MIGRATIONS as GL_MIGRATIONS
from gl.service.posting import create_company
from inventory.adapters.tables import Item, Warehouse
from inventory.bootstrap import MIGRATIONS as INV_MIGRATIONS
from inventory.service.movements import LineIn, record_document

ROOT = Path(__file__).resolve().parents[1]
TOKEN = mint_token(ServiceSettings(), subject="bench", scopes=ALL_SCOPES, companies=["*"])
AUTH = (("authorization", f"Bearer {TOKEN}"),)


class Trivial(pb_grpc.CreditServiceServicer):
    async def CheckCredit(self, request, context):  # noqa: N802
        return pb.CreditDecision(approved=True, reason="constant", policy="block")


async def measure(target: str, company: str) -> dict:
    req = pb.CheckCreditRequest(company_id=company, customer_code="K1",
                                amount=money.to_proto(Decimal("100.00"), "CNY"))
    async with grpc.aio.insecure_channel(target) as ch:
        stub = pb_grpc.CreditServiceStub(ch)
        for _ in range(100):  # warm up
            await stub.CheckCredit(req, metadata=AUTH, timeout=5)
        lat = []
        for _ in range(2000):
            t = time.perf_counter()
            await stub.CheckCredit(req, metadata=AUTH, timeout=5)
            lat.append(time.perf_counter() - t)
        done, stop_at = 0, time.perf_counter() + 5

        async def worker():
            nonlocal done
            while time.perf_counter() < stop_at:
                await stub.CheckCredit(req, metadata=AUTH, timeout=5)
                done += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(16)))
        secs = time.perf_counter() - t0
    lat.sort()
    return {"p50": statistics.median(lat) * 1000, "p99": lat[int(len(lat) * 0.99)] * 1000, "rps": done / secs}


async def trivial_server(port: int) -> grpc.aio.Server:
    server = grpc.aio.server()
    pb_grpc.add_CreditServiceServicer_to_server(Trivial(), server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    return server


def main() -> None:
    log_dir = ROOT / ".run" / "bench" / ("o2c-" + dt.datetime.now().strftime("%Y%m%d-%H%M%S"))
    with start_infra(log_dir) as infra:
        ar_url, gl_url, inv_url = (infra.database_url(n) for n in ("b_ar", "b_gl", "b_inv"))
        migrate(AR_MIGRATIONS, ar_url)
        migrate(GL_MIGRATIONS, gl_url)
        migrate(INV_MIGRATIONS, inv_url)

        async def seed():
            for url, fn in ((ar_url, "ar"), (gl_url, "gl")):
                db = Database(url)
                async with db.transaction() as s:
                    if fn == "ar":
                        await upsert_customer(s, company_id="B", code="K1", name="K1", customer_group="",
                                              currency="CNY", payment_terms_days=30, credit_limit=Decimal(10**9),
                                              credit_policy="block", intercompany_partner="")
                    else:
                        await create_company(s, company_id="B", name="B", functional_currency="CNY",
                                             chart_template="cas")
                await db.dispose()

        asyncio.run(seed())
        env = {**infra.env(), "AR_DATABASE_URL": ar_url, "GL_DATABASE_URL": gl_url, "INVENTORY_DATABASE_URL": inv_url,
               "OTEL_TRACES_EXPORTER": "none", "LOG_LEVEL": "INFO"}

        # 1. CheckCredit
        grpc_port, trivial_port = free_port(), free_port()
        ar_grpc = ServiceProcess("ar-grpc", "ar", "grpc", {**env, "AR_GRPC_PORT": str(grpc_port)}, log_dir,
                                 ready_log="gRPC serving").start()
        try:
            async def both():
                server = await trivial_server(trivial_port)
                try:
                    trivial = await measure(f"127.0.0.1:{trivial_port}", "B")
                finally:
                    await server.stop(0)
                real = await measure(f"127.0.0.1:{grpc_port}", "B")
                return trivial, real

            trivial, real = asyncio.run(both())
        finally:
            ar_grpc.stop()
        print("CheckCredit over gRPC, 2,000 sequential calls; throughput with 16 in flight for 5 s:")
        for name, r in (("trivial handler (in this process)", trivial), ("AR CreditService (PostgreSQL)", real)):
            print(f"  {name:<36} p50 {r['p50']:6.2f} ms  p99 {r['p99']:6.2f} ms  {r['rps']:8,.0f} calls/s")
        print(f"  p99 ratio: {real['p99'] / trivial['p99']:.2f}x (target <= 3x)")

        # 2. A 1,000-line shipment, costed by the API and posted by the GL.
        async def items():
            db = Database(inv_url)
            async with db.transaction() as s:
                s.add(Warehouse(company_id="B", code="W", name="W"))
                for i in range(1000):
                    s.add(Item(company_id="B", code=f"I{i}", name=f"I{i}", category="GOODS", unit="pcs",
                               costing_method="fifo" if i % 2 else "moving_average", currency="CNY"))
                await s.flush()
                await record_document(s, company="B", kind="receipt", movement_date=dt.date(2026, 11, 1),
                                      warehouse="W", lines=[LineIn(f"I{i}", Decimal(50), Decimal("9.99"))
                                                            for i in range(1000)])
            await db.dispose()

        asyncio.run(items())
        inv_port = free_port()
        procs = [ServiceProcess("inventory-api", "inventory", "api", {**env, "INVENTORY_HTTP_PORT": str(inv_port)},
                                log_dir, ready_url=f"http://127.0.0.1:{inv_port}/readyz"),
                 ServiceProcess("inventory-relay", "inventory", "relay", env, log_dir,
                                ready_log="outbox relay publishing"),
                 ServiceProcess("gl-consume", "gl", "consume", env, log_dir, ready_log="partitions assigned")]
        try:
            for p in procs:
                p.start(timeout=120)

            def journals() -> int:
                with psycopg.connect(gl_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
                    return conn.execute("SELECT count(*) FROM journal WHERE source_event_type LIKE "
                                        "'finance.inventory.GoodsIssued%%'").fetchone()[0]

            body = {"company_id": "B", "movement_date": "2026-11-05", "warehouse": "W", "partner": "K1",
                    "lines": [{"item": f"I{i}", "quantity": "3"} for i in range(1000)]}
            t = time.perf_counter()
            r = httpx.post(f"http://127.0.0.1:{inv_port}/v1/issues", json=body, timeout=60,
                           headers={"Authorization": f"Bearer {TOKEN}"})
            api_s = time.perf_counter() - t
            r.raise_for_status()
            while journals() < 1:
                time.sleep(0.01)
            posted_s = time.perf_counter() - t
        finally:
            for p in procs:
                p.stop()
        print(f"1,000-line shipment: costed by the API in {api_s * 1000:.0f} ms, journal committed in the GL after "
              f"{posted_s * 1000:.0f} ms (target < 1 s)")

        # 3. Re-costing 10,000 issues after a backdated receipt.
        async def recost() -> tuple[float, float]:
            db = Database(inv_url)
            async with db.transaction() as s:
                s.add(Item(company_id="B", code="HOT", name="HOT", category="GOODS", unit="pcs",
                           costing_method="moving_average", currency="CNY"))  # every later issue changes
                await s.flush()
                await record_document(s, company="B", kind="receipt", movement_date=dt.date(2026, 1, 2),
                                      warehouse="W", lines=[LineIn("HOT", Decimal(30000), Decimal("10.00"))])
            t = time.perf_counter()
            for k in range(0, 10000, 500):
                async with db.transaction() as s:
                    for i in range(k, k + 500):
                        await record_document(s, company="B", kind="issue",
                                              movement_date=dt.date(2026, 1, 3) + dt.timedelta(days=i // 40),
                                              warehouse="W", lines=[LineIn("HOT", Decimal(2))])
            setup = time.perf_counter() - t
            t = time.perf_counter()
            async with db.transaction() as s:
                await record_document(s, company="B", kind="receipt", movement_date=dt.date(2026, 1, 1),
                                      warehouse="W", lines=[LineIn("HOT", Decimal(1000), Decimal("7.00"))])
            secs = time.perf_counter() - t
            await db.dispose()
            return setup, secs

        setup, secs = asyncio.run(recost())
        with psycopg.connect(inv_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            adjustments = conn.execute(
                "SELECT count(*) FROM outbox WHERE ce_type LIKE '%%CostAdjusted%%'").fetchone()[0]
        print(f"backdated receipt ahead of 10,000 issues: re-costed with {adjustments:,} cost adjustments in "
              f"{secs:.1f} s (target < 60 s; recording the 10,000 issues took {setup:.0f} s)")


if __name__ == "__main__":
    main()
