"""Settlements parked until the document they settle posts: parked_event.awaiting names the
document (the settlement posts by itself when it does), and source events are found by the
document they are keyed by (a document posted before open items were tracked).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("parked_event", sa.Column("awaiting", sa.String(120), nullable=True))
    op.create_index("ix_parked_awaiting", "parked_event", ["company_id", "awaiting"])
    op.create_index("ix_source_subject", "source_event", ["company_id", "subject"])


def downgrade() -> None:
    op.drop_index("ix_source_subject", "source_event")
    op.drop_index("ix_parked_awaiting", "parked_event")
    op.drop_column("parked_event", "awaiting")
