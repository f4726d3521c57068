# ruff: noqa: E501
"""AP HTTP API: suppliers, requisitions, purchase orders, supplier invoices, expense claims,
payment runs (with the pain.001 bank file), ageing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request, Response
from fincore import money
from fincore.auth import Authenticator, Principal, get_owned
from fincore.dates import Date
from fincore.db import Database
from fincore.errors import Conflict, NotFound, Unprocessable
from fincore.http import service_router
from fincore.money import CurrencyCode, MoneyError
from fincore.schemas import StrictModel
from fincore.tax import TAX_RATES
from pydantic import AfterValidator, ConfigDict, Field
from sqlalchemy.exc import IntegrityError

from ap.adapters.budget_client import BudgetClient
from ap.adapters.tables import (
    GoodsReceipt,
    OrderLine,
    Payment,
    PaymentRun,
    PaymentRunItem,
    PurchaseOrder,
    Requisition,
    Supplier,
    SupplierInvoice,
    SupplierInvoiceLine,
)
from ap.domain.matching import InvoiceLine, Tolerances
from ap.domain.terms import TermsError
from ap.service import invoices as inv_svc
from ap.service import payments as pay_svc
from ap.service.purchasing import (
    PurchasingError,
    RequestedLine,
    cancel_requisition,
    close_order,
    order,
    raise_requisition,
)
from ap.service.suppliers import SupplierError, upsert_bank_account, upsert_supplier

Code = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\-]+$")]
def _known_tax_code(v: str) -> str:
    if v not in TAX_RATES:
        raise ValueError(f"unknown tax code (one of {', '.join(TAX_RATES)})")
    return v


TaxCode = Annotated[str, Field(description=f"one of {', '.join(TAX_RATES)}"), AfterValidator(_known_tax_code)]
Qty = Annotated[Decimal, Field(gt=0, max_digits=20, decimal_places=6)]
Price = Annotated[Decimal, Field(ge=0, max_digits=20, decimal_places=6)]
Amt = Annotated[Decimal, Field(gt=0, max_digits=20, decimal_places=4)]


class SupplierIn(StrictModel):
    model_config = ConfigDict(extra="forbid")
    company_id: Code
    name: str = Field(min_length=1, max_length=200)
    supplier_group: str = Field("", max_length=40, description="EMPLOYEE for people who claim expenses")
    currency: CurrencyCode = "CNY"
    payment_terms: str = Field("NET30", max_length=30, description="NET<days> or <pct>/<days> NET<days>")
    iban: str = Field("", max_length=42)
    bic: str = Field("", max_length=11)
    intercompany_partner: str = Field("", max_length=40)


class BankAccountIn(StrictModel):
    model_config = ConfigDict(extra="forbid")
    company_id: Code
    name: str = Field(min_length=1, max_length=200, description="account holder (the debtor of payment files)")
    iban: str = Field("", max_length=42, description="needed for pain.001 bank files")
    bic: str = Field("", max_length=11)
    currency: CurrencyCode


class RequisitionLineIn(StrictModel):
    model_config = ConfigDict(extra="forbid")
    item_code: str = Field("", max_length=40, description="stock item; empty for a service or expense")
    description: str = Field(min_length=1, max_length=300)
    quantity: Qty
    unit_price: Price
    tax_code: TaxCode = "VAT13"
    cost_centre: str = Field("", max_length=40)
    budget_item: str = Field("", max_length=40)
    expense_category: str = Field("", max_length=40)


class RequisitionIn(StrictModel):
    """The requester is whoever the bearer token names (its subject): a `requested_by` in the
    body is refused as an unknown field (422), never believed."""

    model_config = ConfigDict(extra="forbid")
    company_id: Code
    request_date: dt.date
    currency: CurrencyCode
    lines: list[RequisitionLineIn] = Field(min_length=1, max_length=500)


class OrderIn(StrictModel):
    model_config = ConfigDict(extra="forbid")
    requisition_id: str
    supplier_code: Code
    order_date: dt.date
    expected_receipt_date: dt.date | None = Field(
        None, description="when the goods are expected in; default: the order date; never before it. The cash-flow "
                          "forecast expects to pay what is not received yet the supplier's net days after it")
    prices: dict[int, Price] | None = Field(None, description="agreed unit price per requisition line number")


class StockLineIn(StrictModel):
    model_config = ConfigDict(extra="forbid")
    item_code: Code
    quantity: Qty
    unit_price: Price
    tax_code: TaxCode = "VAT13"


class ExpenseLineIn(StrictModel):
    model_config = ConfigDict(extra="forbid")
    description: str = Field(min_length=1, max_length=300)
    amount: Amt = Field(description="net amount")
    tax_code: TaxCode = "VAT0"
    cost_centre: str = Field("", max_length=40)
    budget_item: str = Field("", max_length=40)
    expense_category: str = Field("", max_length=40, description="e.g. SELLING, FINANCE; default administrative")


class SupplierInvoiceIn(StrictModel):
    model_config = ConfigDict(extra="forbid")
    company_id: Code
    kind: Literal["stock", "expense"]
    supplier_code: Code
    supplier_invoice_number: str = Field(min_length=1, max_length=80)
    invoice_date: dt.date
    purchase_order: str = Field("", max_length=40, description="stock invoices: the order number")
    stock_lines: list[StockLineIn] = Field([], max_length=20000)
    expense_lines: list[ExpenseLineIn] = Field([], max_length=500)
    stated_gross: Decimal | None = Field(None, max_digits=20, decimal_places=4,
                                         description="the invoice's total as printed; checked against ours")
    payment_terms: str | None = Field(None, max_length=30,
                                      description="the invoice's own terms (NET<days> or <pct>/<days> NET<days>); "
                                                  "default: the supplier's. A payment run takes the discount these give")


class ExpenseClaimIn(StrictModel):
    model_config = ConfigDict(extra="forbid")
    company_id: Code
    employee_code: Code = Field(description="the employee, registered as a supplier of group EMPLOYEE")
    claim_number: str = Field(min_length=1, max_length=80)
    claim_date: dt.date
    lines: list[ExpenseLineIn] = Field(min_length=1, max_length=200)


class PaymentRunIn(StrictModel):
    model_config = ConfigDict(extra="forbid")
    company_id: Code
    payment_date: dt.date
    due_by: dt.date | None = Field(None, description="pay what is due by this date (default: the payment date)")
    bank_account: Code | None = Field(None, description="account to pay from (default: the company's only account "
                                                        "in `currency`)")
    currency: CurrencyCode | None = Field(None, description="the run's currency (that of its bank account)")
    suppliers: list[Code] = Field([], max_length=500, description="only these suppliers (default: all)")
    take_discounts: bool = Field(True, description="also propose invoices not yet due whose early-payment discount "
                                                   "is still open on the payment date")
    transfers: Literal["supplier", "invoice"] = Field(
        "supplier", description="one bank transfer per supplier (every invoice number in its remittance "
                                "information) or per invoice")


class RunItemIn(StrictModel):
    model_config = ConfigDict(extra="forbid")
    invoice_id: str = Field(min_length=1, max_length=36)


class HoldIn(StrictModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=300, description="why the invoice must not be paid yet")



def bearer(request: Request) -> str:
    return request.headers.get("authorization", "").split(" ", 1)[-1]


def build_router(db: Database, auth: Authenticator, budget: BudgetClient, tol: Tolerances, *,
                 segregate_duties: bool = True) -> APIRouter:
    r = service_router(prefix="/v1")
    read, write = auth.require("ap:read"), auth.require("ap:write")

    # --- master data ----------------------------------------------------------------
    @r.put("/suppliers/{code}", tags=["suppliers"], summary="Create or change a supplier (SupplierUpserted)")
    async def put_supplier(code: Code, body: SupplierIn, principal: Principal = Depends(write)) -> dict:
        principal.require_company(body.company_id)
        try:
            async with db.transaction() as s:
                sup = await upsert_supplier(s, code=code, **body.model_dump())
        except (SupplierError, TermsError, MoneyError) as exc:
            raise Unprocessable(str(exc)) from exc
        return {"code": code, **body.model_dump(), "iban": sup.iban, "bic": sup.bic,
                "payment_terms": sup.payment_terms}

    @r.get("/suppliers", tags=["suppliers"], summary="Suppliers of a company")
    async def list_suppliers(company: str, principal: Principal = Depends(read)) -> list[dict]:
        principal.require_company(company)
        async with db.sessions() as s:
            rows = (await s.execute(sa.select(Supplier).where(Supplier.company_id == company)
                                    .order_by(Supplier.code))).scalars().all()
        return [{"code": x.code, "name": x.name, "supplier_group": x.supplier_group, "currency": x.currency,
                 "payment_terms": x.payment_terms, "iban": x.iban, "bic": x.bic} for x in rows]

    @r.put("/bank-accounts/{code}", tags=["payments"], summary="A bank account the company pays from")
    async def put_bank(code: Code, body: BankAccountIn, principal: Principal = Depends(write)) -> dict:
        principal.require_company(body.company_id)
        try:
            async with db.transaction() as s:
                b = await upsert_bank_account(s, code=code, **body.model_dump())
        except (SupplierError, MoneyError) as exc:
            raise Unprocessable(str(exc)) from exc
        return {"code": code, "company_id": b.company_id, "name": b.name, "iban": b.iban, "bic": b.bic,
                "currency": b.currency}

    # --- requisitions and orders ----------------------------------------------------
    def req_json(q: Requisition) -> dict:
        warnings = [d["reason"] for d in q.budget if d.get("warning")]
        return {"id": q.id, "number": q.number, "company_id": q.company_id, "status": q.status,
                "requested_by": q.requested_by, "request_date": q.request_date.isoformat(), "currency": q.currency,
                "net_total": money.format_amount(q.net_total, q.currency), "budget": q.budget, "warnings": warnings, "lines": q.lines}

    @r.post("/requisitions", status_code=201, tags=["purchasing"],
            summary="Request a purchase: the budget is checked and reserved per cost centre and item, or the request is refused with its numbers")
    async def post_requisition(body: RequisitionIn, request: Request, response: Response,
                               principal: Principal = Depends(write)) -> dict:
        principal.require_company(body.company_id)
        lines = [RequestedLine(**ln.model_dump()) for ln in body.lines]
        q = await raise_requisition(db, budget, company=body.company_id, requested_by=principal.subject,
                                    request_date=body.request_date, currency=body.currency, lines=lines,
                                    idempotency_key=None, token=bearer(request))
        response.headers["Location"] = f"/v1/requisitions/{q.id}"
        return req_json(q)

    async def _req(s, req_id: str, principal: Principal) -> Requisition:
        return await get_owned(s, Requisition, req_id, principal, "requisition")

    @r.get("/requisitions/{req_id}", tags=["purchasing"], summary="A requisition with its budget decisions")
    async def get_requisition(req_id: str, principal: Principal = Depends(read)) -> dict:
        async with db.sessions() as s:
            return req_json(await _req(s, req_id, principal))

    @r.post("/requisitions/{req_id}/cancel", tags=["purchasing"], summary="Cancel: its reserved budget is released")
    async def post_cancel(req_id: str, request: Request, principal: Principal = Depends(write)) -> dict:
        async with db.sessions() as s:
            q = await _req(s, req_id, principal)
        try:
            await cancel_requisition(db, budget, q, bearer(request))
        except PurchasingError as exc:
            raise Unprocessable(str(exc)) from exc
        async with db.sessions() as s:
            return req_json(await _req(s, req_id, principal))

    async def po_json(po_id: str) -> dict:
        async with db.sessions() as s:
            po = await s.get(PurchaseOrder, po_id)
            lines = (await s.execute(sa.select(OrderLine).where(OrderLine.po_id == po_id)
                                     .order_by(OrderLine.line_no))).scalars().all()
            receipts = (await s.execute(sa.select(GoodsReceipt).where(GoodsReceipt.po_id == po_id)
                                        .order_by(GoodsReceipt.received_on))).scalars().all()
        return {"id": po.id, "number": po.number, "company_id": po.company_id, "supplier_code": po.supplier_code,
                "requisition_id": po.requisition_id, "order_date": po.order_date.isoformat(),
                "expected_receipt_date": po.expected_receipt_date.isoformat(),
                "currency": po.currency, "status": po.status,
                "lines": [{"line_no": ln.line_no, "item_code": ln.item_code, "description": ln.description,
                           "quantity": format(Decimal(ln.quantity).normalize(), "f"), "unit_price": money.format_price(ln.unit_price, po.currency),
                           "tax_code": ln.tax_code, "cost_centre": ln.cost_centre, "budget_item": ln.budget_item,
                           "received_qty": format(Decimal(Decimal(ln.received_qty)).normalize(), "f"),
                           "received_value": money.format_amount(ln.received_value, po.currency)} for ln in lines],
                "receipts": [{"movement_id": g.movement_id, "document_number": g.document_number,
                              "received_on": g.received_on.isoformat(), "lines": g.lines} for g in receipts]}

    @r.post("/purchase-orders", status_code=201, tags=["purchasing"],
            summary="Order from a supplier what an approved requisition asked for (it spends the requisition's reserved budget)")
    async def post_order(body: OrderIn, principal: Principal = Depends(write)) -> dict:
        async with db.sessions() as s:
            await _req(s, body.requisition_id, principal)
        try:
            async with db.transaction() as s:
                po = await order(s, requisition_id=body.requisition_id, supplier_code=body.supplier_code,
                                 order_date=body.order_date, prices=body.prices,
                                 expected_receipt_date=body.expected_receipt_date)
        except PurchasingError as exc:
            raise Unprocessable(str(exc)) from exc
        return await po_json(po.id)

    @r.post("/purchase-orders/{po_id}/close", tags=["purchasing"],
            summary="Close an order: no more invoices on it; the budget it still holds is released "
                    "(done by itself once every line is invoiced)")
    async def post_close(po_id: str, request: Request, principal: Principal = Depends(write)) -> dict:
        async with db.sessions() as s:
            await get_owned(s, PurchaseOrder, po_id, principal, "purchase order")
        try:
            await close_order(db, budget, po_id, bearer(request))
        except PurchasingError as exc:
            raise Unprocessable(str(exc)) from exc
        return await po_json(po_id)

    @r.get("/purchase-orders/{po_id}", tags=["purchasing"], summary="An order with what was received on it")
    async def get_order(po_id: str, principal: Principal = Depends(read)) -> dict:
        async with db.sessions() as s:
            await get_owned(s, PurchaseOrder, po_id, principal, "purchase order")
        return await po_json(po_id)

    # --- invoices and claims --------------------------------------------------------
    async def invoice_json(inv_id: str) -> dict:
        async with db.sessions() as s:
            inv = await s.get(SupplierInvoice, inv_id)
            # plain rows, not ORM objects: an invoice may have 10,000 lines
            lines = (await s.execute(sa.select(*SupplierInvoiceLine.__table__.c)
                                     .where(SupplierInvoiceLine.invoice_id == inv_id)
                                     .order_by(SupplierInvoiceLine.line_no))).all()
        cur = inv.currency
        amount = money.format_amount
        return {"id": inv.id, "number": inv.number, "company_id": inv.company_id, "kind": inv.kind,
                "supplier_code": inv.supplier_code, "supplier_invoice_number": inv.supplier_invoice_number,
                "invoice_date": inv.invoice_date.isoformat(), "due_date": inv.due_date.isoformat(),
                "discount_date": inv.discount_date.isoformat() if inv.discount_date else None,
                "payment_terms": inv.payment_terms, "discount_pct": format(Decimal(inv.discount_pct).normalize(), "f"),
                "payment_hold": {"reason": inv.payment_hold_reason, "by": inv.payment_hold_by,
                                 "at": inv.payment_hold_at.isoformat()} if inv.payment_hold_reason else None,
                "currency": cur, "status": inv.status, "reasons": inv.reasons, "budget": inv.budget,
                "warnings": [d["reason"] for d in inv.budget if d.get("warning")],
                "net_total": amount(inv.net_total, cur), "tax_total": amount(inv.tax_total, cur),
                "gross_total": amount(inv.gross_total, cur),
                "settled": amount(inv.settled, cur), "approved_by": inv.approved_by,
                "lines": [{"line_no": ln.line_no, "po_line_no": ln.po_line_no, "item_code": ln.item_code,
                           "description": ln.description, "quantity": format(Decimal(ln.quantity).normalize(), "f"),
                           "unit_price": money.format_price(ln.unit_price, cur), "tax_code": ln.tax_code,
                           "net": amount(ln.net, cur), "tax": amount(ln.tax, cur),
                           "grni_cleared": amount(ln.grni_cleared, cur),
                           "price_variance": amount(ln.price_variance, cur), "cost_centre": ln.cost_centre,
                           "budget_item": ln.budget_item, "expense_category": ln.expense_category} for ln in lines]}

    async def _inv(inv_id: str, principal: Principal) -> SupplierInvoice:
        async with db.sessions() as s:
            return await get_owned(s, SupplierInvoice, inv_id, principal, "supplier invoice")

    @r.post("/supplier-invoices", status_code=201, tags=["invoices"],
            summary="Record a supplier invoice: stock invoices are three-way matched, expense invoices budget-checked; a mismatch is held with every reason")
    async def post_invoice(body: SupplierInvoiceIn, request: Request, response: Response,
                           principal: Principal = Depends(write)) -> dict:
        principal.require_company(body.company_id)
        try:
            if body.kind == "stock":
                if not body.purchase_order or not body.stock_lines or body.expense_lines:
                    raise Unprocessable("a stock invoice names its purchase_order and has stock_lines only")
                async with db.transaction() as s:
                    inv = await inv_svc.record_stock_invoice(
                        s, company=body.company_id, supplier_code=body.supplier_code,
                        supplier_invoice_number=body.supplier_invoice_number, invoice_date=body.invoice_date,
                        purchase_order=body.purchase_order, tol=tol, stated_gross=body.stated_gross,
                        payment_terms=body.payment_terms, lines=[InvoiceLine(ln.item_code, ln.quantity, ln.unit_price, ln.tax_code)
                               for ln in body.stock_lines])
            else:
                if not body.expense_lines or body.stock_lines or body.purchase_order:
                    raise Unprocessable("an expense invoice has expense_lines only")
                inv = await inv_svc.record_expense(
                    db, budget, kind="expense", company=body.company_id, supplier_code=body.supplier_code,
                    supplier_invoice_number=body.supplier_invoice_number, invoice_date=body.invoice_date,
                    lines=[inv_svc.ExpenseLine(**ln.model_dump()) for ln in body.expense_lines],
                    token=bearer(request), payment_terms=body.payment_terms)
        except inv_svc.DuplicateInvoice as exc:
            raise Conflict(str(exc), type_="duplicate-supplier-invoice") from exc
        except IntegrityError:
            raise Conflict(f"supplier {body.supplier_code} invoice {body.supplier_invoice_number} is already recorded",
                           type_="duplicate-supplier-invoice") from None
        except (inv_svc.InvoiceError, TermsError) as exc:
            raise Unprocessable(str(exc)) from exc
        response.headers["Location"] = f"/v1/supplier-invoices/{inv.id}"
        return await invoice_json(inv.id)

    @r.get("/supplier-invoices", tags=["invoices"], summary="Supplier invoices and claims of a company")
    async def list_invoices(company: str, status: str | None = None, principal: Principal = Depends(read)) -> list[dict]:
        principal.require_company(company)
        async with db.sessions() as s:
            q = sa.select(SupplierInvoice.id).where(SupplierInvoice.company_id == company)
            if status:
                q = q.where(SupplierInvoice.status == status)
            ids = (await s.execute(q.order_by(SupplierInvoice.number).limit(500))).scalars().all()
        return [await invoice_json(i) for i in ids]

    @r.get("/supplier-invoices/{inv_id}", tags=["invoices"], summary="A supplier invoice with its match and budget")
    async def get_invoice(inv_id: str, principal: Principal = Depends(read)) -> dict:
        await _inv(inv_id, principal)
        return await invoice_json(inv_id)

    @r.post("/supplier-invoices/{inv_id}/rematch", tags=["invoices"],
            summary="Match a held invoice again (stock: after goods arrived; expense: ask the budget again)")
    async def post_rematch(inv_id: str, request: Request, principal: Principal = Depends(write)) -> dict:
        inv = await _inv(inv_id, principal)
        try:
            if inv.kind == "stock":
                async with db.transaction() as s:
                    await inv_svc.rematch(s, await s.get(SupplierInvoice, inv_id), tol)
            else:
                await inv_svc.recheck_budget(db, budget, inv, bearer(request))
        except inv_svc.InvoiceError as exc:
            raise Unprocessable(str(exc)) from exc
        return await invoice_json(inv_id)

    async def _approve(inv_id: str, request: Request, principal: Principal) -> dict:
        inv = await _inv(inv_id, principal)
        try:
            await inv_svc.approve(db, budget, inv, approved_by=principal.subject, token=bearer(request))
        except inv_svc.InvoiceError as exc:
            raise Unprocessable(str(exc)) from exc
        return await invoice_json(inv_id)

    @r.post("/supplier-invoices/{inv_id}/approve", tags=["invoices"],
            summary="Approve a matched invoice: budget committed, InvoiceApproved published (the GL posts it)")
    async def post_approve(inv_id: str, request: Request, principal: Principal = Depends(write)) -> dict:
        return await _approve(inv_id, request, principal)

    @r.post("/supplier-invoices/{inv_id}/reject", tags=["invoices"], summary="Reject an invoice not yet approved")
    async def post_reject(inv_id: str, request: Request, principal: Principal = Depends(write)) -> dict:
        inv = await _inv(inv_id, principal)
        try:
            await inv_svc.reject(db, budget, inv, bearer(request))
        except inv_svc.InvoiceError as exc:
            raise Unprocessable(str(exc)) from exc
        return await invoice_json(inv_id)

    @r.post("/supplier-invoices/{inv_id}/payment-hold", tags=["invoices"],
            summary="Put an invoice on payment hold, with a reason: no payment run proposes or pays it (it leaves a proposed run)")
    async def post_hold(inv_id: str, body: HoldIn, principal: Principal = Depends(write)) -> dict:
        await _inv(inv_id, principal)
        try:
            async with db.transaction() as s:
                inv = await s.get(SupplierInvoice, inv_id)
                await s.refresh(inv, with_for_update=True)
                left = await pay_svc.hold(s, inv, reason=body.reason, by=principal.subject)
        except pay_svc.PaymentError as exc:
            raise Unprocessable(str(exc)) from exc
        return {**await invoice_json(inv_id), "removed_from_runs": left}

    @r.delete("/supplier-invoices/{inv_id}/payment-hold", tags=["invoices"],
              summary="Release an invoice's payment hold: payment runs may propose it again")
    async def delete_hold(inv_id: str, principal: Principal = Depends(write)) -> dict:
        await _inv(inv_id, principal)
        try:
            async with db.transaction() as s:
                await pay_svc.release_hold(s, await s.get(SupplierInvoice, inv_id))
        except pay_svc.PaymentError as exc:
            raise Unprocessable(str(exc)) from exc
        return await invoice_json(inv_id)

    @r.post("/expense-claims", status_code=201, tags=["expense claims"],
            summary="An employee's expense claim: budget checked per cost centre and item (refused over a block line, warned over a warn line)")
    async def post_claim(body: ExpenseClaimIn, request: Request, response: Response,
                         principal: Principal = Depends(write)) -> dict:
        principal.require_company(body.company_id)
        try:
            inv = await inv_svc.record_expense(
                db, budget, kind="expense_claim", company=body.company_id, supplier_code=body.employee_code,
                supplier_invoice_number=body.claim_number, invoice_date=body.claim_date,
                lines=[inv_svc.ExpenseLine(**ln.model_dump()) for ln in body.lines], token=bearer(request))
        except inv_svc.DuplicateInvoice as exc:
            raise Conflict(str(exc), type_="duplicate-expense-claim") from exc
        except (inv_svc.InvoiceError, TermsError) as exc:
            raise Unprocessable(str(exc)) from exc
        response.headers["Location"] = f"/v1/supplier-invoices/{inv.id}"
        return await invoice_json(inv.id)

    @r.post("/expense-claims/{inv_id}/approve", tags=["expense claims"],
            summary="Approve a claim: budget committed; it becomes a payable to the employee")
    async def post_claim_approve(inv_id: str, request: Request, principal: Principal = Depends(write)) -> dict:
        return await _approve(inv_id, request, principal)

    # --- payments ---------------------------------------------------------------------
    async def run_json(run_id: str) -> dict:
        async with db.sessions() as s:
            run = await s.get(PaymentRun, run_id)
            items = (await s.execute(sa.select(PaymentRunItem, SupplierInvoice.number, SupplierInvoice.due_date,
                                               SupplierInvoice.supplier_invoice_number)
                                     .join(SupplierInvoice, SupplierInvoice.id == PaymentRunItem.invoice_id)
                                     .where(PaymentRunItem.run_id == run_id)
                                     .order_by(PaymentRunItem.supplier_code, SupplierInvoice.number))).all()
            pays = (await s.execute(sa.select(Payment).where(Payment.run_id == run_id)
                                    .order_by(Payment.number))).scalars().all()
        return {"id": run.id, "number": run.number, "company_id": run.company_id, "status": run.status,
                "payment_date": run.payment_date.isoformat(), "due_by": run.due_by.isoformat(),
                "bank_account": run.bank_account, "currency": run.currency, "total": money.format_amount(run.total, run.currency),
                "transfers": run.transfers, "filters": run.filters,
                "proposed_by": run.proposed_by, "approved_by": run.approved_by, "cancelled_by": run.cancelled_by,
                "items": [{"invoice_id": i.invoice_id, "invoice": n, "supplier_invoice_number": si,
                           "due_date": d.isoformat(), "supplier_code": i.supplier_code, "amount": money.format_amount(i.amount, run.currency),
                           "discount": money.format_amount(i.discount, run.currency)} for i, n, d, si in items],
                "payments": [{"id": p.id, "number": p.number, "supplier_code": p.supplier_code,
                              "amount": money.format_amount(p.amount, run.currency)} for p in pays]}

    async def _run(run_id: str, principal: Principal) -> PaymentRun:
        async with db.sessions() as s:
            return await get_owned(s, PaymentRun, run_id, principal, "payment run")

    @r.post("/payment-runs", status_code=201, tags=["payments"],
            summary="Propose a payment run: approved invoices not on hold, due by the date (or earlier where an early-payment discount is still open), of the suppliers and currency asked for")
    async def post_run(body: PaymentRunIn, principal: Principal = Depends(write)) -> dict:
        principal.require_company(body.company_id)
        selection = pay_svc.Selection(
            payment_date=body.payment_date, due_by=body.due_by or body.payment_date, bank_account=body.bank_account or "",
            currency=body.currency or "", suppliers=tuple(dict.fromkeys(body.suppliers)),
            take_discounts=body.take_discounts)
        try:
            async with db.transaction() as s:
                run = await pay_svc.propose(s, company=body.company_id, selection=selection,
                                            proposed_by=principal.subject, transfers=body.transfers)
        except pay_svc.PaymentError as exc:
            raise Unprocessable(str(exc)) from exc
        return await run_json(run.id)

    @r.get("/payment-runs/{run_id}", tags=["payments"], summary="A payment run")
    async def get_run(run_id: str, principal: Principal = Depends(read)) -> dict:
        await _run(run_id, principal)
        return await run_json(run_id)

    async def _transition(run_id: str, principal: Principal, fn) -> dict:
        await _run(run_id, principal)
        try:
            async with db.transaction() as s:
                run = await s.get(PaymentRun, run_id)
                await s.refresh(run, with_for_update=True)
                await fn(s, run)
        except pay_svc.PaymentError as exc:
            raise Unprocessable(str(exc)) from exc
        except LookupError as exc:
            raise NotFound(str(exc)) from exc
        return await run_json(run_id)

    @r.post("/payment-runs/{run_id}/approve", tags=["payments"],
            summary="Approve a proposed run (by someone other than its proposer unless AP_SEGREGATE_DUTIES=false)")
    async def post_run_approve(run_id: str, principal: Principal = Depends(write)) -> dict:
        return await _transition(run_id, principal, lambda s, run: pay_svc.approve_run(
            s, run, principal.subject, segregate_duties=segregate_duties))

    @r.post("/payment-runs/{run_id}/items", tags=["payments"],
            summary="Add an approved, unpaid invoice (not on hold, in no other open run) to a proposed run")
    async def post_run_item(run_id: str, body: RunItemIn, principal: Principal = Depends(write)) -> dict:
        await _inv(body.invoice_id, principal)

        async def add(s, run):
            return await pay_svc.add_item(s, run, await s.get(SupplierInvoice, body.invoice_id))

        return await _transition(run_id, principal, add)

    @r.delete("/payment-runs/{run_id}/items/{invoice_id}", tags=["payments"],
              summary="Take an invoice out of a proposed run (it can be proposed again)")
    async def delete_run_item(run_id: str, invoice_id: str, principal: Principal = Depends(write)) -> dict:
        return await _transition(run_id, principal, lambda s, run: pay_svc.remove_item(s, run, invoice_id))

    @r.post("/payment-runs/{run_id}/cancel", tags=["payments"],
            summary="Cancel a proposed or approved run before execution: its invoices can be proposed again")
    async def post_run_cancel(run_id: str, principal: Principal = Depends(write)) -> dict:
        return await _transition(run_id, principal, lambda s, run: pay_svc.cancel_run(s, run, principal.subject))

    @r.post("/payment-runs/{run_id}/execute", tags=["payments"],
            summary="Execute an approved run: one payment per transfer (supplier or invoice, as the run says), each published as PaymentMade")
    async def post_run_execute(run_id: str, principal: Principal = Depends(write)) -> dict:
        return await _transition(run_id, principal, pay_svc.execute)

    @r.get("/payment-runs/{run_id}/pain.001", tags=["payments"], response_class=Response,
           summary="The run's bank file: ISO 20022 pain.001.001.09, validated against its XSD",
           responses={200: {"content": {"application/xml": {}}}})
    async def get_pain(run_id: str, principal: Principal = Depends(read)) -> Response:
        await _run(run_id, principal)
        try:
            async with db.sessions() as s:
                xml = await pay_svc.pain001(s, await s.get(PaymentRun, run_id))
        except pay_svc.PaymentError as exc:
            raise Unprocessable(str(exc)) from exc
        return Response(xml, media_type="application/xml",
                        headers={"Content-Disposition": f'attachment; filename="{run_id}.pain.001.xml"'})

    @r.get("/ageing", tags=["payments"], summary="Open payables by days past due, as of a date")
    async def get_ageing(company: str, as_of: Date, buckets: str = "30,60,90",
                         principal: Principal = Depends(read)) -> dict:
        principal.require_company(company)
        try:
            b = tuple(int(x) for x in buckets.split(","))
        except ValueError:
            raise Unprocessable("buckets are increasing day counts, e.g. 30,60,90") from None
        if not b or list(b) != sorted(set(b)) or b[0] <= 0:
            raise Unprocessable("buckets are increasing day counts, e.g. 30,60,90")
        async with db.sessions() as s:
            return await pay_svc.ageing(s, company, as_of, b)

    return r
