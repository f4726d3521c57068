"""A journal line's journal is checked once per INSERT of lines, at commit, instead of by a
foreign key per line (issue 15, ingest).

The foreign key journal_line -> journal cost PostgreSQL ~6 us per line at commit (a trigger
per line, each a SELECT ... FOR KEY SHARE that locks the journal's row: ~19 us per posted
3-line journal, ~20 % of PostgreSQL's CPU per event in bench/ledger.py), under the company
lock the posting consumers take in turn. A lock on the journal is not needed: posted journals
are never updated or deleted (journal_immutable). What the key guaranteed, that no line
exists without its journal, is checked per statement instead: the statement that inserts
lines records the journals it names (gl_line_batch, one row per statement), and at commit a
deferred constraint trigger checks that each of them exists (one probe per journal, no lock),
then deletes the record. A line whose journal never comes is refused at commit with
foreign_key_violation, as before. The balance check of migration 0017 is unchanged.

SQLite keeps its foreign key (the demo's database; the writer defers it per transaction).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04
"""
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE journal_line DROP CONSTRAINT journal_line_journal_id_fkey")
    op.execute("CREATE TABLE gl_line_batch (id bigserial PRIMARY KEY, journal_ids varchar(36)[] NOT NULL)")
    op.execute("""
CREATE FUNCTION gl_lines_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO gl_line_batch (journal_ids) SELECT array_agg(DISTINCT journal_id) FROM new_lines HAVING count(*) > 0;
  RETURN NULL;
END $$;
""")
    op.execute("""CREATE TRIGGER journal_line_inserted AFTER INSERT ON journal_line REFERENCING NEW TABLE AS new_lines
                  FOR EACH STATEMENT EXECUTE FUNCTION gl_lines_inserted()""")
    op.execute("""
CREATE FUNCTION gl_line_batch_journaled() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE missing varchar;
BEGIN
  SELECT x INTO missing FROM unnest(NEW.journal_ids) AS x WHERE NOT EXISTS (SELECT 1 FROM journal j WHERE j.id = x)
  LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'journal lines of journal % without the journal', missing
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  DELETE FROM gl_line_batch WHERE id = NEW.id;
  RETURN NULL;
END $$;
""")
    op.execute("""CREATE CONSTRAINT TRIGGER line_batch_journaled AFTER INSERT ON gl_line_batch
                  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION gl_line_batch_journaled()""")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER journal_line_inserted ON journal_line")
    op.execute("DROP FUNCTION gl_lines_inserted()")
    op.execute("DROP TABLE gl_line_batch")  # its trigger with it
    op.execute("DROP FUNCTION gl_line_batch_journaled()")
    op.execute("""ALTER TABLE journal_line ADD CONSTRAINT journal_line_journal_id_fkey FOREIGN KEY (journal_id)
                  REFERENCES journal (id) DEFERRABLE INITIALLY DEFERRED""")
