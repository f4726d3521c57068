"""AP tables: suppliers, the company's paying bank accounts, requisitions, purchase orders and
what was received on them, supplier invoices (stock, expense, employee expense claims) with
their match results, payment runs and payments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from fincore.tables import BigId
from sqlmodel import Field, SQLModel

Amount = sa.Numeric(20, 4)
Qty = sa.Numeric(20, 6)


def _s(n: int, **kw) -> sa.Column:
    return sa.Column(sa.String(n), nullable=False, **kw)


def _ts() -> sa.Column:
    return sa.Column(sa.DateTime(timezone=True), nullable=False)


class Supplier(SQLModel, table=True):
    __tablename__ = "supplier"

    company_id: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    code: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    name: str = Field(sa_column=_s(200))
    supplier_group: str = Field(sa_column=_s(40))  # EMPLOYEE for expense claimants
    currency: str = Field(sa_column=_s(3))
    payment_terms: str = Field(sa_column=_s(30))
    iban: str = Field(sa_column=_s(34))
    bic: str = Field(sa_column=_s(11))
    intercompany_partner: str = Field(sa_column=_s(40))
    updated_at: dt.datetime = Field(sa_column=_ts())


class BankAccount(SQLModel, table=True):
    """An account of the company that pays (the debtor of a pain.001 file)."""

    __tablename__ = "bank_account"

    company_id: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    code: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    name: str = Field(sa_column=_s(200))
    iban: str = Field(sa_column=_s(34))
    bic: str = Field(sa_column=_s(11))
    currency: str = Field(sa_column=_s(3))


class Requisition(SQLModel, table=True):
    __tablename__ = "requisition"
    __table_args__ = (sa.UniqueConstraint("company_id", "number", name="uq_requisition_number"),
                      sa.UniqueConstraint("company_id", "idempotency_key", name="uq_requisition_idempotency"))

    id: str = Field(sa_column=sa.Column(sa.String(36), primary_key=True))
    company_id: str = Field(sa_column=_s(40))
    number: str = Field(sa_column=_s(40))
    requested_by: str = Field(sa_column=_s(100))
    request_date: dt.date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    currency: str = Field(sa_column=_s(3))
    status: str = Field(sa_column=_s(12))  # approved | ordered | cancelled
    net_total: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    budget: list = Field(sa_column=sa.Column(sa.JSON, nullable=False))  # the decisions, per budget line
    lines: list = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    idempotency_key: str | None = Field(default=None, sa_column=sa.Column(sa.String(100), nullable=True))
    created_at: dt.datetime = Field(sa_column=_ts())


class PurchaseOrder(SQLModel, table=True):
    __tablename__ = "purchase_order"
    __table_args__ = (sa.UniqueConstraint("company_id", "number", name="uq_po_number"),)

    id: str = Field(sa_column=sa.Column(sa.String(36), primary_key=True))
    company_id: str = Field(sa_column=_s(40))
    number: str = Field(sa_column=_s(40))
    supplier_code: str = Field(sa_column=_s(40))
    requisition_id: str = Field(sa_column=_s(36))
    order_date: dt.date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    # when the goods are expected in (the cash-flow forecast pays what is not received yet
    # the supplier's net days after it)
    expected_receipt_date: dt.date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    currency: str = Field(sa_column=_s(3))
    status: str = Field(sa_column=_s(12))  # open | closed | cancelled
    created_at: dt.datetime = Field(sa_column=_ts())


class OrderLine(SQLModel, table=True):
    __tablename__ = "po_line"

    po_id: str = Field(sa_column=sa.Column(sa.String(36), sa.ForeignKey("purchase_order.id"), primary_key=True))
    line_no: int = Field(sa_column=sa.Column(sa.Integer, primary_key=True))
    item_code: str = Field(sa_column=_s(40))
    description: str = Field(sa_column=_s(300))
    quantity: Decimal = Field(sa_column=sa.Column(Qty, nullable=False))
    unit_price: Decimal = Field(sa_column=sa.Column(sa.Numeric(20, 6), nullable=False))
    tax_code: str = Field(sa_column=_s(12))
    cost_centre: str = Field(sa_column=_s(40))
    budget_item: str = Field(sa_column=_s(40))
    budget_ref: str = Field(sa_column=_s(120))  # the requisition's reservation this line spends
    received_qty: Decimal = Field(sa_column=sa.Column(Qty, nullable=False))
    received_value: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))


class GoodsReceipt(SQLModel, table=True):
    """A goods receipt (inventory's GoodsReceived) on one of our purchase orders."""

    __tablename__ = "goods_receipt"

    movement_id: str = Field(sa_column=sa.Column(sa.String(36), primary_key=True))
    company_id: str = Field(sa_column=_s(40))
    po_id: str = Field(sa_column=_s(36))
    document_number: str = Field(sa_column=_s(80))
    received_on: dt.date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    lines: list = Field(sa_column=sa.Column(sa.JSON, nullable=False))


class SupplierInvoice(SQLModel, table=True):
    __tablename__ = "supplier_invoice"
    __table_args__ = (
        sa.UniqueConstraint("company_id", "number", name="uq_supplier_invoice_number"),
        sa.UniqueConstraint("company_id", "supplier_code", "supplier_invoice_number", name="uq_supplier_invoice_ref"),
        sa.Index("ix_supplier_invoice_open", "company_id", "status", "due_date"),
        sa.Index("ix_supplier_invoice_po", "po_id"),
    )

    id: str = Field(sa_column=sa.Column(sa.String(36), primary_key=True))
    company_id: str = Field(sa_column=_s(40))
    number: str = Field(sa_column=_s(40))
    kind: str = Field(sa_column=_s(14))  # stock | expense | expense_claim
    supplier_code: str = Field(sa_column=_s(40))
    supplier_invoice_number: str = Field(sa_column=_s(80))
    invoice_date: dt.date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    due_date: dt.date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    discount_date: dt.date | None = Field(default=None, sa_column=sa.Column(sa.Date, nullable=True))
    discount_pct: Decimal = Field(sa_column=sa.Column(sa.Numeric(7, 3), nullable=False))
    # the invoice's own terms (the supplier's unless the invoice says otherwise): due date and
    # discount above come from these, and a payment run takes the discount they give
    payment_terms: str = Field(default="", sa_column=sa.Column(sa.String(30), nullable=False, server_default=""))
    currency: str = Field(sa_column=_s(3))
    po_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(36), nullable=True))
    net_total: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    tax_total: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    gross_total: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    # held (reasons) -> matched -> approved -> paid; submitted (claims); rejected
    status: str = Field(sa_column=_s(10))
    reasons: list = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    budget: list = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    settled: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))  # paid + discounts taken
    approved_by: str | None = Field(default=None, sa_column=sa.Column(sa.String(100), nullable=True))
    approved_at: dt.datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True)))
    # on payment hold (no payment run proposes or pays it) while a reason is set
    payment_hold_reason: str | None = Field(default=None, sa_column=sa.Column(sa.String(300), nullable=True))
    payment_hold_by: str | None = Field(default=None, sa_column=sa.Column(sa.String(100), nullable=True))
    payment_hold_at: dt.datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True)))
    created_at: dt.datetime = Field(sa_column=_ts())


class SupplierInvoiceLine(SQLModel, table=True):
    __tablename__ = "supplier_invoice_line"

    invoice_id: str = Field(sa_column=sa.Column(sa.String(36), sa.ForeignKey("supplier_invoice.id"),
                                                primary_key=True))
    line_no: int = Field(sa_column=sa.Column(sa.Integer, primary_key=True))
    po_line_no: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, nullable=True))
    item_code: str = Field(sa_column=_s(40))
    description: str = Field(sa_column=_s(300))
    quantity: Decimal = Field(sa_column=sa.Column(Qty, nullable=False))
    unit_price: Decimal = Field(sa_column=sa.Column(sa.Numeric(20, 6), nullable=False))
    tax_code: str = Field(sa_column=_s(12))
    net: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    tax: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    grni_cleared: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    price_variance: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    cost_centre: str = Field(sa_column=_s(40))
    budget_item: str = Field(sa_column=_s(40))
    expense_category: str = Field(sa_column=_s(40))
    budget_ref: str = Field(sa_column=_s(120))


class PaymentRun(SQLModel, table=True):
    __tablename__ = "payment_run"
    __table_args__ = (sa.UniqueConstraint("company_id", "number", name="uq_payment_run_number"),)

    id: str = Field(sa_column=sa.Column(sa.String(36), primary_key=True))
    company_id: str = Field(sa_column=_s(40))
    number: str = Field(sa_column=_s(40))
    payment_date: dt.date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    due_by: dt.date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    bank_account: str = Field(sa_column=_s(40))
    currency: str = Field(sa_column=_s(3))
    status: str = Field(sa_column=_s(10))  # proposed | approved | executed | cancelled
    total: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    # what the proposal selected by: suppliers, due_by, take_discounts (items may be changed after)
    filters: dict | None = Field(default=None, sa_column=sa.Column(sa.JSON, nullable=True))
    # one bank transfer (and PaymentMade) per "supplier" or per "invoice"
    transfers: str = Field(default="supplier", sa_column=sa.Column(sa.String(10), nullable=False,
                                                                    server_default="supplier"))
    proposed_by: str = Field(sa_column=_s(100))
    approved_by: str | None = Field(default=None, sa_column=sa.Column(sa.String(100), nullable=True))
    executed_at: dt.datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True)))
    cancelled_by: str | None = Field(default=None, sa_column=sa.Column(sa.String(100), nullable=True))
    cancelled_at: dt.datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True)))
    created_at: dt.datetime = Field(sa_column=_ts())


class PaymentRunItem(SQLModel, table=True):
    __tablename__ = "payment_run_item"

    run_id: str = Field(sa_column=sa.Column(sa.String(36), sa.ForeignKey("payment_run.id"), primary_key=True))
    invoice_id: str = Field(sa_column=sa.Column(sa.String(36), primary_key=True))
    supplier_code: str = Field(sa_column=_s(40))
    amount: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))  # cash paid
    discount: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))


class Payment(SQLModel, table=True):
    __tablename__ = "payment"
    __table_args__ = (sa.UniqueConstraint("company_id", "number", name="uq_payment_number"),)

    id: str = Field(sa_column=sa.Column(sa.String(36), primary_key=True))
    company_id: str = Field(sa_column=_s(40))
    number: str = Field(sa_column=_s(40))
    run_id: str = Field(sa_column=_s(36))
    supplier_code: str = Field(sa_column=_s(40))
    paid_on: dt.date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    amount: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    created_at: dt.datetime = Field(sa_column=_ts())


class PaymentApplication(SQLModel, table=True):
    __tablename__ = "payment_application"

    id: int | None = Field(default=None, sa_column=sa.Column(BigId, primary_key=True, autoincrement=True))
    payment_id: str = Field(sa_column=sa.Column(sa.String(36), sa.ForeignKey("payment.id"), nullable=False,
                                                index=True))
    invoice_id: str = Field(sa_column=sa.Column(sa.String(36), nullable=False, index=True))
    paid_on: dt.date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    amount: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    discount: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
