"""AP initial schema: suppliers, bank accounts, requisitions, purchase orders and receipts, supplier
invoices, payment runs and payments; platform tables.

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
    op.create_table('bank_account',
    sa.Column('company_id', sa.String(length=40), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('iban', sa.String(length=34), nullable=False),
    sa.Column('bic', sa.String(length=11), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.PrimaryKeyConstraint('company_id', 'code')
    )
    op.create_table('goods_receipt',
    sa.Column('movement_id', sa.String(length=36), nullable=False),
    sa.Column('company_id', sa.String(length=40), nullable=False),
    sa.Column('po_id', sa.String(length=36), nullable=False),
    sa.Column('document_number', sa.String(length=80), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('lines', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('movement_id')
    )
    op.create_table('payment',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('company_id', sa.String(length=40), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('run_id', sa.String(length=36), nullable=False),
    sa.Column('supplier_code', sa.String(length=40), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('company_id', 'number', name='uq_payment_number')
    )
    op.create_table('payment_run',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('company_id', sa.String(length=40), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('payment_date', sa.Date(), nullable=False),
    sa.Column('due_by', sa.Date(), nullable=False),
    sa.Column('bank_account', sa.String(length=40), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('total', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('proposed_by', sa.String(length=100), nullable=False),
    sa.Column('approved_by', sa.String(length=100), nullable=True),
    sa.Column('executed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('company_id', 'number', name='uq_payment_run_number')
    )
    op.create_table('purchase_order',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('company_id', sa.String(length=40), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('supplier_code', sa.String(length=40), nullable=False),
    sa.Column('requisition_id', sa.String(length=36), nullable=False),
    sa.Column('order_date', sa.Date(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('company_id', 'number', name='uq_po_number')
    )
    op.create_table('requisition',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('company_id', sa.String(length=40), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('requested_by', sa.String(length=100), nullable=False),
    sa.Column('request_date', sa.Date(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('net_total', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('budget', sa.JSON(), nullable=False),
    sa.Column('lines', sa.JSON(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('company_id', 'idempotency_key', name='uq_requisition_idempotency'),
    sa.UniqueConstraint('company_id', 'number', name='uq_requisition_number')
    )
    op.create_table('supplier',
    sa.Column('company_id', sa.String(length=40), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('supplier_group', sa.String(length=40), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('payment_terms', sa.String(length=30), nullable=False),
    sa.Column('iban', sa.String(length=34), nullable=False),
    sa.Column('bic', sa.String(length=11), nullable=False),
    sa.Column('intercompany_partner', sa.String(length=40), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('company_id', 'code')
    )
    op.create_table('supplier_invoice',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('company_id', sa.String(length=40), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=14), nullable=False),
    sa.Column('supplier_code', sa.String(length=40), nullable=False),
    sa.Column('supplier_invoice_number', sa.String(length=80), nullable=False),
    sa.Column('invoice_date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('discount_date', sa.Date(), nullable=True),
    sa.Column('discount_pct', sa.Numeric(precision=7, scale=3), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('po_id', sa.String(length=36), nullable=True),
    sa.Column('net_total', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('tax_total', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('gross_total', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('budget', sa.JSON(), nullable=False),
    sa.Column('settled', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('approved_by', sa.String(length=100), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('company_id', 'number', name='uq_supplier_invoice_number'),
    sa.UniqueConstraint('company_id', 'supplier_code', 'supplier_invoice_number', name='uq_supplier_invoice_ref')
    )
    op.create_index('ix_supplier_invoice_open', 'supplier_invoice', ['company_id', 'status', 'due_date'], unique=False)
    op.create_index('ix_supplier_invoice_po', 'supplier_invoice', ['po_id'], unique=False)
    op.create_table('payment_application',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('payment_id', sa.String(length=36), nullable=False),
    sa.Column('invoice_id', sa.String(length=36), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('discount', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_payment_application_invoice_id'), 'payment_application', ['invoice_id'], unique=False)
    op.create_index(op.f('ix_payment_application_payment_id'), 'payment_application', ['payment_id'], unique=False)
    op.create_table('payment_run_item',
    sa.Column('run_id', sa.String(length=36), nullable=False),
    sa.Column('invoice_id', sa.String(length=36), nullable=False),
    sa.Column('supplier_code', sa.String(length=40), nullable=False),
    sa.Column('amount', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('discount', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['payment_run.id'], ),
    sa.PrimaryKeyConstraint('run_id', 'invoice_id')
    )
    op.create_table('po_line',
    sa.Column('po_id', sa.String(length=36), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('item_code', sa.String(length=40), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=20, scale=6), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=20, scale=6), nullable=False),
    sa.Column('tax_code', sa.String(length=12), nullable=False),
    sa.Column('cost_centre', sa.String(length=40), nullable=False),
    sa.Column('budget_item', sa.String(length=40), nullable=False),
    sa.Column('budget_ref', sa.String(length=120), nullable=False),
    sa.Column('received_qty', sa.Numeric(precision=20, scale=6), nullable=False),
    sa.Column('received_value', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.ForeignKeyConstraint(['po_id'], ['purchase_order.id'], ),
    sa.PrimaryKeyConstraint('po_id', 'line_no')
    )
    op.create_table('supplier_invoice_line',
    sa.Column('invoice_id', sa.String(length=36), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('po_line_no', sa.Integer(), nullable=True),
    sa.Column('item_code', sa.String(length=40), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=20, scale=6), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=20, scale=6), nullable=False),
    sa.Column('tax_code', sa.String(length=12), nullable=False),
    sa.Column('net', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('tax', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('grni_cleared', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('price_variance', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('cost_centre', sa.String(length=40), nullable=False),
    sa.Column('budget_item', sa.String(length=40), nullable=False),
    sa.Column('expense_category', sa.String(length=40), nullable=False),
    sa.Column('budget_ref', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['invoice_id'], ['supplier_invoice.id'], ),
    sa.PrimaryKeyConstraint('invoice_id', 'line_no')
    )


def downgrade() -> None:
    raise NotImplementedError("the initial schema is not downgraded")
