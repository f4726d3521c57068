"""Receipts and their applications to invoices; paid amounts on invoices.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Amount = sa.Numeric(20, 4)


def upgrade() -> None:
    with op.batch_alter_table("invoice") as b:
        b.add_column(sa.Column("paid_amount", Amount, nullable=False, server_default="0"))
    op.create_table(
        "receipt",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("company_id", sa.String(40), nullable=False),
        sa.Column("number", sa.String(40), nullable=False),
        sa.Column("customer_code", sa.String(40), nullable=False),
        sa.Column("receipt_date", sa.Date, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount", Amount, nullable=False),
        sa.Column("unapplied", Amount, nullable=False),
        sa.Column("bank_account", sa.String(40), nullable=False),
        sa.Column("payment_method", sa.String(20), nullable=False),
        sa.Column("idempotency_key", sa.String(100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("company_id", "number", name="uq_receipt_number"),
        sa.UniqueConstraint("company_id", "idempotency_key", name="uq_receipt_idempotency"),
    )
    op.create_table(
        "receipt_application",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("receipt_id", sa.String(36), sa.ForeignKey("receipt.id"), nullable=False),
        sa.Column("invoice_id", sa.String(36), sa.ForeignKey("invoice.id"), nullable=False),
        sa.Column("applied_on", sa.Date, nullable=False),
        sa.Column("amount", Amount, nullable=False),
    )
    op.create_index("ix_application_invoice", "receipt_application", ["invoice_id"])


def downgrade() -> None:
    op.drop_table("receipt_application")
    op.drop_table("receipt")
    with op.batch_alter_table("invoice") as b:
        b.drop_column("paid_amount")
