# ruff: noqa: E501
"""AR HTTP API: invoices."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Response
from fincore import money
from fincore.auth import Authenticator, Principal, get_owned
from fincore.dates import Date
from fincore.db import Database
from fincore.errors import NotFound, Unprocessable
from fincore.http import Page, pagination, service_router
from fincore.money import CurrencyCode, MoneyError
from fincore.rates import RateUnavailable
from fincore.schemas import StrictModel
from pydantic import ConfigDict, Field

from ar.adapters.tables import Customer, Invoice, InvoiceLine, Receipt, ReceiptApplication
from ar.domain.invoice import TAX_RATES, InvoiceError, LineInput
from ar.service.bad_debts import BadDebtError, provide, write_off
from ar.service.credit import UnknownCustomer, position
from ar.service.credit_memos import issue_credit_memo
from ar.service.invoicing import invoice_json, issue_invoice
from ar.service.orders import receive_sales_order, upsert_customer
from ar.service.receipts import Instruction, ReceiptError, ageing, receive_payment
from ar.service.reconciliation import reconciliation
from ar.service.refunds import RefundError, pay_refund

Code = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\-]+$")]
Dim = Annotated[str, Field(max_length=40)]


class Dimensions(StrictModel):
    model_config = ConfigDict(extra="forbid")
    cost_centre: Dim = ""
    department: Dim = ""
    product: Dim = ""
    customer: Dim = ""
    supplier: Dim = ""
    project: Dim = ""
    region: Dim = ""
    sales_team: Dim = ""

    def compact(self) -> dict[str, str]:
        return {k: v for k, v in self.model_dump().items() if v}


class LineIn(StrictModel):
    model_config = ConfigDict(extra="forbid")
    description: str = Field(min_length=1, max_length=300)
    quantity: Decimal = Field(gt=0, max_digits=20, decimal_places=6)
    unit_price: Decimal = Field(ge=0, max_digits=20, decimal_places=6)
    discount: Decimal = Field(Decimal(0), ge=0, max_digits=20, decimal_places=4)
    tax_code: str = Field(description=f"one of {', '.join(TAX_RATES)}")
    item_code: str = Field("", max_length=40)
    item_category: str = Field("", max_length=40)
    dimensions: Dimensions = Dimensions()


class InvoiceIn(StrictModel):
    """Money as decimal strings or numbers in JSON; never floats inside (parsed to Decimal)."""

    model_config = ConfigDict(extra="forbid")
    company_id: Code
    customer_code: Code
    customer_group: str = Field("", max_length=40)
    currency: CurrencyCode
    issue_date: dt.date
    due_date: dt.date | None = None
    sales_order_ref: str = Field("", max_length=80)
    lines: list[LineIn] = Field(min_length=1, max_length=500)
    dimensions: Dimensions = Dimensions()


class CustomerIn(StrictModel):
    model_config = ConfigDict(extra="forbid")
    company_id: Code
    code: Code
    name: str = Field(min_length=1, max_length=200)
    customer_group: str = Field("", max_length=40)
    currency: CurrencyCode = "CNY"
    payment_terms_days: int = Field(30, ge=0, le=365)
    credit_limit: Decimal = Field(Decimal(0), ge=0, max_digits=20, decimal_places=4,
                                  description="in the customer's currency, at its minor unit")
    credit_policy: Literal["block", "warn"] = "block"
    intercompany_partner: str = Field("", max_length=40)


class OrderLineIn(StrictModel):
    model_config = ConfigDict(extra="forbid")
    item_code: str = Field("", max_length=40)
    description: str = Field(min_length=1, max_length=300)
    quantity: Decimal = Field(gt=0, max_digits=20, decimal_places=6)
    unit_price: Decimal = Field(ge=0, max_digits=20, decimal_places=6)
    tax_code: str


class SalesOrderIn(StrictModel):
    model_config = ConfigDict(extra="forbid")
    company_id: Code
    crm_order_id: str = Field(min_length=1, max_length=80)
    customer_code: Code
    order_date: dt.date
    expected_delivery_date: dt.date | None = Field(
        None, description="when the goods are expected to ship, and so to be invoiced (AR invoices a shipment when "
                          "inventory issues it); default: the order date; never before it. The cash-flow forecast "
                          "expects the cash the customer's payment terms and average days late after it")
    currency: CurrencyCode | None = Field(None, description="the order's currency (default: the customer's); "
                                          "checked against the credit limit at the ledger's rate of the day")
    lines: list[OrderLineIn] = Field(min_length=1, max_length=500)


class ApplicationIn(StrictModel):
    model_config = ConfigDict(extra="forbid")
    invoice_id: str
    amount: Decimal = Field(gt=0, max_digits=20, decimal_places=4)


BANK_ACCOUNT_DOC = ("the bank account (cash management's code) the money moved on: the ledger posts to its "
                    "sub-account, and waits for the account if cash management has not opened it yet; empty: the "
                    "chart's bank account")


class ReceiptIn(StrictModel):
    model_config = ConfigDict(extra="forbid")
    company_id: Code
    customer_code: Code
    receipt_date: dt.date
    amount: Decimal = Field(gt=0, max_digits=20, decimal_places=4)
    bank_account: str = Field("", max_length=40, description=BANK_ACCOUNT_DOC)
    payment_method: str = Field("BANK_TRANSFER", max_length=20)
    applications: list[ApplicationIn] | None = Field(None, description="the customer's instruction; default oldest first")


class CreditMemoIn(StrictModel):
    model_config = ConfigDict(extra="forbid")
    invoice_id: str
    reason: Literal["PRICE_ADJUSTMENT", "CANCELLATION"]
    memo_date: dt.date
    lines: list[OrderLineIn] | None = Field(None, description="required for PRICE_ADJUSTMENT")


class ProvisionIn(StrictModel):
    model_config = ConfigDict(extra="forbid")
    company_id: Code
    as_of: dt.date
    buckets: list[int] = Field([30, 60, 90], min_length=1)
    rates: dict[str, Decimal] = Field(description="allowance rate per ageing bucket, e.g. {\"90+\": \"0.5\"}")


class RefundIn(StrictModel):
    model_config = ConfigDict(extra="forbid")
    company_id: Code
    customer_code: Code
    refund_date: dt.date
    amount: Decimal = Field(gt=0, max_digits=20, decimal_places=4)
    bank_account: str = Field("", max_length=40, description=BANK_ACCOUNT_DOC)


class WriteOffIn(StrictModel):
    model_config = ConfigDict(extra="forbid")
    invoice_id: str
    write_off_date: dt.date
    reason: str = Field(min_length=1, max_length=300)



def rate_unavailable(exc: RateUnavailable) -> Unprocessable:
    return Unprocessable(str(exc), type_="rate-unavailable", title="Exchange rate unavailable", **exc.problem())


def build_router(db: Database, auth: Authenticator) -> APIRouter:
    r = service_router(prefix="/v1", tags=["invoices"])

    @r.post("/receipts", status_code=201, tags=["receipts"],
            summary="Money received: applied by instruction or oldest-first; the rest is unapplied cash")
    async def post_receipt(body: ReceiptIn, principal: Principal = Depends(auth.require("ar:write"))) -> dict:
        principal.require_company(body.company_id)
        try:
            async with db.transaction() as s:
                rec, _ = await receive_payment(
                    s, company=body.company_id, customer=body.customer_code, amount=body.amount, on=body.receipt_date,
                    bank_account=body.bank_account, method=body.payment_method,
                    instructions=[Instruction(a.invoice_id, a.amount) for a in body.applications]
                    if body.applications else None)
        except ReceiptError as exc:
            raise Unprocessable(str(exc)) from exc
        return await receipt_json(rec.id)

    async def receipt_json(receipt_id: str) -> dict:
        async with db.sessions() as s:
            rec = await s.get(Receipt, receipt_id)
            apps = (await s.execute(sa.select(ReceiptApplication, Invoice.number).join(
                Invoice, Invoice.id == ReceiptApplication.invoice_id).where(
                ReceiptApplication.receipt_id == receipt_id).order_by(ReceiptApplication.id))).all()
        return {"id": rec.id, "number": rec.number, "customer_code": rec.customer_code,
                "receipt_date": rec.receipt_date.isoformat(), "currency": rec.currency,
                "amount": money.format_amount(rec.amount, rec.currency),
                "unapplied": money.format_amount(rec.unapplied, rec.currency),
                "applications": [{"invoice_id": a.invoice_id, "invoice": n,
                                  "amount": money.format_amount(a.amount, rec.currency)} for a, n in apps]}

    @r.post("/credit-memos", status_code=201, tags=["invoices"],
            summary="Credit memo against an invoice: PRICE_ADJUSTMENT (lines) or CANCELLATION (the whole invoice)")
    async def post_credit_memo(body: CreditMemoIn, principal: Principal = Depends(auth.require("ar:write"))) -> dict:
        async with db.sessions() as s:
            await get_owned(s, Invoice, body.invoice_id, principal, "invoice")
        lines = [LineInput(description=ln.description, quantity=ln.quantity, unit_price=ln.unit_price,
                           tax_code=ln.tax_code, item_code=ln.item_code) for ln in body.lines or []]
        try:
            async with db.transaction() as s:
                memo = await issue_credit_memo(s, invoice_id=body.invoice_id, reason=body.reason, on=body.memo_date,
                                               lines=lines or None)
        except InvoiceError as exc:
            raise Unprocessable(str(exc)) from exc
        cur = memo.currency
        return {"id": memo.id, "number": memo.number, "invoice_id": memo.invoice_id, "reason": memo.reason,
                "currency": cur, "net_total": money.format_amount(memo.net_total, cur),
                "tax_total": money.format_amount(memo.tax_total, cur),
                "gross_total": money.format_amount(memo.gross_total, cur), "applied": money.format_amount(memo.applied, cur)}

    @r.post("/bad-debt-provisions", tags=["bad debts"],
            summary="Set the allowance from the ageing by rates per bucket (posts the change)")
    async def post_provision(body: ProvisionIn, principal: Principal = Depends(auth.require("ar:write"))) -> dict:
        principal.require_company(body.company_id)
        if body.buckets != sorted(set(body.buckets)) or body.buckets[0] <= 0:
            raise Unprocessable("buckets must be increasing positive day counts")
        if any(not (0 <= v <= 1) for v in body.rates.values()):
            raise Unprocessable("rates are between 0 and 1")
        try:
            async with db.transaction() as s:
                entry, total, currency, by_currency = await provide(s, body.company_id, body.as_of, body.rates,
                                                                    tuple(body.buckets))
        except BadDebtError as exc:
            raise Unprocessable(str(exc)) from exc
        except RateUnavailable as exc:
            raise rate_unavailable(exc) from exc
        # the allowance is in the ledger's functional currency; each currency's requirement beside it
        return {"currency": currency, "allowance": money.format_amount(total, currency),
                "change": money.format_amount(entry.amount if entry else 0, currency),
                "number": entry.number if entry else None, "required_by_currency": by_currency}

    @r.post("/write-offs", status_code=201, tags=["bad debts"], summary="Write an invoice's outstanding amount off")
    async def post_write_off(body: WriteOffIn, principal: Principal = Depends(auth.require("ar:write"))) -> dict:
        async with db.sessions() as s:
            inv = await get_owned(s, Invoice, body.invoice_id, principal, "invoice")
        try:
            async with db.transaction() as s:
                entry = await write_off(s, body.invoice_id, body.write_off_date, body.reason)
        except BadDebtError as exc:
            raise Unprocessable(str(exc)) from exc
        return {"number": entry.number, "invoice_id": body.invoice_id, "amount": money.format_amount(entry.amount, inv.currency)}

    @r.post("/refunds", status_code=201, tags=["receipts"],
            summary="Pay back the customer's credit (unapplied cash, unapplied credit memos)")
    async def post_refund(body: RefundIn, principal: Principal = Depends(auth.require("ar:write"))) -> dict:
        principal.require_company(body.company_id)
        try:
            async with db.transaction() as s:
                number, refund_id = await pay_refund(s, company=body.company_id, customer=body.customer_code,
                                                     amount=body.amount, on=body.refund_date,
                                                     bank_account=body.bank_account)
                c = await s.get(Customer, (body.company_id, body.customer_code))
        except RefundError as exc:
            raise Unprocessable(str(exc)) from exc
        return {"id": refund_id, "number": number, "currency": c.currency,
                "amount": money.format_amount(body.amount, c.currency)}

    @r.get("/reconciliation", tags=["receipts"],
           summary="Order / shipment / invoice / receipt reconciliation with every mismatch")
    async def get_reconciliation(company: str, customer: str | None = None,
                                 principal: Principal = Depends(auth.require("ar:read"))) -> dict:
        principal.require_company(company)
        async with db.sessions() as s:
            return await reconciliation(s, company, customer)

    @r.get("/ageing", tags=["receipts"], summary="Open receivables by days past due, as of a date")
    async def get_ageing(company: str, as_of: Date, customer: str | None = None,
                         buckets: str = Query("30,60,90", pattern=r"^\d+(,\d+)*$"),
                         principal: Principal = Depends(auth.require("ar:read"))) -> dict:
        principal.require_company(company)
        bounds = tuple(int(b) for b in buckets.split(","))
        if list(bounds) != sorted(set(bounds)) or bounds[0] <= 0:
            raise Unprocessable("buckets must be increasing positive day counts, e.g. 30,60,90")
        async with db.sessions() as s:
            return await ageing(s, company, as_of, bounds, customer)

    @r.put("/customers/{code}", tags=["customers"], summary="Create or update a customer (publishes CustomerUpserted)")
    async def put_customer(code: str, body: CustomerIn, principal: Principal = Depends(auth.require("ar:write"))) -> dict:
        principal.require_company(body.company_id)
        if code != body.code:
            raise Unprocessable("the path's code and the body's code differ")
        try:
            async with db.transaction() as s:
                await upsert_customer(s, **body.model_dump())
        except MoneyError as exc:
            raise Unprocessable(str(exc)) from exc
        return {**body.model_dump(mode="json"), "credit_limit": money.format_amount(body.credit_limit, body.currency)}

    @r.get("/customers/{code}", tags=["customers"], summary="A customer with its credit position")
    async def get_customer(code: str, company: str, principal: Principal = Depends(auth.require("ar:read"))) -> dict:
        principal.require_company(company)
        async with db.sessions() as s:
            c = await s.get(Customer, (company, code))
            if c is None:
                raise NotFound(f"no customer {code}")
            try:
                pos = await position(s, company, code, c.currency)
            except RateUnavailable as exc:
                raise rate_unavailable(exc) from exc
        q = lambda v: money.format_amount(v, c.currency)  # noqa: E731
        return {"company_id": company, "code": c.code, "name": c.name, "customer_group": c.customer_group,
                "currency": c.currency, "payment_terms_days": c.payment_terms_days,
                "credit_limit": q(c.credit_limit), "credit_policy": c.credit_policy,
                "intercompany_partner": c.intercompany_partner,
                "open_invoices": q(pos.open_invoices), "reserved": q(pos.reserved),
                "unapplied_cash": q(pos.unapplied_cash), "unapplied_credit_memos": q(pos.credit_memos),
                "credit": q(pos.credit), "exposure": q(pos.exposure), "available": q(c.credit_limit - pos.exposure)}

    @r.post("/sales-orders", status_code=201, tags=["sales orders"],
            summary="Receive a CRM sales order: reserves credit, or is refused with the numbers")
    async def post_sales_order(body: SalesOrderIn, response: Response,
                               principal: Principal = Depends(auth.require("ar:write"))) -> dict:
        principal.require_company(body.company_id)
        try:
            lines = [LineInput(description=ln.description, quantity=ln.quantity, unit_price=ln.unit_price,
                               tax_code=ln.tax_code, item_code=ln.item_code) for ln in body.lines]
            async with db.transaction() as s:
                order, replayed = await receive_sales_order(
                    s, company=body.company_id, crm_order_id=body.crm_order_id, customer=body.customer_code,
                    order_date=body.order_date, lines=lines, raw_lines=[ln.model_dump(mode="json") for ln in body.lines],
                    currency=body.currency or "", expected_delivery_date=body.expected_delivery_date)
        except RateUnavailable as exc:
            raise rate_unavailable(exc) from exc
        except (InvoiceError, ValueError) as exc:
            raise Unprocessable(str(exc)) from exc
        except UnknownCustomer as exc:
            raise Unprocessable(str(exc)) from exc
        if replayed:
            response.status_code = 200
            response.headers["Idempotent-Replayed"] = "true"
        if order.status == "refused":
            raise Unprocessable(f"credit check refused order {order.crm_order_id}: {order.decision['reason']}",
                                type_="credit-refused", title="Credit limit exceeded", **{
                                    k: order.decision[k] for k in ("limit", "exposure", "available")},
                                order_amount=money.format_amount(order.amount, order.currency))
        return {"id": order.id, "crm_order_id": order.crm_order_id, "status": order.status,
                "order_date": order.order_date.isoformat(),
                "expected_delivery_date": order.expected_delivery_date.isoformat(), "currency": order.currency,
                "amount": money.format_amount(order.amount, order.currency),
                "credit": order.decision}

    @r.post("/invoices", status_code=201, summary="Issue a sales invoice (emits InvoiceIssued)")
    async def post_invoice(
        body: InvoiceIn, response: Response,
        principal: Principal = Depends(auth.require("ar:write")),
    ) -> dict:
        principal.require_company(body.company_id)
        if body.due_date and body.due_date < body.issue_date:
            raise Unprocessable("due_date is before issue_date")
        lines = [LineInput(description=ln.description, quantity=ln.quantity, unit_price=ln.unit_price,
                           tax_code=ln.tax_code, discount=ln.discount, item_code=ln.item_code,
                           item_category=ln.item_category, dimensions=ln.dimensions.compact())
                 for ln in body.lines]
        try:
            async with db.transaction() as s:
                inv, rows = await issue_invoice(
                    s, company_id=body.company_id, customer_code=body.customer_code,
                    customer_group=body.customer_group, currency=body.currency, issue_date=body.issue_date,
                    due_date=body.due_date, lines=lines, sales_order_ref=body.sales_order_ref,
                    dimensions=body.dimensions.compact())
        except InvoiceError as exc:
            raise Unprocessable(str(exc)) from exc
        response.headers["Location"] = f"/v1/invoices/{inv.id}"
        return invoice_json(inv, rows)

    @r.get("/invoices/{invoice_id}", summary="One invoice with its lines")
    async def get_invoice(invoice_id: str, principal: Principal = Depends(auth.require("ar:read"))) -> dict:
        async with db.sessions() as s:
            inv = await get_owned(s, Invoice, invoice_id, principal, "invoice")
            rows = (await s.execute(sa.select(InvoiceLine).where(InvoiceLine.invoice_id == inv.id))).scalars().all()
        return invoice_json(inv, list(rows))

    @r.get("/invoices", summary="Invoices of a company, newest first")
    async def list_invoices(company: str, customer: str | None = None, page: Page = Depends(pagination()),
                            principal: Principal = Depends(auth.require("ar:read"))) -> dict:
        principal.require_company(company)
        async with db.sessions() as s:
            q = sa.select(Invoice).where(Invoice.company_id == company)
            if customer:
                q = q.where(Invoice.customer_code == customer)
            total = (await s.execute(sa.select(sa.func.count()).select_from(q.subquery()))).scalar_one()
            rows = (await s.execute(q.order_by(Invoice.issue_date.desc(), Invoice.number.desc())
                                    .limit(page.limit).offset(page.offset))).scalars().all()
        return {"total": total, "items": [invoice_json(i) for i in rows]}

    return r
