"""Purchase orders carry the date their goods are expected in: the cash-flow forecast dates
what is not received yet from it. Orders placed before had none: they take their order date,
the date the forecast used for them until now.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("purchase_order") as b:
        b.add_column(sa.Column("expected_receipt_date", sa.Date(), nullable=True))
    op.execute("UPDATE purchase_order SET expected_receipt_date = order_date")
    with op.batch_alter_table("purchase_order") as b:
        b.alter_column("expected_receipt_date", existing_type=sa.Date(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("purchase_order") as b:
        b.drop_column("expected_receipt_date")
