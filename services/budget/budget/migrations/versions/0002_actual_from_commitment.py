"""An actual can come from an invoice's commitment (a stock purchase: its journal touches no
budgeted account): budget_actual.document_ref names the commitment, '' for a journal line.

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
    with op.batch_alter_table("budget_actual") as b:
        b.add_column(sa.Column("document_ref", sa.String(length=120), nullable=False, server_default=""))
        b.drop_constraint("uq_actual_journal_line", type_="unique")
        b.create_unique_constraint("uq_actual_journal_line", ["journal_id", "journal_line_no", "document_ref"])


def downgrade() -> None:
    with op.batch_alter_table("budget_actual") as b:
        b.drop_constraint("uq_actual_journal_line", type_="unique")
        b.create_unique_constraint("uq_actual_journal_line", ["journal_id", "journal_line_no"])
        b.drop_column("document_ref")
