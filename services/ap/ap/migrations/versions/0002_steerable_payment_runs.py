"""Payment runs an AP clerk can steer: terms per invoice (backfilled from the supplier), a
payment hold with its reason, a run's filters, transfer grouping and cancellation.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("supplier_invoice") as b:
        b.add_column(sa.Column("payment_terms", sa.String(length=30), nullable=False, server_default=""))
        b.add_column(sa.Column("payment_hold_reason", sa.String(length=300), nullable=True))
        b.add_column(sa.Column("payment_hold_by", sa.String(length=100), nullable=True))
        b.add_column(sa.Column("payment_hold_at", sa.DateTime(timezone=True), nullable=True))
    # invoices recorded before took their supplier's terms
    op.execute("UPDATE supplier_invoice SET payment_terms = (SELECT s.payment_terms FROM supplier s "
               "WHERE s.company_id = supplier_invoice.company_id AND s.code = supplier_invoice.supplier_code)")
    with op.batch_alter_table("payment_run") as b:
        b.add_column(sa.Column("filters", sa.JSON(), nullable=True))
        b.add_column(sa.Column("transfers", sa.String(length=10), nullable=False, server_default="supplier"))
        b.add_column(sa.Column("cancelled_by", sa.String(length=100), nullable=True))
        b.add_column(sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("payment_run") as b:
        for c in ("cancelled_at", "cancelled_by", "transfers", "filters"):
            b.drop_column(c)
    with op.batch_alter_table("supplier_invoice") as b:
        for c in ("payment_hold_at", "payment_hold_by", "payment_hold_reason", "payment_terms"):
            b.drop_column(c)
