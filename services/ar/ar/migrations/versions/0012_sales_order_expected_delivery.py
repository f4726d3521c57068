"""Sales orders carry the date their goods are expected to ship (and so to be invoiced): the
cash-flow forecast dates what is not invoiced yet from it. Orders received before had none:
they take their order date, the date the forecast used for them until now.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sales_order") as b:
        b.add_column(sa.Column("expected_delivery_date", sa.Date(), nullable=True))
    op.execute("UPDATE sales_order SET expected_delivery_date = order_date")
    with op.batch_alter_table("sales_order") as b:
        b.alter_column("expected_delivery_date", existing_type=sa.Date(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("sales_order") as b:
        b.drop_column("expected_delivery_date")
