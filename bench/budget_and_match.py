"""Procure-to-pay benchmarks (issue 5), on PostgreSQL.

    .venv/bin/python bench/budget_and_match.py

1. BudgetService over gRPC: the budget service (`python -m budget grpc`: token check, row
   lock, running totals, durable commit) against a trivial grpc.aio handler of the same
   contract that answers a constant, each in a process of its own, measured from one client
   in 10 alternating rounds so the machine's noise falls on both: p50/p99 of 2,000 sequential
   CheckBudget calls and of 2,000 Reserve calls per server (each Reserve a new document, so
   each one locks the line, reads its totals and inserts a reservation).
2. Three-way match of 10,000 invoice lines: one supplier invoice of 10,000 stock lines
   against a 10,000-line purchase order whose goods were received, posted to the AP API
   (`python -m ap api`); time to the answer (matched, lines stored), and the pure matching
   function alone.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import grpc
import httpx
from ap.adapters.tables import OrderLine, PurchaseOrder, Supplier
from ap.bootstrap import MIGRATIONS as AP_MIGRATIONS
from ap.domain import matching
from budget.bootstrap import MIGRATIONS as BUDGET_MIGRATIONS
from budget.service.budgets import LineIn, add_lines, approve, create_version, upsert_item
from finance.budget.v1 import budget_service_pb2 as pb
from finance.budget.v1 import budget_service_pb2_grpc as pb_grpc
from fincore import money
from fincore.auth import ALL_SCOPES, mint_token
from fincore.db import Database, migrate
from fincore.settings import ServiceSettings
from fincore.tables import utcnow
from fincore.testing import ServiceProcess, free_port, start_infra

ROOT = Path(__file__).resolve().parents[1]
TOKEN = mint_token(ServiceSettings(), subject="bench", scopes=ALL_SCOPES, companies=["*"])
AUTH = (("authorization", f"Bearer {TOKEN}"),)
N_LINES = 10_000


class Trivial(pb_grpc.BudgetServiceServicer):
    async def CheckBudget(self, request, context):  # noqa: N802
        return pb.BudgetDecision(allowed=True, reason="constant", control_mode=pb.CONTROL_MODE_BLOCK)

    async def Reserve(self, request, context):  # noqa: N802
        return pb.BudgetDecision(allowed=True, reason="constant", control_mode=pb.CONTROL_MODE_BLOCK)


def check_request() -> pb.CheckBudgetRequest:
    return pb.CheckBudgetRequest(company_id="B", cost_centre="CC", budget_item="IT", period="2026-11",
                                 amount=money.to_proto(Decimal("10.00"), "EUR"))


async def measure(targets: dict[str, str], rounds: int = 10, per_round: int = 200) -> dict:
    """p50/p99 per target and method; targets are measured in alternating rounds, so the
    machine's noise falls on both alike."""
    lat = {(name, m): [] for name in targets for m in ("CheckBudget", "Reserve")}
    channels = {name: grpc.aio.insecure_channel(t) for name, t in targets.items()}
    try:
        stubs = {name: pb_grpc.BudgetServiceStub(ch) for name, ch in channels.items()}
        for stub in stubs.values():
            for _ in range(200):  # warm up
                await stub.CheckBudget(check_request(), metadata=AUTH, timeout=5)
        n = 0
        for _ in range(rounds):
            for method in ("CheckBudget", "Reserve"):
                for name, stub in stubs.items():
                    for _ in range(per_round):
                        n += 1
                        if method == "CheckBudget":
                            call, req = stub.CheckBudget, check_request()
                        else:
                            call = stub.Reserve
                            req = pb.ReserveBudgetRequest(check=check_request(), document_ref=f"{name}-{n}")
                        t = time.perf_counter()
                        d = await call(req, metadata=AUTH, timeout=5)
                        lat[(name, method)].append(time.perf_counter() - t)
                        assert d.allowed, d.reason
    finally:
        for ch in channels.values():
            await ch.close()
    out = {}
    for (name, method), xs in lat.items():
        xs.sort()
        out.setdefault(name, {})[method] = {"p50": statistics.median(xs) * 1000,
                                            "p99": xs[int(len(xs) * 0.99)] * 1000}
    return out


async def serve_trivial(port: int) -> None:
    """The control: the same contract answering a constant, in a process of its own like the service."""
    server = grpc.aio.server()
    pb_grpc.add_BudgetServiceServicer_to_server(Trivial(), server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    print("trivial gRPC serving", flush=True)
    await server.wait_for_termination()


def order_lines() -> list[matching.OrderLine]:
    return [matching.OrderLine(i, f"ITEM-{i:05d}", Decimal(10), Decimal("12.50"), Decimal(10), Decimal("125.00"))
            for i in range(1, N_LINES + 1)]


def invoice_lines() -> list[dict]:
    # every 7th line 1 % dearer (inside the 2 % tolerance): price variance on those
    return [{"item_code": f"ITEM-{i:05d}", "quantity": "10", "unit_price": "12.625" if i % 7 == 0 else "12.50",
             "tax_code": "VAT13"} for i in range(1, N_LINES + 1)]


def main() -> None:
    log_dir = ROOT / ".run" / "bench" / ("p2p-" + dt.datetime.now().strftime("%Y%m%d-%H%M%S"))
    with start_infra(log_dir) as infra:
        budget_url, ap_url = infra.database_url("b_budget"), infra.database_url("b_ap")
        migrate(BUDGET_MIGRATIONS, budget_url)
        migrate(AP_MIGRATIONS, ap_url)

        async def seed():
            db = Database(budget_url)
            async with db.transaction() as s:
                await upsert_item(s, "B", "IT", "IT", ["6602"])
                v = await create_version(s, company="B", code="V1", kind="original", currency="EUR",
                                         description="", created_by="bench")
                await add_lines(s, v, [LineIn("CC", "IT", "2026-11", Decimal("1000000000.00"))])
                await approve(s, v, "bench")
            await db.dispose()
            db = Database(ap_url)
            async with db.transaction() as s:
                s.add(Supplier(company_id="B", code="S1", name="S1", supplier_group="", currency="EUR",
                               payment_terms="NET30", iban="", bic="", intercompany_partner="", updated_at=utcnow()))
                po = PurchaseOrder(id="po-bench", company_id="B", number="PO-BENCH", supplier_code="S1",
                                   requisition_id="", order_date=dt.date(2026, 11, 1),
                                   expected_receipt_date=dt.date(2026, 11, 1), currency="EUR", status="open",
                                   created_at=utcnow())
                s.add(po)
                await s.flush()
                s.add_all([OrderLine(po_id=po.id, line_no=ol.line_no, item_code=ol.item_code, description="part",
                                     quantity=ol.quantity, unit_price=ol.unit_price, tax_code="VAT13",
                                     cost_centre="CC", budget_item="IT", budget_ref="PR:x/CC/IT",
                                     received_qty=ol.received_qty, received_value=ol.received_value)
                           for ol in order_lines()])
            await db.dispose()

        asyncio.run(seed())
        env = {**infra.env(), "BUDGET_DATABASE_URL": budget_url, "AP_DATABASE_URL": ap_url,
               "OTEL_TRACES_EXPORTER": "none", "LOG_LEVEL": "INFO"}

        # 1. BudgetService against the trivial control, each in its own process
        grpc_port, trivial_port = free_port(), free_port()
        budget_grpc = ServiceProcess("budget-grpc", "budget", "grpc", {**env, "BUDGET_GRPC_PORT": str(grpc_port)},
                                     log_dir, ready_log="gRPC serving").start()
        trivial_proc = subprocess.Popen([sys.executable, __file__, "--serve-trivial", str(trivial_port)],
                                        stdout=subprocess.PIPE, text=True)
        try:
            assert trivial_proc.stdout.readline().startswith("trivial gRPC serving")
            res = asyncio.run(measure({"trivial": f"127.0.0.1:{trivial_port}", "real": f"127.0.0.1:{grpc_port}"}))
            trivial, real = res["trivial"], res["real"]
        finally:
            trivial_proc.terminate()
            trivial_proc.wait(10)
            budget_grpc.stop()
        print("BudgetService over gRPC, 2,000 sequential calls per method and server, in 10 alternating rounds "
              "(Reserve: a new document per call):")
        for method in ("CheckBudget", "Reserve"):
            for name, r in (("trivial handler (own process)", trivial), ("budget service (PostgreSQL)", real)):
                print(f"  {method:<11} {name:<36} p50 {r[method]['p50']:6.2f} ms  p99 {r[method]['p99']:6.2f} ms")
            print(f"  {method:<11} p99 ratio: {real[method]['p99'] / trivial[method]['p99']:.2f}x (target <= 3x)")

        # 2. Three-way match of 10,000 lines
        t = time.perf_counter()
        res = matching.three_way_match(order_lines(), [
            matching.InvoiceLine(ln["item_code"], Decimal(ln["quantity"]), Decimal(ln["unit_price"]), ln["tax_code"])
            for ln in invoice_lines()], "EUR")
        pure = time.perf_counter() - t
        assert res.matched, res.reasons[:3]
        port = free_port()
        api = ServiceProcess("ap-api", "ap", "api", {**env, "AP_HTTP_PORT": str(port)}, log_dir,
                             ready_url=f"http://127.0.0.1:{port}/readyz").start()
        try:
            with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=120) as h:
                body = {"company_id": "B", "kind": "stock", "supplier_code": "S1", "supplier_invoice_number": "INV-1",
                        "invoice_date": "2026-11-20", "purchase_order": "PO-BENCH", "stock_lines": invoice_lines()}
                t = time.perf_counter()
                r = h.post(f"http://127.0.0.1:{port}/v1/supplier-invoices", json=body)
                api_s = time.perf_counter() - t
                assert r.status_code == 201 and r.json()["status"] == "matched", r.text[:500]
                inv = r.json()
        finally:
            api.stop()
        print(f"Three-way match of {N_LINES:,} invoice lines against a {N_LINES:,}-line order:")
        print(f"  matching function alone        {pure * 1000:8.0f} ms")
        print(f"  AP API (match + store, PostgreSQL) {api_s:8.2f} s   (target < 10 s); net {inv['net_total']}, "
              f"price variance {sum(Decimal(x['price_variance']) for x in inv['lines'])}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--serve-trivial":
        asyncio.run(serve_trivial(int(sys.argv[2])))
    else:
        main()
