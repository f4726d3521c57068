"""The database's balance check runs once per INSERT of journals instead of once per journal
at commit, and a journal's lines are written before it (issue 15, ingest).

Before: a deferred row trigger ran a plpgsql function per journal at commit, each an
indexed aggregate of its lines (~9 us of PostgreSQL per journal, ~10 % of its CPU per posted
event), and under the company's lock, which the posting consumers take in turn. Now: a
statement trigger compares the new journals' headers with their lines in one query at the end
of the statement that inserts them, so the lines must be written first (in that transaction
or that statement); the line -> journal foreign key is checked at commit (DEFERRABLE
INITIALLY DEFERRED) for that order. The posting consumer writes the lines of the journals it
drafted before it takes the company's lock, which shortens what the consumers serialise on.

What is refused is unchanged: a journal whose lines do not balance, or do not add up to its
header (none at all included), is refused with the same check_violation and message; a line
whose journal does not exist is refused at commit.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04
"""
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite has no balance trigger; its foreign keys are deferred per transaction by the writer
    op.execute("ALTER TABLE journal_line ALTER CONSTRAINT journal_line_journal_id_fkey DEFERRABLE INITIALLY DEFERRED")
    op.execute("DROP TRIGGER journal_balanced ON journal")
    op.execute("""
CREATE FUNCTION gl_check_balanced_statement() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE bad record;
BEGIN
  SELECT j.id, COALESCE(l.d, 0) AS d, COALESCE(l.c, 0) AS c, j.total_debit, j.total_credit INTO bad
  FROM new_journals j
  LEFT JOIN LATERAL (SELECT SUM(debit) AS d, SUM(credit) AS c FROM journal_line WHERE journal_id = j.id) l ON true
  WHERE COALESCE(l.d, 0) <> COALESCE(l.c, 0) OR COALESCE(l.d, 0) <> j.total_debit
     OR COALESCE(l.c, 0) <> j.total_credit
  LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'journal % does not balance: lines Dr % Cr %, header Dr % Cr %', bad.id, bad.d, bad.c,
      bad.total_debit, bad.total_credit USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END $$;
""")
    op.execute("""CREATE TRIGGER journal_balanced AFTER INSERT ON journal REFERENCING NEW TABLE AS new_journals
                  FOR EACH STATEMENT EXECUTE FUNCTION gl_check_balanced_statement()""")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER journal_balanced ON journal")
    op.execute("DROP FUNCTION gl_check_balanced_statement()")
    op.execute("""CREATE CONSTRAINT TRIGGER journal_balanced AFTER INSERT ON journal
                  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION gl_check_balanced()""")
    op.execute("ALTER TABLE journal_line ALTER CONSTRAINT journal_line_journal_id_fkey NOT DEFERRABLE")
