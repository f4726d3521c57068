"""Open items on journal lines (the document a receivable or payable line opens or
relieves, so a settlement relieves each document at its carrying amount and the realised
exchange difference is posted), and the CAS account for exchange differences under
finance costs (660302 财务费用-汇兑损益) for companies already set up on that chart.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("journal_line", sa.Column("open_item", sa.String(64), nullable=False, server_default=""))
    op.create_index("ix_line_open_item", "journal_line", ["company_id", "open_item"])
    op.execute("""
INSERT INTO account (company_id, code, name_zh, name_en, type, normal, control, cash, active)
SELECT c.id, '660302', '财务费用-汇兑损益', 'Finance costs - exchange differences', 'expense', 'debit',
       false, false, true
FROM company c
WHERE c.chart_template = 'cas'
  AND NOT EXISTS (SELECT 1 FROM account a WHERE a.company_id = c.id AND a.code = '660302')
""")


def downgrade() -> None:
    op.drop_index("ix_line_open_item", "journal_line")
    op.drop_column("journal_line", "open_item")
