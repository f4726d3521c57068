"""Periods and their audit, parked events, the store of source events, manual journal
drafts, reversal links, multi-currency amounts on lines, exchange rates, period balances.

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
        "source_event",  # every event the ledger handled, as received: drill-down, dry runs, shadow re-posts
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("event_type", sa.String(120), nullable=False),
        sa.Column("source", sa.String(80), nullable=False),
        sa.Column("subject", sa.String(120), nullable=False),
        sa.Column("company_id", sa.String(40), nullable=False),
        sa.Column("document_number", sa.String(80), nullable=False),
        sa.Column("occurrence_date", sa.Date, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("trace_id", sa.String(32), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_source_event_company_date", "source_event", ["company_id", "occurrence_date"])
    op.create_table(
        "period",
        sa.Column("company_id", sa.String(40), sa.ForeignKey("company.id"), primary_key=True),
        sa.Column("period", sa.String(7), primary_key=True),
        sa.Column("status", sa.String(10), nullable=False),  # open | closed
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(120), nullable=False),
    )
    op.create_table(
        "period_audit",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("company_id", sa.String(40), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),  # closed | reopened | year_end_closed
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "parked_event",
        sa.Column("event_id", sa.String(64), sa.ForeignKey("source_event.event_id"), primary_key=True),
        sa.Column("company_id", sa.String(40), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("parked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.String(200), nullable=True),
        sa.Column("resolved_by", sa.String(120), nullable=True),
    )
    op.create_index("ix_parked_open", "parked_event", ["company_id", "resolved_at"])
    op.create_table(
        "manual_journal",  # drafts of manual journals; posting one makes a journal (kind manual)
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("company_id", sa.String(40), sa.ForeignKey("company.id"), nullable=False),
        sa.Column("posting_date", sa.Date, nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("lines", sa.JSON, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),  # draft | posted | discarded
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("journal_id", sa.String(36), nullable=True),
    )
    op.create_table(
        "exchange_rate",
        sa.Column("company_id", sa.String(40), sa.ForeignKey("company.id"), primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("rate_date", sa.Date, primary_key=True),
        sa.Column("rate", sa.Numeric(20, 10), nullable=False),  # functional units per 1 unit of currency
    )
    op.create_table(
        "period_balance",  # derived: turnover per account and period, kept in the posting transaction
        sa.Column("company_id", sa.String(40), primary_key=True),
        sa.Column("account_code", sa.String(20), primary_key=True),
        sa.Column("period", sa.String(7), primary_key=True),
        sa.Column("debit", Amount, nullable=False),
        sa.Column("credit", Amount, nullable=False),
    )
    with op.batch_alter_table("journal") as b:
        b.add_column(sa.Column("kind", sa.String(12), nullable=False, server_default="event"))
        b.add_column(sa.Column("reverses_journal_id", sa.String(36), nullable=True))
        b.add_column(sa.Column("posted_by", sa.String(120), nullable=False, server_default="gl-posting"))
    with op.batch_alter_table("journal_line") as b:
        b.add_column(sa.Column("txn_currency", sa.String(3), nullable=False, server_default=""))
        b.add_column(sa.Column("txn_amount", Amount, nullable=False, server_default="0"))
    op.create_index("uq_journal_reversal", "journal", ["reverses_journal_id"], unique=True)
    op.create_index("ix_account_active", "account", ["company_id"])
    with op.batch_alter_table("account") as b:
        b.add_column(sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()))


def downgrade() -> None:
    raise NotImplementedError("the ledger's schema is not rolled back by a migration")
