"""Charts: whole English names for CAS 1601 ("Fixed assets") and IFRS 1600 ("Property, plant
and equipment"), which an unquoted comma in the template cut to "Property"; and the IFRS
accounts balances on the wrong side are presented on (prepayments, contract liabilities,
short-term borrowings) for companies set up before they were in the template.

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

NEW_IFRS = [("1150", "预付款项", "Prepayments to suppliers", "asset", "debit"),
            ("2300", "合同负债(预收款项)", "Contract liabilities (advances from customers)", "liability", "credit"),
            ("2400", "短期借款(银行透支)", "Short-term borrowings (bank overdrafts)", "liability", "credit")]


def upgrade() -> None:
    for template, code, name in (("cas", "1601", "Fixed assets"), ("ifrs", "1600", "Property, plant and equipment")):
        op.execute(sa.text(
            "UPDATE account SET name_en = :name WHERE code = :code AND name_en = 'Property' AND company_id IN "
            "(SELECT id FROM company WHERE chart_template = :template)").bindparams(
                name=name, code=code, template=template))
    for code, zh, en, type_, normal in NEW_IFRS:
        op.execute(sa.text(
            "INSERT INTO account (company_id, code, name_zh, name_en, type, normal, control, cash, active) "
            "SELECT id, :code, :zh, :en, :type, :normal, false, false, true FROM company c "
            "WHERE chart_template = 'ifrs' AND NOT EXISTS "
            "(SELECT 1 FROM account a WHERE a.company_id = c.id AND a.code = :code)").bindparams(
                code=code, zh=zh, en=en, type=type_, normal=normal))


def downgrade() -> None:
    raise NotImplementedError("the ledger's schema is not rolled back by a migration")
