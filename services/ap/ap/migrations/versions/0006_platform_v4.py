"""Platform schema v4: the outbox rows waiting for the relay are listed in outbox_pending
(filled by a trigger on the outbox, emptied by the relay) instead of being marked published in
place, so an outbox row is never updated (see fincore.tables.OutboxPending).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""
from alembic import op
from fincore.tables import create_platform_tables_v4, drop_platform_tables_v4

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_platform_tables_v4(op)


def downgrade() -> None:
    drop_platform_tables_v4(op)
