"""Platform schema v2: the shared Idempotency-Key table (fincore.idempotency: one key per
client, claimed in the same transaction as the request's effect, with the answer it got) and
the company of each dead letter (admins see their companies' dead letters only).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""
from alembic import op
from fincore.tables import create_platform_tables_v2, drop_platform_tables_v2

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_platform_tables_v2(op)


def downgrade() -> None:
    drop_platform_tables_v2(op)
