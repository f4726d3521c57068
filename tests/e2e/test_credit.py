"""Credit control: CRM sales orders reserve credit over REST, CreditService answers over gRPC,
and concurrent reservations can never together exceed a limit (PostgreSQL row locks)."""

import asyncio
import uuid
from decimal import Decimal

import grpc
import pytest
from finance.credit.v1 import credit_service_pb2 as pb
from finance.credit.v1 import credit_service_pb2_grpc as pb_grpc
from fincore import money
from grpc_health.v1 import health_pb2, health_pb2_grpc

pytestmark = pytest.mark.e2e


def customer(suite, company: str, limit: str, policy: str = "block") -> str:
    code = f"K{uuid.uuid4().hex[:6]}"
    r = suite.http.put(f"{suite.ar_url}/v1/customers/{code}",
                       json={"company_id": company, "code": code, "name": "Acme", "credit_limit": limit,
                             "credit_policy": policy})
    assert r.status_code == 200, r.text
    return code


def order(suite, company: str, cust: str, crm_id: str, price: str):
    return suite.http.post(f"{suite.ar_url}/v1/sales-orders", json={
        "company_id": company, "crm_order_id": crm_id, "customer_code": cust, "order_date": "2026-11-10",
        "lines": [{"description": "Pump", "quantity": "1", "unit_price": price, "tax_code": "VAT13"}]})


def test_sales_orders_reserve_credit_and_over_limit_is_refused_with_the_numbers(suite):
    company = suite.new_company("CREDIT")
    cust = customer(suite, company, "10000.00")
    first = order(suite, company, cust, "CRM-1", "6000.00")  # 6,780.00 with VAT
    assert first.status_code == 201 and first.json()["credit"]["approved"]
    second = order(suite, company, cust, "CRM-2", "5000.00")  # 5,650.00 > 3,220.00 available
    assert second.status_code == 422
    p = second.json()
    assert p["type"].endswith("/credit-refused") and p["limit"] == "10000.00"
    assert p["exposure"] == "6780.00" and p["available"] == "3220.00"
    again = order(suite, company, cust, "CRM-1", "6000.00")
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    info = suite.http.get(f"{suite.ar_url}/v1/customers/{cust}", params={"company": company}).json()
    assert info["exposure"] == "6780.00" and info["available"] == "3220.00"
    warn = customer(suite, company, "100.00", policy="warn")
    r = order(suite, company, warn, "CRM-3", "1000.00")
    assert r.status_code == 201 and "warn-only" in r.json()["credit"]["reason"]
    # Invoicing the order turns its reservation into an open receivable: exposure unchanged.
    body = suite.invoice_body(company, 1) | {"customer_code": cust, "sales_order_ref": "CRM-1",
                                            "lines": [{"description": "Pump", "quantity": "1",
                                                       "unit_price": "6000.00", "tax_code": "VAT13"}]}
    assert suite.http.post(f"{suite.ar_url}/v1/invoices", json=body).status_code == 201
    info = suite.http.get(f"{suite.ar_url}/v1/customers/{cust}", params={"company": company}).json()
    assert info["exposure"] == "6780.00"


def test_credit_service_over_grpc(suite):
    company = suite.new_company("GRPC")
    cust = customer(suite, company, "10000.00")
    target = f"127.0.0.1:{suite.ar_grpc_port}"
    auth = (("authorization", f"Bearer {suite.token}"),)

    async def run():
        async with grpc.aio.insecure_channel(target) as ch:
            health = await health_pb2_grpc.HealthStub(ch).Check(
                health_pb2.HealthCheckRequest(service="finance.credit.v1.CreditService"), timeout=5)
            assert health.status == health_pb2.HealthCheckResponse.SERVING
            stub = pb_grpc.CreditServiceStub(ch)
            amount = money.to_proto(Decimal("4000.00"), "CNY")
            d = await stub.CheckCredit(pb.CheckCreditRequest(company_id=company, customer_code=cust, amount=amount,
                                                             order_ref="O-1"), metadata=auth, timeout=5)
            assert d.approved and money.from_proto(d.available) == Decimal("10000.00")
            with pytest.raises(grpc.aio.AioRpcError) as e:
                await stub.CheckCredit(pb.CheckCreditRequest(company_id=company, customer_code=cust, amount=amount),
                                       timeout=5)
            assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED
            with pytest.raises(grpc.aio.AioRpcError) as e:
                await stub.CheckCredit(pb.CheckCreditRequest(company_id=company, customer_code="NOPE", amount=amount),
                                       metadata=auth, timeout=5)
            assert e.value.code() == grpc.StatusCode.NOT_FOUND
            # Concurrency: two reservations of 6,000 against 10,000 at the same moment, five
            # times over: exactly one of each pair is approved.
            for i in range(5):
                c = customer(suite, company, "10000.00")
                reqs = [pb.ReserveCreditRequest(company_id=company, customer_code=c, order_ref=f"R{i}-{k}",
                                                amount=money.to_proto(Decimal("6000.00"), "CNY")) for k in range(2)]
                both = await asyncio.gather(*(stub.ReserveCredit(r, metadata=auth, timeout=10) for r in reqs))
                assert sorted(x.approved for x in both) == [False, True], both
                again = await stub.ReserveCredit(reqs[0], metadata=auth, timeout=10)
                assert again.approved == both[0].approved  # idempotent by order
            # Releasing the approved order frees the credit (once); the refused one then fits.
            won = 0 if both[0].approved else 1
            rel = await stub.ReleaseCredit(pb.ReleaseCreditRequest(company_id=company, order_ref=f"R4-{won}"),
                                           metadata=auth, timeout=5)
            assert rel.released and money.from_proto(rel.released_amount) == Decimal("6000.00")
            rel2 = await stub.ReleaseCredit(pb.ReleaseCreditRequest(company_id=company, order_ref=f"R4-{won}"),
                                            metadata=auth, timeout=5)
            assert not rel2.released
            retry = await stub.ReserveCredit(reqs[1 - won], metadata=auth, timeout=10)
            assert retry.approved and money.from_proto(retry.available) == Decimal("4000.00")

    asyncio.run(run())


def test_a_node_client_gets_the_same_decision_as_python(suite):
    import json
    import shutil
    import subprocess
    from pathlib import Path

    node = shutil.which("node")
    script = Path(__file__).resolve().parents[2] / "tools" / "grpc-node" / "check_credit.js"
    if node is None or not (script.parent / "node_modules" / "@grpc" / "grpc-js").is_dir():
        pytest.fail("Node.js and tools/grpc-node/node_modules are needed: run `make test-tools`")
    company = suite.new_company("NODE")
    cust = customer(suite, company, "10000.00")
    assert order(suite, company, cust, "CRM-N1", "6000.00").status_code == 201
    target = f"127.0.0.1:{suite.ar_grpc_port}"

    async def python_decision(units: int):
        async with grpc.aio.insecure_channel(target) as ch:
            return await pb_grpc.CreditServiceStub(ch).CheckCredit(
                pb.CheckCreditRequest(company_id=company, customer_code=cust,
                                      amount=money.to_proto(Decimal(units), "CNY")),
                metadata=(("authorization", f"Bearer {suite.token}"),), timeout=5)

    for units in (3000, 3500):  # available is 3,220.00: one fits, one does not
        out = subprocess.run([node, str(script), target, suite.token, company, cust, str(units)],
                             capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        js = json.loads(out.stdout)
        py = asyncio.run(python_decision(units))
        assert js["approved"] == py.approved == (units == 3000)
        assert js["reason"] == py.reason and js["policy"] == py.policy
        assert (js["available"]["units"], js["available"]["nanos"]) == (str(py.available.units), py.available.nanos)
