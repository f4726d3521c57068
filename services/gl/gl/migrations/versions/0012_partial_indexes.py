"""Partial indexes where most rows never match:

- ix_line_open_item only over lines that name an open item (on a sale's five lines one does):
  the posting consumer no longer writes an entry per line, and `open_items` reads the same;
- ix_journal_kind over the journals that are not posted from events (closing, revaluation,
  reversal, manual; a few in a ledger of millions): the income statement's "leave out the
  year-end closing journals" read the whole journal table (50-120 ms on 333,334 journals).

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
    op.drop_index("ix_line_open_item", "journal_line")
    op.create_index("ix_line_open_item", "journal_line", ["company_id", "open_item"],
                    postgresql_where=sa.text("open_item <> ''"), sqlite_where=sa.text("open_item <> ''"))
    op.create_index("ix_journal_kind", "journal", ["company_id", "kind", "posting_date"],
                    postgresql_where=sa.text("kind <> 'event'"), sqlite_where=sa.text("kind <> 'event'"))


def downgrade() -> None:
    op.drop_index("ix_journal_kind", "journal")
    op.drop_index("ix_line_open_item", "journal_line")
    op.create_index("ix_line_open_item", "journal_line", ["company_id", "open_item"])
