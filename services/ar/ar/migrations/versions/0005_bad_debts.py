"""Bad-debt provisions (by ageing) and write-offs.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

Amount = sa.Numeric(20, 4)


def upgrade() -> None:
    op.create_table(
        "bad_debt_entry",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("company_id", sa.String(40), nullable=False),
        sa.Column("number", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),  # provision | write_off
        sa.Column("entry_date", sa.Date, nullable=False),
        sa.Column("invoice_id", sa.String(36), nullable=True),
        sa.Column("customer_code", sa.String(40), nullable=False),
        sa.Column("amount", Amount, nullable=False),  # provision: change of the allowance; write-off: amount
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("company_id", "number", name="uq_bad_debt_number"),
    )


def downgrade() -> None:
    op.drop_table("bad_debt_entry")
