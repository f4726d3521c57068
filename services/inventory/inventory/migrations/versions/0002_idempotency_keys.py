"""The shared Idempotency-Key table (fincore.idempotency): one key per client, claimed in the
same transaction as the request's effect, with the answer it got.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""
from alembic import op
from fincore.tables import create_idempotency_table, drop_idempotency_table

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_idempotency_table(op)


def downgrade() -> None:
    drop_idempotency_table(op)
