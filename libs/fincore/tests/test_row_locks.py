"""Services lock rows with `.with_for_update()` on either database (fincore.db): PostgreSQL
gets FOR UPDATE, SQLite (no row locks; the file lock serialises writers) the same statement
without it, so no service needs to test the dialect."""

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

T = sa.table("stock_state", sa.column("item_code"), sa.column("qty"))
LOCKED = sa.select(T).where(T.c.item_code == "A").order_by(T.c.item_code).with_for_update()


def test_postgresql_locks_the_rows():
    assert str(LOCKED.compile(dialect=postgresql.dialect())).endswith("ORDER BY stock_state.item_code FOR UPDATE")


def test_sqlite_runs_the_same_statement_without_a_lock_clause():
    sql = str(LOCKED.compile(dialect=sqlite.dialect()))
    assert "FOR" not in sql.upper().split("ORDER BY")[-1] and sql.endswith("ORDER BY stock_state.item_code")


def test_locked_refreshes_what_it_locks():
    """fincore.db.locked: FOR UPDATE, and the ORM instances refreshed from the locked rows (an
    instance loaded earlier in the transaction would otherwise come back as it was then)."""
    from fincore.db import locked

    q = locked(sa.select(T).where(T.c.item_code == "A"), of=T)
    assert q.get_execution_options()["populate_existing"] is True
    assert str(q.compile(dialect=postgresql.dialect())).endswith("FOR UPDATE OF stock_state")
