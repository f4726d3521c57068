from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from fincore.rates import ConvertedFrom
from fincore.tables import BigId
from sqlmodel import Field, SQLModel

Amount = sa.Numeric(20, 4)


class Invoice(SQLModel, table=True):
    __tablename__ = "invoice"
    __table_args__ = (
        sa.UniqueConstraint("company_id", "number", name="uq_invoice_number"),
        sa.UniqueConstraint("company_id", "idempotency_key", name="uq_invoice_idempotency"),
        sa.Index("ix_invoice_company_customer", "company_id", "customer_code"),
    )

    id: str = Field(sa_column=sa.Column(sa.String(36), primary_key=True))
    company_id: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    number: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    customer_code: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    customer_group: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    currency: str = Field(sa_column=sa.Column(sa.String(3), nullable=False))
    issue_date: dt.date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    due_date: dt.date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    net_total: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    tax_total: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    gross_total: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    status: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    paid_amount: Decimal = Field(default=Decimal(0), sa_column=sa.Column(Amount, nullable=False, server_default="0"))
    sales_order_ref: str = Field(sa_column=sa.Column(sa.String(80), nullable=False))
    idempotency_key: str | None = Field(default=None, sa_column=sa.Column(sa.String(100), nullable=True))
    request_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    dimensions: dict = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    created_at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))


class InvoiceLine(SQLModel, table=True):
    __tablename__ = "invoice_line"

    id: int | None = Field(default=None, sa_column=sa.Column(BigId, primary_key=True, autoincrement=True))
    invoice_id: str = Field(sa_column=sa.Column(sa.String(36), sa.ForeignKey("invoice.id"), nullable=False, index=True))
    line_no: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    item_code: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    item_category: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    description: str = Field(sa_column=sa.Column(sa.String(300), nullable=False))
    quantity: Decimal = Field(sa_column=sa.Column(sa.Numeric(20, 6), nullable=False))
    unit_price: Decimal = Field(sa_column=sa.Column(sa.Numeric(20, 6), nullable=False))
    discount: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    net: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    tax_code: str = Field(sa_column=sa.Column(sa.String(12), nullable=False))
    tax: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    dimensions: dict = Field(sa_column=sa.Column(sa.JSON, nullable=False))


class Customer(SQLModel, table=True):
    __tablename__ = "customer"

    company_id: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    code: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    customer_group: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    currency: str = Field(sa_column=sa.Column(sa.String(3), nullable=False))
    payment_terms_days: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    credit_limit: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    credit_policy: str = Field(sa_column=sa.Column(sa.String(10), nullable=False))
    intercompany_partner: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    updated_at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))


class CreditReservation(ConvertedFrom, table=True):
    """Credit held for an order, in the customer's limit currency (converted when the order was not)."""

    __tablename__ = "credit_reservation"

    company_id: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    order_ref: str = Field(sa_column=sa.Column(sa.String(80), primary_key=True))
    customer_code: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    amount: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    status: str = Field(sa_column=sa.Column(sa.String(10), nullable=False))
    created_at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))


class SalesOrder(SQLModel, table=True):
    __tablename__ = "sales_order"
    __table_args__ = (sa.UniqueConstraint("company_id", "crm_order_id", name="uq_sales_order_crm"),)

    id: str = Field(sa_column=sa.Column(sa.String(36), primary_key=True))
    company_id: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    crm_order_id: str = Field(sa_column=sa.Column(sa.String(80), nullable=False))
    customer_code: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    currency: str = Field(sa_column=sa.Column(sa.String(3), nullable=False))
    order_date: dt.date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    # when the goods are expected to ship, and so to be invoiced (AR invoices a shipment when
    # inventory issues it): the cash-flow forecast's date for what is not invoiced yet
    expected_delivery_date: dt.date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    amount: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    status: str = Field(sa_column=sa.Column(sa.String(12), nullable=False))
    decision: dict = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    lines: list = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    created_at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))


class Receipt(SQLModel, table=True):
    __tablename__ = "receipt"
    __table_args__ = (sa.UniqueConstraint("company_id", "number", name="uq_receipt_number"),
                      sa.UniqueConstraint("company_id", "idempotency_key", name="uq_receipt_idempotency"),
                      sa.Index("ix_receipt_company_customer", "company_id", "customer_code"))

    id: str = Field(sa_column=sa.Column(sa.String(36), primary_key=True))
    company_id: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    number: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    customer_code: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    receipt_date: dt.date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    currency: str = Field(sa_column=sa.Column(sa.String(3), nullable=False))
    amount: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    unapplied: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    bank_account: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    payment_method: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    idempotency_key: str | None = Field(default=None, sa_column=sa.Column(sa.String(100), nullable=True))
    created_at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))


class ReceiptApplication(SQLModel, table=True):
    __tablename__ = "receipt_application"

    id: int | None = Field(default=None, sa_column=sa.Column(BigId, primary_key=True, autoincrement=True))
    receipt_id: str = Field(sa_column=sa.Column(sa.String(36), sa.ForeignKey("receipt.id"), nullable=False))
    invoice_id: str = Field(sa_column=sa.Column(sa.String(36), sa.ForeignKey("invoice.id"), nullable=False))
    applied_on: dt.date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    amount: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))


class CreditMemo(SQLModel, table=True):
    __tablename__ = "credit_memo"
    __table_args__ = (sa.Index("ix_credit_memo_company_customer", "company_id", "customer_code"),)

    id: str = Field(sa_column=sa.Column(sa.String(36), primary_key=True))
    company_id: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    number: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    invoice_id: str = Field(sa_column=sa.Column(sa.String(36), sa.ForeignKey("invoice.id"), nullable=False))
    customer_code: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    memo_date: dt.date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    reason: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    currency: str = Field(sa_column=sa.Column(sa.String(3), nullable=False))
    net_total: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    tax_total: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    gross_total: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    applied: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    lines: list = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    source_ref: str | None = Field(default=None, sa_column=sa.Column(sa.String(100), nullable=True, unique=True))
    created_at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))


class Shipment(SQLModel, table=True):
    __tablename__ = "shipment"

    movement_id: str = Field(sa_column=sa.Column(sa.String(36), primary_key=True))
    company_id: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    order_ref: str = Field(sa_column=sa.Column(sa.String(80), nullable=False))
    document_number: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    shipped_on: dt.date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    kind: str = Field(sa_column=sa.Column(sa.String(10), nullable=False))
    invoice_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(36), nullable=True))
    credit_memo_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(36), nullable=True))


class BadDebtEntry(SQLModel, table=True):
    __tablename__ = "bad_debt_entry"

    id: str = Field(sa_column=sa.Column(sa.String(36), primary_key=True))
    company_id: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    number: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    kind: str = Field(sa_column=sa.Column(sa.String(12), nullable=False))
    entry_date: dt.date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    invoice_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(36), nullable=True))
    customer_code: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    amount: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    # provision: the ledger's functional currency; write-off: the invoice's
    currency: str = Field(default="CNY", sa_column=sa.Column(sa.String(3), nullable=False, server_default="CNY"))
    detail: dict = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    created_at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
