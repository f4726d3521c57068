"""Balances per counterparty, kept at posting: counterparty_balance.

The balance sheet presents a customer's credit balance as an advance and a supplier's debit
balance as a prepayment (per counterparty, gl.domain.presentation). It grouped every
receivable and payable line by counterparty at report time (~170 ms on a 1M-line ledger);
it now reads this table, which the posting transaction keeps like period_balance: turnover
per account, counterparty, transaction currency and month on the accounts the company's chart
keeps by a counterparty (`Chart.by_counterparty`). Filled here from the lines already posted.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op
from gl.domain.chart import load_chart
from gl.domain.journal import DIMENSIONS

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

Amount = sa.Numeric(20, 4)


def upgrade() -> None:
    op.create_table(
        "counterparty_balance",
        sa.Column("company_id", sa.String(40), primary_key=True),
        sa.Column("account_code", sa.String(20), primary_key=True),
        sa.Column("counterparty", sa.String(40), primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("period", sa.String(7), primary_key=True),
        sa.Column("debit", Amount, nullable=False),
        sa.Column("credit", Amount, nullable=False),
        sa.Column("txn_amount", Amount, nullable=False),
    )
    conn = op.get_bind()
    month = ("to_char(posting_date, 'YYYY-MM')" if conn.dialect.name == "postgresql"
             else "strftime('%Y-%m', posting_date)")
    for company_id, template in conn.execute(sa.text("SELECT id, chart_template FROM company")).all():
        by_dim: dict[str, list[str]] = {}
        for code, dim in load_chart(template).by_counterparty.items():
            by_dim.setdefault(dim, []).append(code)
        for dim, codes in sorted(by_dim.items()):
            assert dim in DIMENSIONS, dim  # a column name, checked before it goes into the SQL
            conn.execute(sa.text(
                "INSERT INTO counterparty_balance (company_id, account_code, counterparty, currency, period, debit, "
                f"credit, txn_amount) SELECT company_id, account_code, {dim}, txn_currency, {month}, sum(debit), "
                "sum(credit), sum(txn_amount) FROM journal_line WHERE company_id = :c AND account_code IN :codes "
                f"GROUP BY company_id, account_code, {dim}, txn_currency, {month}"
            ).bindparams(sa.bindparam("codes", expanding=True)), {"c": company_id, "codes": sorted(codes)})


def downgrade() -> None:
    op.drop_table("counterparty_balance")
