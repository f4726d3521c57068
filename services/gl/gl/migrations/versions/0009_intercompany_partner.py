"""Journal lines carry the intercompany partner (a dimension): the group company on the other side
of a customer's or supplier's document, so consolidation eliminates by it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("journal_line", sa.Column("intercompany_partner", sa.String(40), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("journal_line") as t:
        t.drop_column("intercompany_partner")
