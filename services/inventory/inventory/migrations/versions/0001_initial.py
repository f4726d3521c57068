"""Inventory initial schema: items, warehouses, movement documents and movements, stock state.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op
from fincore.sequences import create_sequence_table
from fincore.tables import create_platform_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Amount = sa.Numeric(20, 4)


def upgrade() -> None:
    create_platform_tables(op)
    create_sequence_table(op)
    op.create_table(
        "item",
        sa.Column("company_id", sa.String(40), primary_key=True),
        sa.Column("code", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("unit", sa.String(12), nullable=False),
        sa.Column("costing_method", sa.String(20), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
    )
    op.create_table(
        "warehouse",
        sa.Column("company_id", sa.String(40), primary_key=True),
        sa.Column("code", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
    )
    op.create_table(
        "movement_doc",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("company_id", sa.String(40), nullable=False),
        sa.Column("number", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("movement_date", sa.Date, nullable=False),
        sa.Column("warehouse", sa.String(40), nullable=False),
        sa.Column("partner", sa.String(40), nullable=False),
        sa.Column("reference", sa.String(80), nullable=False),
        sa.Column("idempotency_key", sa.String(100), nullable=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("company_id", "idempotency_key", name="uq_doc_idempotency"),
        sa.UniqueConstraint("company_id", "number", name="uq_doc_number"),
    )
    op.create_table(
        "movement",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False, unique=True),
        sa.Column("doc_id", sa.String(36), sa.ForeignKey("movement_doc.id"), nullable=False),
        sa.Column("line_no", sa.Integer, nullable=False),
        sa.Column("company_id", sa.String(40), nullable=False),
        sa.Column("item_code", sa.String(40), nullable=False),
        sa.Column("warehouse", sa.String(40), nullable=False),
        sa.Column("movement_date", sa.Date, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("quantity", sa.Numeric(20, 6), nullable=False),
        sa.Column("unit_cost_in", sa.Numeric(28, 10), nullable=True),
        sa.Column("returns_movement_id", sa.String(36), nullable=True),
        sa.Column("cost", Amount, nullable=False),
        sa.Column("published_cost", Amount, nullable=False),
    )
    op.create_index("ix_movement_stock", "movement", ["company_id", "item_code", "warehouse", "movement_date", "seq"])
    op.create_table(
        "stock_state",
        sa.Column("company_id", sa.String(40), primary_key=True),
        sa.Column("item_code", sa.String(40), primary_key=True),
        sa.Column("warehouse", sa.String(40), primary_key=True),
        sa.Column("last_date", sa.Date, nullable=False),
        sa.Column("snapshot", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    for t in ("stock_state", "movement", "movement_doc", "warehouse", "item"):
        op.drop_table(t)
