"""GL initial schema: companies, accounts, insert-only balanced journals; platform tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op
from fincore.sequences import create_sequence_table
from fincore.tables import BigId, create_platform_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Amount = sa.Numeric(20, 4)
DIMS = ("cost_centre", "department", "product", "customer", "supplier", "project", "region", "sales_team",
        "cash_flow_item")

PG_GUARDS = """
CREATE FUNCTION gl_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'posted journals are immutable: % on % refused (post a reversal instead)', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE TRIGGER journal_immutable BEFORE UPDATE OR DELETE ON journal
  FOR EACH ROW EXECUTE FUNCTION gl_refuse_change();
CREATE TRIGGER journal_line_immutable BEFORE UPDATE OR DELETE ON journal_line
  FOR EACH ROW EXECUTE FUNCTION gl_refuse_change();

CREATE FUNCTION gl_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE d numeric; c numeric; hd numeric; hc numeric;
BEGIN
  SELECT COALESCE(SUM(debit), 0), COALESCE(SUM(credit), 0) INTO d, c FROM journal_line WHERE journal_id = NEW.id;
  SELECT total_debit, total_credit INTO hd, hc FROM journal WHERE id = NEW.id;
  IF d <> c OR d <> hd OR c <> hc THEN
    RAISE EXCEPTION 'journal % does not balance: lines Dr % Cr %, header Dr % Cr %', NEW.id, d, c, hd, hc
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER journal_balanced AFTER INSERT ON journal
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION gl_check_balanced();
"""

SQLITE_GUARDS = [
    f"CREATE TRIGGER {t}_no_{op_.lower()} BEFORE {op_} ON {t} "
    f"BEGIN SELECT RAISE(ABORT, 'posted journals are immutable: {op_} on {t} refused'); END"
    for t in ("journal", "journal_line") for op_ in ("UPDATE", "DELETE")
]


def upgrade() -> None:
    create_platform_tables(op)
    create_sequence_table(op)
    op.create_table(
        "company",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("functional_currency", sa.String(3), nullable=False),
        sa.Column("chart_template", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "account",
        sa.Column("company_id", sa.String(40), sa.ForeignKey("company.id"), primary_key=True),
        sa.Column("code", sa.String(20), primary_key=True),
        sa.Column("name_zh", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=False),
        sa.Column("type", sa.String(12), nullable=False),
        sa.Column("normal", sa.String(6), nullable=False),
        sa.Column("control", sa.Boolean, nullable=False),
        sa.Column("cash", sa.Boolean, nullable=False),
    )
    op.create_table(
        "journal",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("company_id", sa.String(40), sa.ForeignKey("company.id"), nullable=False),
        sa.Column("number", sa.String(40), nullable=False),
        sa.Column("posting_date", sa.Date, nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("total_debit", Amount, nullable=False),
        sa.Column("total_credit", Amount, nullable=False),
        sa.Column("source_event_id", sa.String(64), nullable=True, unique=True),
        sa.Column("source_event_type", sa.String(120), nullable=False),
        sa.Column("source_document", sa.String(80), nullable=False),
        sa.Column("rule_id", sa.String(80), nullable=False),
        sa.Column("rule_version", sa.Integer, nullable=False),
        sa.Column("trace_id", sa.String(32), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("company_id", "number", name="uq_journal_number"),
        sa.CheckConstraint("total_debit = total_credit", name="ck_journal_balanced"),
    )
    op.create_index("ix_journal_company_date", "journal", ["company_id", "posting_date"])
    op.create_table(
        "journal_line",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("journal_id", sa.String(36), sa.ForeignKey("journal.id"), nullable=False),
        sa.Column("line_no", sa.Integer, nullable=False),
        sa.Column("company_id", sa.String(40), nullable=False),
        sa.Column("posting_date", sa.Date, nullable=False),
        sa.Column("account_code", sa.String(20), nullable=False),
        sa.Column("debit", Amount, nullable=False),
        sa.Column("credit", Amount, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("memo", sa.String(500), nullable=False),
        *[sa.Column(d, sa.String(40), nullable=False, server_default="") for d in DIMS],
        sa.CheckConstraint("debit >= 0 AND credit >= 0 AND (debit = 0 OR credit = 0)", name="ck_line_one_side"),
    )
    op.create_index("ix_line_company_account_date", "journal_line", ["company_id", "account_code", "posting_date"])
    op.create_index("ix_line_journal", "journal_line", ["journal_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_GUARDS)
    else:
        for stmt in SQLITE_GUARDS:
            op.execute(stmt)


def downgrade() -> None:
    raise NotImplementedError("the ledger's initial schema is not dropped by a migration")
