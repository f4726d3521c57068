"""Who drafted a journal beside who posted it (manual journals: the author and the poster
are different people when duties are segregated).

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
    op.add_column("journal", sa.Column("drafted_by", sa.String(120), nullable=True))


def downgrade() -> None:
    raise NotImplementedError("the ledger's schema is not rolled back by a migration")
