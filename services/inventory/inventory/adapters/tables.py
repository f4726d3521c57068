from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from fincore.tables import BigId
from sqlmodel import Field, SQLModel

Amount = sa.Numeric(20, 4)
Qty = sa.Numeric(20, 6)


class Item(SQLModel, table=True):
    __tablename__ = "item"

    company_id: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    code: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    category: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    unit: str = Field(sa_column=sa.Column(sa.String(12), nullable=False))
    costing_method: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    currency: str = Field(sa_column=sa.Column(sa.String(3), nullable=False))


class Warehouse(SQLModel, table=True):
    __tablename__ = "warehouse"

    company_id: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    code: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))


class MovementDoc(SQLModel, table=True):
    __tablename__ = "movement_doc"
    __table_args__ = (sa.UniqueConstraint("company_id", "idempotency_key", name="uq_doc_idempotency"),
                      sa.UniqueConstraint("company_id", "number", name="uq_doc_number"))

    id: str = Field(sa_column=sa.Column(sa.String(36), primary_key=True))
    company_id: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    number: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    kind: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    movement_date: dt.date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    warehouse: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    partner: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    reference: str = Field(sa_column=sa.Column(sa.String(80), nullable=False))
    idempotency_key: str | None = Field(default=None, sa_column=sa.Column(sa.String(100), nullable=True))
    request_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    created_at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))


class Movement(SQLModel, table=True):
    __tablename__ = "movement"
    __table_args__ = (sa.Index("ix_movement_stock", "company_id", "item_code", "warehouse", "movement_date", "seq"),)

    id: str = Field(sa_column=sa.Column(sa.String(36), primary_key=True))
    seq: int | None = Field(default=None, sa_column=sa.Column(BigId, nullable=False, unique=True))
    doc_id: str = Field(sa_column=sa.Column(sa.String(36), sa.ForeignKey("movement_doc.id"), nullable=False))
    line_no: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    company_id: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    item_code: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    warehouse: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    movement_date: dt.date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    kind: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    quantity: Decimal = Field(sa_column=sa.Column(Qty, nullable=False))
    unit_cost_in: Decimal | None = Field(default=None, sa_column=sa.Column(sa.Numeric(28, 10), nullable=True))
    returns_movement_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(36), nullable=True))
    # The movement's cost as costed now, and as published to the ledger so far.
    cost: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    published_cost: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))


class StockState(SQLModel, table=True):
    """Running state per item and warehouse after its latest movement (the append fast path)."""

    __tablename__ = "stock_state"

    company_id: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    item_code: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    warehouse: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    last_date: dt.date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    snapshot: dict = Field(sa_column=sa.Column(sa.JSON, nullable=False))
