"""Consolidation initial schema: the projection of the entities' ledgers (balances per day, account,
intercompany partner; companies; period states), the group structure, the group's rate table and
intercompany stock, stored runs; the ledger's exchange rates (a copy); platform tables.

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op
from fincore.rates import create_rate_table
from fincore.tables import create_platform_tables, create_platform_tables_v2

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_platform_tables(op)
    create_platform_tables_v2(op)
    create_rate_table(op)
    op.create_table('consolidation_group',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('presentation_currency', sa.String(length=3), nullable=False),
    sa.Column('parent_company', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('consolidation_run',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('group_id', sa.String(length=40), nullable=False),
    sa.Column('period_from', sa.String(length=7), nullable=False),
    sa.Column('period_to', sa.String(length=7), nullable=False),
    sa.Column('final', sa.Boolean(), nullable=False),
    sa.Column('superseded', sa.Boolean(), nullable=False),
    sa.Column('trigger', sa.String(length=40), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('structure', sa.JSON(), nullable=False),
    sa.Column('rates', sa.JSON(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_run_group', 'consolidation_run', ['group_id', 'period_to'], unique=False)
    op.create_table('entity_balance',
    sa.Column('company_id', sa.String(length=40), nullable=False),
    sa.Column('posting_date', sa.Date(), nullable=False),
    sa.Column('account_code', sa.String(length=20), nullable=False),
    sa.Column('partner', sa.String(length=40), nullable=False),
    sa.Column('txn_currency', sa.String(length=3), nullable=False),
    sa.Column('document', sa.String(length=80), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('amount', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('txn_amount', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('lines', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('company_id', 'posting_date', 'account_code', 'partner', 'txn_currency', 'document')
    )
    op.create_index('ix_entity_balance_company_period', 'entity_balance', ['company_id', 'period'], unique=False)
    op.create_table('entity_company',
    sa.Column('company_id', sa.String(length=40), nullable=False),
    sa.Column('functional_currency', sa.String(length=3), nullable=False),
    sa.Column('journals', sa.Integer(), nullable=False),
    sa.Column('last_posted_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('company_id')
    )
    op.create_table('entity_period',
    sa.Column('company_id', sa.String(length=40), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reopened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('changed_after_close', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('company_id', 'period')
    )
    op.create_table('group_rate',
    sa.Column('group_id', sa.String(length=40), nullable=False),
    sa.Column('rate_type', sa.String(length=10), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('key', sa.String(length=10), nullable=False),
    sa.Column('rate', sa.Numeric(precision=20, scale=10), nullable=False),
    sa.PrimaryKeyConstraint('group_id', 'rate_type', 'currency', 'key')
    )
    op.create_table('ic_inventory',
    sa.Column('group_id', sa.String(length=40), nullable=False),
    sa.Column('holder', sa.String(length=40), nullable=False),
    sa.Column('seller', sa.String(length=40), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('margin', sa.Numeric(precision=9, scale=6), nullable=False),
    sa.Column('bought_on', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('group_id', 'holder', 'seller', 'held_on')
    )
    op.create_table('ownership_change',
    sa.Column('group_id', sa.String(length=40), nullable=False),
    sa.Column('company_id', sa.String(length=40), nullable=False),
    sa.Column('changed_on', sa.Date(), nullable=False),
    sa.Column('pct', sa.Numeric(precision=9, scale=6), nullable=False),
    sa.Column('consideration', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.PrimaryKeyConstraint('group_id', 'company_id', 'changed_on')
    )
    op.create_table('group_entity',
    sa.Column('group_id', sa.String(length=40), nullable=False),
    sa.Column('company_id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('functional_currency', sa.String(length=3), nullable=False),
    sa.Column('chart', sa.String(length=20), nullable=False),
    sa.Column('mapping_overrides', sa.JSON(), nullable=False),
    sa.Column('transaction_rate_accounts', sa.JSON(), nullable=False),
    sa.Column('acquired_on', sa.Date(), nullable=True),
    sa.Column('pct', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('consideration', sa.Numeric(precision=20, scale=4), nullable=True),
    sa.Column('fv_net_assets', sa.Numeric(precision=20, scale=4), nullable=True),
    sa.ForeignKeyConstraint(['group_id'], ['consolidation_group.id'], ),
    sa.PrimaryKeyConstraint('group_id', 'company_id')
    )


def downgrade() -> None:
    raise NotImplementedError("the initial schema is not downgraded")
