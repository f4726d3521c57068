"""The customer's credit is read on every credit check (unapplied receipts and credit memos
per customer): index both by company and customer.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_receipt_company_customer", "receipt", ["company_id", "customer_code"])
    op.create_index("ix_credit_memo_company_customer", "credit_memo", ["company_id", "customer_code"])


def downgrade() -> None:
    op.drop_index("ix_credit_memo_company_customer", "credit_memo")
    op.drop_index("ix_receipt_company_customer", "receipt")
