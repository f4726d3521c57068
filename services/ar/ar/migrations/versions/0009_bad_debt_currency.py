"""Bad-debt entries carry their currency: a provision is in the ledger's functional currency
(the ageing of every currency converted at the ledger's rate), a write-off in its invoice's
currency (the allowance it uses is valued at the ledger's rate of its date, as the GL posts
it). Earlier provisions were booked in CNY; earlier write-offs take their invoice's currency.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("bad_debt_entry", sa.Column("currency", sa.String(3), nullable=False, server_default="CNY"))
    op.execute("UPDATE bad_debt_entry SET currency = (SELECT invoice.currency FROM invoice "
               "WHERE invoice.id = bad_debt_entry.invoice_id) WHERE kind = 'write_off' AND invoice_id IS NOT NULL")


def downgrade() -> None:
    op.drop_column("bad_debt_entry", "currency")
