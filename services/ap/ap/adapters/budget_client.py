"""AP's side of finance.budget.v1.BudgetService. Every call has a deadline; a budget service
that does not answer means "not approved" to AP (fail closed) and the caller sees a 503."""

from __future__ import annotations

from decimal import Decimal

import grpc
from finance.budget.v1 import budget_service_pb2 as pb
from finance.budget.v1 import budget_service_pb2_grpc as pb_grpc
from fincore import dates, money, rates
from fincore.errors import ProblemError
from fincore.grpc_client import GrpcClient
from fincore.rates import converted_from_json

MODES = {pb.CONTROL_MODE_BLOCK: "block", pb.CONTROL_MODE_WARN: "warn", pb.CONTROL_MODE_NONE: "none"}


class BudgetUnavailable(ProblemError):
    status = 503
    type_ = "budget-unavailable"


def decision_json(d: pb.BudgetDecision, **key) -> dict:
    q = lambda m: str(money.from_proto(m)) if m.currency_code else None  # noqa: E731
    c = d.conversion  # a spend in another currency than the budget line's, converted by the budget service
    return {**key, "allowed": d.allowed, "warning": d.warning, "reason": d.reason,
            "control_mode": MODES.get(d.control_mode, ""), "requested": q(d.requested), "budget": q(d.budget),
            "consumed": q(d.consumed), "reserved": q(d.reserved), "available": q(d.available),
            "budget_line_id": d.budget_line_id,
            "conversion": converted_from_json(money.from_proto(c.original), c.original.currency_code,
                                              Decimal(c.rate), dates.from_proto(c.rate_date))
            if d.HasField("conversion") else None}


class BudgetClient:
    def __init__(self, target: str, timeout_s: float, token: str = "") -> None:
        self.grpc = GrpcClient(target, timeout_s=timeout_s)
        self.service_token = token

    @property
    def stub(self) -> pb_grpc.BudgetServiceStub:
        return pb_grpc.BudgetServiceStub(self.grpc.channel)

    async def _call(self, method: str, request, token: str) -> pb.BudgetDecision:
        try:
            return await self.grpc.call(getattr(self.stub, method), f"finance.budget.v1.BudgetService/{method}",
                                        request, token=self.service_token or token)
        except grpc.aio.AioRpcError as exc:
            if rates.GRPC_PROBLEM in tuple(exc.trailing_metadata() or ()):
                raise ProblemError(f"budget {method}: {exc.details()}", status=422, type_="rate-unavailable",
                                   title="Exchange rate unavailable") from exc
            if exc.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION,
                              grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED):
                raise ProblemError(f"budget {method}: {exc.details()}", status=422,
                                   type_="budget-request-refused") from exc
            raise BudgetUnavailable(f"the budget service did not answer {method} ({exc.code().name}); "
                                    f"nothing was approved") from exc

    async def reserve(self, *, company: str, cost_centre: str, budget_item: str, period: str, amount: Decimal,
                      currency: str, document_ref: str, token: str) -> pb.BudgetDecision:
        check = pb.CheckBudgetRequest(company_id=company, cost_centre=cost_centre, budget_item=budget_item,
                                      period=period, amount=money.to_proto(amount, currency))
        return await self._call("Reserve", pb.ReserveBudgetRequest(check=check, document_ref=document_ref), token)

    async def commit(self, *, company: str, document_ref: str, amount: Decimal, currency: str, invoice_ref: str,
                     token: str) -> pb.BudgetDecision:
        return await self._call("Commit", pb.CommitBudgetRequest(
            company_id=company, document_ref=document_ref, amount=money.to_proto(amount, currency),
            invoice_ref=invoice_ref), token)

    async def release(self, *, company: str, document_ref: str, token: str) -> pb.BudgetDecision:
        return await self._call("Release", pb.ReleaseBudgetRequest(company_id=company, document_ref=document_ref),
                                token)

    async def close(self) -> None:
        await self.grpc.close()
