"""Cash management initial schema: bank accounts (with their bank's CSV mapping), internal
transfers, statements with their lines as received and the files they came in; platform tables
(outbox, inbox, dead letters, Idempotency-Key) and document sequences.

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op
from fincore.sequences import create_sequence_table
from fincore.tables import create_platform_tables, create_platform_tables_v2

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_platform_tables(op)
    create_platform_tables_v2(op)
    create_sequence_table(op)
    op.create_table('cash_bank_account',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('company_id', sa.String(length=40), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('iban', sa.String(length=34), nullable=False),
    sa.Column('bic', sa.String(length=11), nullable=False),
    sa.Column('account_number', sa.String(length=40), nullable=False),
    sa.Column('gl_account', sa.String(length=20), nullable=False),
    sa.Column('csv_mapping', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('company_id', 'code', name='uq_bank_account_code')
    )
    op.create_index('ix_bank_account_iban', 'cash_bank_account', ['iban'], unique=False)
    op.create_index('ix_bank_account_number', 'cash_bank_account', ['account_number'], unique=False)
    op.create_table('cash_statement_file',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sha256')
    )
    op.create_table('cash_internal_transfer',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('company_id', sa.String(length=40), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('transfer_date', sa.Date(), nullable=False),
    sa.Column('from_account_id', sa.String(length=36), nullable=False),
    sa.Column('to_account_id', sa.String(length=36), nullable=False),
    sa.Column('amount', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('to_amount', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('to_currency', sa.String(length=3), nullable=False),
    sa.Column('reference', sa.String(length=140), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('company_id', 'number', name='uq_internal_transfer_number')
    )
    op.create_table('cash_statement',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('company_id', sa.String(length=40), nullable=False),
    sa.Column('bank_account_id', sa.String(length=36), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('statement_id', sa.String(length=80), nullable=False),
    sa.Column('format', sa.String(length=20), nullable=False),
    sa.Column('sequence', sa.String(length=40), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('opening_balance', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('closing_balance', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('opening_date', sa.Date(), nullable=False),
    sa.Column('closing_date', sa.Date(), nullable=False),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('lines_digest', sa.String(length=64), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('imported_by', sa.String(length=100), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bank_account_id'], ['cash_bank_account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('bank_account_id', 'lines_digest', name='uq_statement_lines'),
    sa.UniqueConstraint('bank_account_id', 'statement_id', name='uq_statement_id')
    )
    op.create_index('ix_statement_account_seq', 'cash_statement', ['bank_account_id', 'seq'], unique=False)
    op.create_table('cash_statement_line',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('statement_id', sa.String(length=36), nullable=False),
    sa.Column('bank_account_id', sa.String(length=36), nullable=False),
    sa.Column('company_id', sa.String(length=40), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('booking_date', sa.Date(), nullable=False),
    sa.Column('value_date', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('reference', sa.String(length=500), nullable=False),
    sa.Column('counterparty_name', sa.String(length=200), nullable=False),
    sa.Column('counterparty_iban', sa.String(length=34), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('bank_reference', sa.String(length=80), nullable=False),
    sa.Column('bank_code', sa.String(length=40), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=10), server_default='open', nullable=False),
    sa.ForeignKeyConstraint(['statement_id'], ['cash_statement.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('statement_id', 'line_no', name='uq_statement_line_no')
    )
    op.create_index('ix_statement_line_account', 'cash_statement_line', ['bank_account_id', 'status'], unique=False)
    op.create_index('ix_statement_line_fingerprint', 'cash_statement_line', ['bank_account_id', 'fingerprint'],
                    unique=False)


def downgrade() -> None:
    raise NotImplementedError("the initial schema is not downgraded")
