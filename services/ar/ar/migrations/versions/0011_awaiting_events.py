"""Events waiting for a document (fincore.awaiting): a customer return read before the
shipment whose invoice it credits waits for that shipment instead of being dead-lettered.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""
from alembic import op
from fincore.awaiting import create_awaiting_table, drop_awaiting_table

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_awaiting_table(op)


def downgrade() -> None:
    drop_awaiting_table(op)
