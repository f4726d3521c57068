"""The database's own balance check (GL migration 0017): the statement that inserts journals
checks each against its lines, written before it; a line's journal is checked at commit, once
per INSERT of lines (migration 0018). Run
on a migrated PostgreSQL database (SQLite has no balance trigger), behind the API's back, as
an operator's or a bug's direct INSERT would be. Also: the posting path (write_journals)
writes its journals in that order, on PostgreSQL and on SQLite, whose line -> journal key it
defers for the transaction."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from decimal import Decimal

import psycopg
import pytest
import sqlalchemy as sa
from fincore.db import Database, migrate
from fincore.testing.rowlocks import scratch_url
from gl.adapters.tables import Journal, JournalLine
from gl.bootstrap import MIGRATIONS
from gl.domain.journal import DraftLine, JournalDraft
from gl.service.posting import Staged, create_company, write_journals
from opentelemetry import context as otel_context

pytestmark = pytest.mark.integration

JOURNAL = ("INSERT INTO journal (id, company_id, number, posting_date, period, currency, description, total_debit, "
           "total_credit, source_event_type, source_document, rule_id, rule_version, trace_id, posted_at) "
           "VALUES (%s, %s, %s, '2026-11-05', '2026-11', 'CNY', 'x', %s, %s, 'x', 'x', 'x', 1, '', now())")
LINE = ("INSERT INTO journal_line (journal_id, line_no, company_id, posting_date, account_code, debit, credit, "
        "currency, memo) VALUES (%s, %s, %s, '2026-11-05', %s, %s, %s, 'CNY', '')")


@pytest.fixture(params=["postgresql", "sqlite"])
def db_url(request, tmp_path):
    with scratch_url(request.param, tmp_path, "t_glbal") as url:
        migrate(MIGRATIONS, url)
        yield url


@pytest.fixture
def pg_url(tmp_path):
    with scratch_url("postgresql", tmp_path, "t_glbal") as url:
        migrate(MIGRATIONS, url)
        yield url


def company(url: str) -> str:
    co = f"B{uuid.uuid4().hex[:6]}"

    async def go():
        db = Database(url)
        async with db.transaction() as s:
            await create_company(s, company_id=co, name=co, functional_currency="CNY", chart_template="cas")
        await db.dispose()

    asyncio.run(go())
    return co


def pg(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def test_the_database_refuses_a_journal_its_lines_do_not_balance(pg_url):
    co = company(pg_url)
    with psycopg.connect(pg(pg_url)) as conn:
        # lines, then their journal: accepted, checked when the journal is inserted
        conn.execute(LINE, ("ok-1", 1, co, "1002", 10, 0))
        conn.execute(LINE, ("ok-1", 2, co, "6001", 0, 10))
        conn.execute(JOURNAL, ("ok-1", co, "N-1", 10, 10))
        conn.commit()
        for lines, header, what in (
                ([("1002", 10, 0), ("6001", 0, 9)], 10, "lines Dr 10.0000 Cr 9.0000"),  # lines unbalanced
                ([("1002", 10, 0), ("6001", 0, 10)], 12, "header Dr 12"),  # lines balance, header does not agree
                ([], 10, "lines Dr 0 Cr 0")):  # no lines at all
            jid = f"bad-{uuid.uuid4().hex[:6]}"
            for no, (acct, dr, cr) in enumerate(lines, 1):
                conn.execute(LINE, (jid, no, co, acct, dr, cr))
            with pytest.raises(psycopg.errors.CheckViolation, match=f"journal {jid} does not balance: .*{what}"):
                conn.execute(JOURNAL, (jid, co, f"N-{jid}", header, header))
            conn.rollback()
        # several journals in one statement: the one that does not balance is named
        conn.execute(LINE, ("m-1", 1, co, "1002", 5, 0))
        conn.execute(LINE, ("m-1", 2, co, "6001", 0, 5))
        conn.execute(LINE, ("m-2", 1, co, "1002", 5, 0))
        with pytest.raises(psycopg.errors.CheckViolation, match="journal m-2 does not balance"):
            conn.execute(JOURNAL.replace("VALUES (%s, %s, %s, '2026-11-05', '2026-11', 'CNY', 'x', %s, %s, 'x', 'x', "
                                         "'x', 1, '', now())", "SELECT * FROM (VALUES (%s, %s, %s, date '2026-11-05', "
                                         "'2026-11', 'CNY', 'x', %s::numeric, %s::numeric, 'x', 'x', 'x', 1, '', "
                                         "now()), (%s, %s, %s, date '2026-11-05', '2026-11', 'CNY', 'x', 5, 5, 'x', "
                                         "'x', 'x', 1, '', now())) v"),
                         ("m-1", co, "M-1", 5, 5, "m-2", co, "M-2"))
        conn.rollback()
        # a line whose journal never comes: refused at commit (migration 0018: checked per INSERT of
        # lines, not by a foreign key per line), among lines whose journals did come
        conn.execute(LINE, ("ok-2", 1, co, "1002", 3, 0))
        conn.execute(LINE, ("ok-2", 2, co, "6001", 0, 3))
        conn.execute(LINE, ("ghost", 1, co, "1002", 1, 0))
        conn.execute(JOURNAL, ("ok-2", co, "N-2", 3, 3))
        with pytest.raises(psycopg.errors.ForeignKeyViolation, match="journal lines of journal ghost without the "
                                                                     "journal"):
            conn.commit()
    with psycopg.connect(pg(pg_url)) as conn:
        assert conn.execute("SELECT count(*) FROM journal WHERE company_id = %s", (co,)).fetchone()[0] == 1
        # a journal and its lines in one statement (what an operator's SQL may do): checked at its end
        conn.execute("""
            WITH j AS (INSERT INTO journal (id, company_id, number, posting_date, period, currency, description,
                         total_debit, total_credit, source_event_type, source_document, rule_id, rule_version,
                         trace_id, posted_at)
                       VALUES ('cte-1', %s, 'N-CTE', '2026-11-05', '2026-11', 'CNY', 'x', 7, 7, 'x', 'x', 'x', 1,
                               '', now()) RETURNING id)
            INSERT INTO journal_line (journal_id, line_no, company_id, posting_date, account_code, debit, credit,
                                      currency, memo)
            SELECT id, n, %s, '2026-11-05', a, d, c, 'CNY', '' FROM j,
                   (VALUES (1, '1002', 7, 0), (2, '6001', 0, 7)) v(n, a, d, c)""", (co, co))
        conn.commit()
        assert conn.execute("SELECT count(*) FROM journal WHERE company_id = %s", (co,)).fetchone()[0] == 2
        assert conn.execute("SELECT count(*) FROM gl_line_batch").fetchone()[0] == 0  # each record gone at commit


def test_write_journals_writes_lines_then_journals(db_url):
    """The posting path on both databases: two journals written in one transaction, their
    lines before them, every line's journal there at commit."""
    co = company(db_url)

    def staged(n: int, amount: str) -> Staged:
        a = Decimal(amount)
        draft = JournalDraft(company_id=co, posting_date=dt.date(2026, 11, 5), currency="CNY",
                             description=f"t {n}", source_event_id=f"ev-{co}-{n}", source_event_type="x",
                             source_document=f"D-{n}", rule_id="r", rule_version=1,
                             lines=(DraftLine(account_code="1002", debit=a, credit=Decimal(0), currency="CNY"),
                                    DraftLine(account_code="6001", debit=Decimal(0), credit=a, currency="CNY")))
        return Staged(draft, "", otel_context.get_current(), chart_template="cas")

    async def go():
        db = Database(db_url)
        async with db.transaction() as s:
            written = await write_journals(s, [staged(1, "10.00"), staged(2, "2.50")])
        async with db.sessions() as s:
            got = (await s.execute(sa.select(Journal.number, sa.func.count(JournalLine.id), sa.func.sum(
                JournalLine.debit)).join(JournalLine, JournalLine.journal_id == Journal.id).where(
                Journal.company_id == co).group_by(Journal.number).order_by(Journal.number))).all()
        await db.dispose()
        return [j["number"] for j in written], [(n, c, Decimal(d)) for n, c, d in got]

    numbers, got = asyncio.run(go())
    assert numbers == ["JV202611-000001", "JV202611-000002"]
    assert got == [("JV202611-000001", 2, Decimal("10.00")), ("JV202611-000002", 2, Decimal("2.50"))]
