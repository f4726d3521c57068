"""AR initial schema: invoices and their lines; platform tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op
from fincore.sequences import create_sequence_table
from fincore.tables import BigId, create_platform_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Amount = sa.Numeric(20, 4)


def upgrade() -> None:
    create_platform_tables(op)
    create_sequence_table(op)
    op.create_table(
        "invoice",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("company_id", sa.String(40), nullable=False),
        sa.Column("number", sa.String(40), nullable=False),
        sa.Column("customer_code", sa.String(40), nullable=False),
        sa.Column("customer_group", sa.String(40), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("issue_date", sa.Date, nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("net_total", Amount, nullable=False),
        sa.Column("tax_total", Amount, nullable=False),
        sa.Column("gross_total", Amount, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("sales_order_ref", sa.String(80), nullable=False),
        sa.Column("idempotency_key", sa.String(100), nullable=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("dimensions", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("company_id", "number", name="uq_invoice_number"),
        sa.UniqueConstraint("company_id", "idempotency_key", name="uq_invoice_idempotency"),
    )
    op.create_index("ix_invoice_company_customer", "invoice", ["company_id", "customer_code"])
    op.create_table(
        "invoice_line",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("invoice_id", sa.String(36), sa.ForeignKey("invoice.id"), nullable=False),
        sa.Column("line_no", sa.Integer, nullable=False),
        sa.Column("item_code", sa.String(40), nullable=False),
        sa.Column("item_category", sa.String(40), nullable=False),
        sa.Column("description", sa.String(300), nullable=False),
        sa.Column("quantity", sa.Numeric(20, 6), nullable=False),
        sa.Column("unit_price", sa.Numeric(20, 6), nullable=False),
        sa.Column("discount", Amount, nullable=False),
        sa.Column("net", Amount, nullable=False),
        sa.Column("tax_code", sa.String(12), nullable=False),
        sa.Column("tax", Amount, nullable=False),
        sa.Column("dimensions", sa.JSON, nullable=False),
    )
    op.create_index("ix_invoice_line_invoice_id", "invoice_line", ["invoice_id"])


def downgrade() -> None:
    op.drop_table("invoice_line")
    op.drop_table("invoice")
