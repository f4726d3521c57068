"""The ledger's exchange rates (a copy, from the GL's ExchangeRatesSet events) and what a credit
reservation was converted from: reservations are kept in the customer's limit currency.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op
from fincore.rates import create_rate_table

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_rate_table(op)
    with op.batch_alter_table("credit_reservation") as t:
        t.add_column(sa.Column("original_amount", sa.Numeric(20, 4), nullable=True))
        t.add_column(sa.Column("original_currency", sa.String(3), nullable=True))
        t.add_column(sa.Column("rate", sa.Numeric(20, 10), nullable=True))
        t.add_column(sa.Column("rate_date", sa.Date, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("credit_reservation") as t:
        for c in ("rate_date", "rate", "original_currency", "original_amount"):
            t.drop_column(c)
    op.drop_table("ledger_rate")
