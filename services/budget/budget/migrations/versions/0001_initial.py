"""Budget initial schema: items and their accounts, versions, effective lines with running totals,
reservations, commitments, actuals; platform tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op
from fincore.sequences import create_sequence_table
from fincore.tables import create_platform_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_platform_tables(op)
    create_sequence_table(op)
    op.create_table('budget_actual',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('company_id', sa.String(length=40), nullable=False),
    sa.Column('line_id', sa.String(length=36), nullable=False),
    sa.Column('journal_id', sa.String(length=36), nullable=False),
    sa.Column('journal_line_no', sa.Integer(), nullable=False),
    sa.Column('journal_number', sa.String(length=40), nullable=False),
    sa.Column('source_document', sa.String(length=80), nullable=False),
    sa.Column('account_code', sa.String(length=20), nullable=False),
    sa.Column('amount', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('posted_on', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('journal_id', 'journal_line_no', name='uq_actual_journal_line')
    )
    op.create_index('ix_actual_line', 'budget_actual', ['line_id'], unique=False)
    op.create_table('budget_commitment',
    sa.Column('company_id', sa.String(length=40), nullable=False),
    sa.Column('document_ref', sa.String(length=120), nullable=False),
    sa.Column('invoice_ref', sa.String(length=80), nullable=False),
    sa.Column('line_id', sa.String(length=36), nullable=False),
    sa.Column('amount', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('actualised', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('company_id', 'document_ref', 'invoice_ref')
    )
    op.create_index('ix_commitment_invoice', 'budget_commitment', ['company_id', 'invoice_ref'], unique=False)
    op.create_index('ix_commitment_line', 'budget_commitment', ['line_id'], unique=False)
    op.create_table('budget_item',
    sa.Column('company_id', sa.String(length=40), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('company_id', 'code')
    )
    op.create_table('budget_item_account',
    sa.Column('company_id', sa.String(length=40), nullable=False),
    sa.Column('account_code', sa.String(length=20), nullable=False),
    sa.Column('budget_item', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('company_id', 'account_code')
    )
    op.create_table('budget_line',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('company_id', sa.String(length=40), nullable=False),
    sa.Column('cost_centre', sa.String(length=40), nullable=False),
    sa.Column('budget_item', sa.String(length=40), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('control_mode', sa.String(length=5), nullable=False),
    sa.Column('tolerance_pct', sa.Numeric(precision=7, scale=3), nullable=False),
    sa.Column('version_id', sa.String(length=36), nullable=False),
    sa.Column('version_code', sa.String(length=40), nullable=False),
    sa.Column('actual_total', sa.Numeric(precision=20, scale=4), server_default='0', nullable=False),
    sa.Column('committed_total', sa.Numeric(precision=20, scale=4), server_default='0', nullable=False),
    sa.Column('reserved_total', sa.Numeric(precision=20, scale=4), server_default='0', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('company_id', 'cost_centre', 'budget_item', 'period', name='uq_budget_line')
    )
    op.create_table('budget_reservation',
    sa.Column('company_id', sa.String(length=40), nullable=False),
    sa.Column('document_ref', sa.String(length=120), nullable=False),
    sa.Column('line_id', sa.String(length=36), nullable=False),
    sa.Column('requested', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('amount', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('warning', sa.Boolean(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('company_id', 'document_ref')
    )
    op.create_index('ix_reservation_line', 'budget_reservation', ['line_id', 'status', 'expires_at'], unique=False)
    op.create_table('budget_threshold_hit',
    sa.Column('line_id', sa.String(length=36), nullable=False),
    sa.Column('version_id', sa.String(length=36), nullable=False),
    sa.Column('threshold', sa.Integer(), nullable=False),
    sa.Column('reached_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('line_id', 'version_id', 'threshold')
    )
    op.create_table('budget_version',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('company_id', sa.String(length=40), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('approved_by', sa.String(length=100), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('company_id', 'code', name='uq_budget_version_code')
    )
    op.create_table('budget_version_line',
    sa.Column('version_id', sa.String(length=36), nullable=False),
    sa.Column('cost_centre', sa.String(length=40), nullable=False),
    sa.Column('budget_item', sa.String(length=40), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('amount', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('control_mode', sa.String(length=5), nullable=False),
    sa.Column('tolerance_pct', sa.Numeric(precision=7, scale=3), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['budget_version.id'], ),
    sa.PrimaryKeyConstraint('version_id', 'cost_centre', 'budget_item', 'period')
    )


def downgrade() -> None:
    raise NotImplementedError("the initial schema is not downgraded")
