"""The commit-time balance check reads the journal's totals from the trigger row instead of
querying the header again: one indexed aggregate per journal instead of two queries.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""
CREATE OR REPLACE FUNCTION gl_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE d numeric; c numeric;
BEGIN
  SELECT COALESCE(SUM(debit), 0), COALESCE(SUM(credit), 0) INTO d, c FROM journal_line WHERE journal_id = NEW.id;
  IF d <> c OR d <> NEW.total_debit OR c <> NEW.total_credit THEN
    RAISE EXCEPTION 'journal % does not balance: lines Dr % Cr %, header Dr % Cr %', NEW.id, d, c,
      NEW.total_debit, NEW.total_credit USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END $$;
""")


def downgrade() -> None:
    pass
