"""Platform schema v3: the outbox notifies its relay on commit (PostgreSQL LISTEN/NOTIFY), so
events are published at once instead of on the next poll, and idle relays stop polling the
database 20 times a second (see fincore.tables.create_platform_tables_v3).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""
from alembic import op
from fincore.tables import create_platform_tables_v3, drop_platform_tables_v3

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_platform_tables_v3(op)


def downgrade() -> None:
    drop_platform_tables_v3(op)
