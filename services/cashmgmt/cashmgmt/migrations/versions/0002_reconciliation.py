"""Reconciliation: open items and parties from what AR and AP published, allocations of
statement lines to them, and the decision on each line (rule, candidates with scores, who
accepted or rejected).

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
    op.create_table('cash_allocation',
    sa.Column('line_id', sa.BigInteger(), nullable=False),
    sa.Column('item_key', sa.String(length=120), nullable=False),
    sa.Column('company_id', sa.String(length=40), nullable=False),
    sa.Column('amount', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('confirmed', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('line_id', 'item_key')
    )
    op.create_index('ix_cash_allocation_item', 'cash_allocation', ['company_id', 'item_key', 'confirmed'], unique=False)
    op.create_table('cash_open_item',
    sa.Column('company_id', sa.String(length=40), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('document_id', sa.String(length=64), nullable=False),
    sa.Column('number', sa.String(length=80), nullable=False),
    sa.Column('party', sa.String(length=40), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('open', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('is_open', sa.Boolean(), nullable=False),
    sa.Column('item_date', sa.Date(), nullable=False),
    sa.Column('references', sa.JSON(), nullable=False),
    sa.Column('bank_account', sa.String(length=40), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('company_id', 'key')
    )
    op.create_index('ix_cash_open_item_open', 'cash_open_item', ['company_id', 'currency', 'is_open'], unique=False)
    op.create_table('cash_party',
    sa.Column('company_id', sa.String(length=40), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('ibans', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('company_id', 'code')
    )
    op.create_table('cash_reconciliation',
    sa.Column('line_id', sa.BigInteger(), nullable=False),
    sa.Column('company_id', sa.String(length=40), nullable=False),
    sa.Column('rule', sa.String(length=60), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('candidates', sa.JSON(), nullable=False),
    sa.Column('chosen', sa.Integer(), nullable=True),
    sa.Column('party', sa.String(length=40), nullable=False),
    sa.Column('decided_by', sa.String(length=100), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('line_id')
    )
    op.create_index('ix_cash_reconciliation_status', 'cash_reconciliation', ['company_id', 'status'], unique=False)


def downgrade() -> None:
    for name in ("cash_reconciliation", "cash_allocation", "cash_party", "cash_open_item"):
        op.drop_table(name)
