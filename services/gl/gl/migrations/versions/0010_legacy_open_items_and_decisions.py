"""Open items of documents booked before open items were tracked, and the operators'
decisions on settlements that wait for a document.

- legacy_open_item: what each journal posted by a rule version without open items (an AR
  invoice of November 2026, a receipt applied to it) did to each document's balance, derived
  from the posted lines (never edited) by document reference; open items add it to the
  tagged lines. legacy_open_item_scan: per company, how far the journals have been read.
- awaiting_decision: who decided what about a settlement parked awaiting a document, when
  and why (posted at the payment-date rate, or sent to the dead letters).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op
from fincore.tables import BigId

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

Amount = sa.Numeric(20, 4)


def upgrade() -> None:
    op.create_table(
        "legacy_open_item",
        sa.Column("journal_id", sa.String(36), sa.ForeignKey("journal.id"), primary_key=True),
        sa.Column("open_item", sa.String(64), primary_key=True),
        sa.Column("account_code", sa.String(20), primary_key=True),
        sa.Column("company_id", sa.String(40), nullable=False),
        sa.Column("txn_currency", sa.String(3), nullable=False),
        sa.Column("txn_amount", Amount, nullable=False),
        sa.Column("functional", Amount, nullable=False),
        sa.Column("derived_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("derived_by", sa.String(120), nullable=False),
    )
    op.create_index("ix_legacy_open_item_doc", "legacy_open_item", ["company_id", "open_item"])
    op.create_table(
        "legacy_open_item_scan",
        sa.Column("company_id", sa.String(40), sa.ForeignKey("company.id"), primary_key=True),
        sa.Column("through", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scanned_by", sa.String(120), nullable=False),
    )
    op.create_index("ix_journal_company_posted_at", "journal", ["company_id", "posted_at"])
    op.create_table(
        "awaiting_decision",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(64), nullable=False, index=True),
        sa.Column("company_id", sa.String(40), nullable=False),
        sa.Column("event_type", sa.String(120), nullable=False),
        sa.Column("document_number", sa.String(80), nullable=False),
        sa.Column("awaiting", sa.String(120), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("parked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("journal_id", sa.String(36), nullable=True),
        sa.Column("dead_letter_id", sa.BigInteger, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("awaiting_decision")
    op.drop_index("ix_journal_company_posted_at", "journal")
    op.drop_table("legacy_open_item_scan")
    op.drop_index("ix_legacy_open_item_doc", "legacy_open_item")
    op.drop_table("legacy_open_item")
