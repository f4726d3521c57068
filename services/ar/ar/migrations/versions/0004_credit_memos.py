"""Credit memos (returns, price adjustments, cancellations) and the shipments AR has billed.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Amount = sa.Numeric(20, 4)


def upgrade() -> None:
    op.create_table(
        "credit_memo",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("company_id", sa.String(40), nullable=False),
        sa.Column("number", sa.String(40), nullable=False),
        sa.Column("invoice_id", sa.String(36), sa.ForeignKey("invoice.id"), nullable=False),
        sa.Column("customer_code", sa.String(40), nullable=False),
        sa.Column("memo_date", sa.Date, nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("net_total", Amount, nullable=False),
        sa.Column("tax_total", Amount, nullable=False),
        sa.Column("gross_total", Amount, nullable=False),
        sa.Column("applied", Amount, nullable=False),
        sa.Column("lines", sa.JSON, nullable=False),
        sa.Column("source_ref", sa.String(100), nullable=True, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("company_id", "number", name="uq_credit_memo_number"),
    )
    op.create_table(
        "shipment",
        sa.Column("movement_id", sa.String(36), primary_key=True),
        sa.Column("company_id", sa.String(40), nullable=False),
        sa.Column("order_ref", sa.String(80), nullable=False),
        sa.Column("document_number", sa.String(40), nullable=False),
        sa.Column("shipped_on", sa.Date, nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),  # issue | return
        sa.Column("invoice_id", sa.String(36), nullable=True),
        sa.Column("credit_memo_id", sa.String(36), nullable=True),
    )
    op.create_index("ix_shipment_order", "shipment", ["company_id", "order_ref"])


def downgrade() -> None:
    op.drop_table("shipment")
    op.drop_table("credit_memo")
