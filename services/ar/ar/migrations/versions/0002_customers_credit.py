"""Customers with credit limits and policies, credit reservations of open sales orders.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Amount = sa.Numeric(20, 4)


def upgrade() -> None:
    op.create_table(
        "customer",
        sa.Column("company_id", sa.String(40), primary_key=True),
        sa.Column("code", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("customer_group", sa.String(40), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("payment_terms_days", sa.Integer, nullable=False),
        sa.Column("credit_limit", Amount, nullable=False),
        sa.Column("credit_policy", sa.String(10), nullable=False),  # block | warn
        sa.Column("intercompany_partner", sa.String(40), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "credit_reservation",
        sa.Column("company_id", sa.String(40), primary_key=True),
        sa.Column("order_ref", sa.String(80), primary_key=True),
        sa.Column("customer_code", sa.String(40), nullable=False),
        sa.Column("amount", Amount, nullable=False),  # what is still reserved
        sa.Column("status", sa.String(10), nullable=False),  # reserved | released | consumed
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_reservation_customer", "credit_reservation", ["company_id", "customer_code", "status"])
    op.create_table(
        "sales_order",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("company_id", sa.String(40), nullable=False),
        sa.Column("crm_order_id", sa.String(80), nullable=False),
        sa.Column("customer_code", sa.String(40), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("order_date", sa.Date, nullable=False),
        sa.Column("amount", Amount, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),  # accepted | refused
        sa.Column("decision", sa.JSON, nullable=False),
        sa.Column("lines", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("company_id", "crm_order_id", name="uq_sales_order_crm"),
    )


def downgrade() -> None:
    op.drop_table("sales_order")
    op.drop_table("credit_reservation")
    op.drop_table("customer")
