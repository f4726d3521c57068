"""The ledger's exchange rates (a copy, from the GL's ExchangeRatesSet events) and what a
reservation or commitment was converted from: both are kept in the budget line's currency.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op
from fincore.rates import create_rate_table

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ("budget_reservation", "budget_commitment")


def upgrade() -> None:
    create_rate_table(op)
    for table in TABLES:
        with op.batch_alter_table(table) as t:
            t.add_column(sa.Column("original_amount", sa.Numeric(20, 4), nullable=True))
            t.add_column(sa.Column("original_currency", sa.String(3), nullable=True))
            t.add_column(sa.Column("rate", sa.Numeric(20, 10), nullable=True))
            t.add_column(sa.Column("rate_date", sa.Date, nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as t:
            for c in ("rate_date", "rate", "original_currency", "original_amount"):
                t.drop_column(c)
    op.drop_table("ledger_rate")
