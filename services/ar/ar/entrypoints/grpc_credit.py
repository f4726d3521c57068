"""finance.credit.v1.CreditService over grpc.aio (port 50052).

Callers set a deadline on every call and decide what a timeout means; the order-to-cash
flow in AR's own API treats "no answer" as "not approved" (fail closed)."""

from __future__ import annotations

from decimal import Decimal

import grpc
from finance.credit.v1 import credit_service_pb2 as pb
from finance.credit.v1 import credit_service_pb2_grpc as pb_grpc
from fincore import money, rates
from fincore.auth import Authenticator
from fincore.db import Database
from fincore.grpc_server import authorize

from ar.service.credit import Decision, UnknownCustomer, check_credit, release_credit, reserve_credit


def _decision(d: Decision) -> pb.CreditDecision:
    out = pb.CreditDecision(approved=d.approved, limit=money.amount_pb(d.limit, d.currency),
                            exposure=money.amount_pb(d.exposure, d.currency),
                            available=money.amount_pb(d.available, d.currency), reason=d.reason, policy=d.policy)
    if d.conversion is not None:
        out.amount.CopyFrom(money.amount_pb(d.conversion.amount, d.currency))
        if d.conversion.converted:
            out.conversion.CopyFrom(rates.conversion_pb(d.conversion))
    return out


async def _no_rate(context, exc: rates.RateUnavailable) -> None:
    await context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(exc), trailing_metadata=(rates.GRPC_PROBLEM,))


class CreditService(pb_grpc.CreditServiceServicer):
    def __init__(self, db: Database, auth: Authenticator) -> None:
        self.db, self.auth = db, auth

    async def _amount(self, request, context) -> Decimal:
        try:
            amount = money.from_proto(request.amount)
            money.minor_units(request.amount.currency_code)
        except money.MoneyError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"amount: {exc}")
        if amount <= 0:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "amount must be positive")
        return amount

    async def CheckCredit(self, request, context):  # noqa: N802 - gRPC method name
        await authorize(context, self.auth, "ar:read", request.company_id)
        amount = await self._amount(request, context)
        try:
            async with self.db.autocommit.connect() as conn:
                return _decision(await check_credit(conn, request.company_id, request.customer_code, amount,
                                                    request.order_ref, request.amount.currency_code))
        except rates.RateUnavailable as exc:
            await _no_rate(context, exc)
        except UnknownCustomer as exc:
            await context.abort(grpc.StatusCode.NOT_FOUND, str(exc))

    async def ReserveCredit(self, request, context):  # noqa: N802
        await authorize(context, self.auth, "ar:write", request.company_id)
        amount = await self._amount(request, context)
        ref = request.order_ref or request.idempotency_key
        if not ref:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "order_ref (or idempotency_key) is required")
        try:
            async with self.db.transaction() as s:
                return _decision(await reserve_credit(s, request.company_id, request.customer_code, amount, ref,
                                                      request.amount.currency_code))
        except rates.RateUnavailable as exc:
            await _no_rate(context, exc)
        except UnknownCustomer as exc:
            await context.abort(grpc.StatusCode.NOT_FOUND, str(exc))

    async def ReleaseCredit(self, request, context):  # noqa: N802
        await authorize(context, self.auth, "ar:write", request.company_id)
        async with self.db.transaction() as s:
            released, currency = await release_credit(s, request.company_id, request.order_ref)
        return pb.ReleaseCreditResponse(released=released > 0,
                                        released_amount=money.to_proto(released, currency) if released else None)


def register(settings, db: Database):
    def add(server: grpc.aio.Server) -> list[str]:
        pb_grpc.add_CreditServiceServicer_to_server(CreditService(db, Authenticator(settings)), server)
        return [pb.DESCRIPTOR.services_by_name["CreditService"].full_name]

    return add
