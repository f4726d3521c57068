"""The currency AR and AP keep each customer's and supplier's documents in (CustomerUpserted,
SupplierUpserted): a statement line in another currency is never published as that
customer's receipt (AR could not book it); it waits in review with the reason. And an index
for the documents consumer's question "has this company unmatched lines?".

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cash_party", sa.Column("currency", sa.String(3), nullable=False, server_default=""))
    # the documents consumer asks, per new document, whether the company has unmatched lines
    op.create_index("ix_statement_line_company_status", "cash_statement_line", ["company_id", "status", "currency"])


def downgrade() -> None:
    op.drop_index("ix_statement_line_company_status", "cash_statement_line")
    op.drop_column("cash_party", "currency")
