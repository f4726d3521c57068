"""Cash-flow forecast: snapshots with their documents, budget items mapped to the forecast.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cash_forecast",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("company_id", sa.String(40), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("first_week", sa.Date(), nullable=False),
        sa.Column("opening", sa.JSON(), nullable=False),
        sa.Column("days_late", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_cash_forecast_company", "cash_forecast", ["company_id", "created_at"])
    op.create_table(
        "cash_forecast_line",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("forecast_id", sa.String(36), sa.ForeignKey("cash_forecast.id"), nullable=False),
        sa.Column("week", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("expected_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(20, 4), nullable=False),
        sa.Column("document_kind", sa.String(20), nullable=False),
        sa.Column("document_id", sa.String(120), nullable=False),
        sa.Column("number", sa.String(120), nullable=False),
        sa.Column("party", sa.String(40), nullable=False),
        sa.Column("basis", sa.String(300), nullable=False),
    )
    op.create_index("ix_cash_forecast_line_week", "cash_forecast_line", ["forecast_id", "currency", "week"])
    op.create_table(
        "cash_forecast_budget_item",
        sa.Column("company_id", sa.String(40), primary_key=True),
        sa.Column("budget_item", sa.String(40), primary_key=True),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("day_of_month", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("cash_forecast_budget_item")
    op.drop_index("ix_cash_forecast_line_week", table_name="cash_forecast_line")
    op.drop_table("cash_forecast_line")
    op.drop_index("ix_cash_forecast_company", table_name="cash_forecast")
    op.drop_table("cash_forecast")
