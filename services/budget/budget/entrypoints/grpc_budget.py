"""finance.budget.v1.BudgetService over grpc.aio (port 50056).

Callers set a deadline on every call and decide what a timeout means; AP treats "no answer"
as "not approved" (fail closed): a requisition is never raised past an unanswered check."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import grpc
from finance.budget.v1 import budget_service_pb2 as pb
from finance.budget.v1 import budget_service_pb2_grpc as pb_grpc
from fincore import money, rates
from fincore.auth import Authenticator
from fincore.db import Database
from fincore.grpc_server import authorize

from budget.domain.control import Decision
from budget.service.control import BudgetError, check_budget, commit, release, reserve, reserve_quick

MODES = {"block": pb.CONTROL_MODE_BLOCK, "warn": pb.CONTROL_MODE_WARN, "none": pb.CONTROL_MODE_NONE}


def decision_pb(d: Decision, currency: str = "") -> pb.BudgetDecision:
    f = d.figures
    cur = f.currency if f else currency
    if not cur:
        return pb.BudgetDecision(allowed=d.allowed, reason=d.reason, warning=d.warning)
    out = pb.BudgetDecision(allowed=d.allowed, reason=d.reason, warning=d.warning,
                            requested=money.amount_pb(d.requested, cur))
    if f:
        out.budget.CopyFrom(money.amount_pb(f.budget, cur))
        out.consumed.CopyFrom(money.amount_pb(f.consumed, cur))
        out.reserved.CopyFrom(money.amount_pb(f.reserved, cur))
        out.available.CopyFrom(money.amount_pb(f.available, cur))
        out.control_mode = MODES.get(f.control_mode, pb.CONTROL_MODE_UNSPECIFIED)
        out.budget_line_id = f.line_id
    if d.conversion is not None and d.conversion.converted:
        out.conversion.CopyFrom(rates.conversion_pb(d.conversion))
    return out


async def _no_rate(context, exc: rates.RateUnavailable) -> None:
    await context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(exc), trailing_metadata=(rates.GRPC_PROBLEM,))

MAX_RESERVATION_S = 366 * 24 * 3600  # a reservation lapses within a year



class BudgetService(pb_grpc.BudgetServiceServicer):
    def __init__(self, db: Database, auth: Authenticator, ttl_s: int) -> None:
        self.db, self.auth, self.ttl_s = db, auth, ttl_s

    async def _amount(self, m, context) -> Decimal:
        try:
            amount = money.from_proto(m)
            money.minor_units(m.currency_code)
        except money.MoneyError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"amount: {exc}")
        if amount <= 0:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "amount must be positive")
        return amount

    async def _check_args(self, c, context) -> Decimal:
        if len(c.period) != 7 or c.period[4] != "-":
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "period is YYYY-MM")
        return await self._amount(c.amount, context)

    async def CheckBudget(self, request, context):  # noqa: N802 - gRPC method name
        await authorize(context, self.auth, "budget:read", request.company_id)
        amount = await self._check_args(request, context)
        try:
            async with self.db.autocommit.connect() as conn:
                d = await check_budget(conn, request.company_id, request.cost_centre, request.budget_item,
                                       request.period, amount, request.amount.currency_code)
        except rates.RateUnavailable as exc:
            await _no_rate(context, exc)
        return decision_pb(d, request.amount.currency_code)

    async def Reserve(self, request, context):  # noqa: N802
        c = request.check
        await authorize(context, self.auth, "budget:write", c.company_id)
        amount = await self._check_args(c, context)
        ref = request.document_ref or request.idempotency_key
        if not ref:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "document_ref (or idempotency_key) is required")
        if not 0 <= request.expires_in_seconds <= MAX_RESERVATION_S:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                f"expires_in_seconds is 0 (the default) .. {MAX_RESERVATION_S} (one year)")
        ttl = dt.timedelta(seconds=request.expires_in_seconds or self.ttl_s)
        try:
            d = None
            if not self.db.is_sqlite:
                async with self.db.autocommit.connect() as conn:
                    d = await reserve_quick(conn, c.company_id, c.cost_centre, c.budget_item, c.period, amount, ref,
                                            ttl=ttl, currency=c.amount.currency_code)
            if d is None:
                async with self.db.begin() as conn:
                    d = await reserve(conn, c.company_id, c.cost_centre, c.budget_item, c.period, amount, ref,
                                      ttl=ttl, currency=c.amount.currency_code)
        except rates.RateUnavailable as exc:
            await _no_rate(context, exc)
        except BudgetError as exc:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(exc))
        return decision_pb(d, c.amount.currency_code)

    async def Commit(self, request, context):  # noqa: N802
        await authorize(context, self.auth, "budget:write", request.company_id)
        amount = await self._amount(request.amount, context)
        try:
            async with self.db.transaction() as s:
                d = await commit(s, request.company_id, request.document_ref, amount, request.invoice_ref,
                                 request.amount.currency_code)
        except rates.RateUnavailable as exc:
            await _no_rate(context, exc)
        except BudgetError as exc:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(exc))
        return decision_pb(d, request.amount.currency_code)

    async def Release(self, request, context):  # noqa: N802
        await authorize(context, self.auth, "budget:write", request.company_id)
        async with self.db.transaction() as s:
            d = await release(s, request.company_id, request.document_ref)
        return decision_pb(d)


def register(settings, db: Database):
    def add(server: grpc.aio.Server) -> list[str]:
        pb_grpc.add_BudgetServiceServicer_to_server(
            BudgetService(db, Authenticator(settings), settings.reservation_ttl_s), server)
        return [pb.DESCRIPTOR.services_by_name["BudgetService"].full_name]

    return add
