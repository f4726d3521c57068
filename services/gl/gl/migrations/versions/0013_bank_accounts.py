"""Bank accounts and statement balances learned from cash management's events.

- bank_account_map: company + cash management's code -> the ledger sub-account it posts to
  (BankAccountOpened), so AR receipts and AP payments naming the account post there;
- bank_statement_balance: each imported statement's closing balance (BankStatementImported),
  asserted by the hledger export against the ledger's bank sub-account.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bank_account_map",
        sa.Column("company_id", sa.String(40), primary_key=True),
        sa.Column("code", sa.String(40), primary_key=True),
        sa.Column("gl_account", sa.String(20), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
    )
    op.create_table(
        "bank_statement_balance",
        sa.Column("company_id", sa.String(40), primary_key=True),
        sa.Column("bank_account", sa.String(40), primary_key=True),
        sa.Column("statement_id", sa.String(80), primary_key=True),
        sa.Column("closing_date", sa.Date, nullable=False),
        sa.Column("closing_balance", sa.Numeric(20, 4), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("bank_statement_balance")
    op.drop_table("bank_account_map")
