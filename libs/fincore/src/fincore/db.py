"""Database engine, sessions and migrations for SQLite (embedded) and PostgreSQL.

Row locks: every service writes `select(...).with_for_update()` (or `session.get(...,
with_for_update=True)`) as it is, on either database, and never tests the dialect for it.
PostgreSQL takes the row locks; on SQLite SQLAlchemy renders no FOR UPDATE (SQLite has
none: a writer holds the database file's lock, which serialises writers already). One
statement serves both; tests/test_row_locks.py pins that.

A row lock on ORM entities is taken with `locked(select(Entity)...)`: FOR UPDATE, and the
instances refreshed from the locked rows (populate_existing). Without the refresh the session
hands back an instance it loaded earlier in the transaction, as it was then: the lock waits
for a concurrent writer, the row it returns carries that writer's change, and the change is
computed on the old values and written back over it (AR credited a return on an invoice a
receipt had just paid, as if unpaid: tests/integration/test_ar_credit_after_concurrent_receipt.py).
Pending changes of the session are flushed before the select (autoflush), so the refresh
keeps them. `session.get(..., with_for_update=True)` needs `populate_existing=True` likewise.

Transactions on SQLite: left to the driver (pysqlite, aiosqlite), no BEGIN is sent before a
SELECT, so a unit of work read outside any transaction and wrote on what it had read (a lost
update); and a transaction begun DEFERRED that reads, then writes, is refused "database is
locked" at once when another writer committed in between (SQLite cannot let it write on a
stale snapshot; no busy timeout helps). SQLAlchemy's documented recipe for these drivers
takes BEGIN from the driver (`isolation_level = None`) and sends its own from a "begin"
listener. `Database.transaction()` and `Database.begin()` (the units of work) begin
IMMEDIATE: they take the write lock first, so writers queue (busy timeout 30 s) instead of
failing. Reads (`Database.sessions()`) begin DEFERRED and take no write lock (WAL: readers
never wait for the writer). tests/test_sqlite_writers.py pins both."""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from psycopg.types.datetime import DateDumper, DatetimeDumper
from sqlalchemy import Select, event, text
from sqlalchemy import types as sa_types
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from fincore.idempotency import claim_in, pending_claim

_WRITES = "fincore_writes"  # execution option of the connections `Database.transaction()` uses


def locked(statement: Select, **for_update) -> Select:
    """`statement` (a select of ORM entities) FOR UPDATE, its instances refreshed from the
    locked rows (see the module's docstring); `for_update`: with_for_update's options."""
    return statement.with_for_update(**for_update).execution_options(populate_existing=True)


def is_sqlite(url_or_engine: str | AsyncEngine) -> bool:
    name = url_or_engine if isinstance(url_or_engine, str) else url_or_engine.url.drivername
    return name.startswith("sqlite")


def make_engine(url: str, *, echo: bool = False, pool_size: int = 10, max_overflow: int = 10) -> AsyncEngine:
    if is_sqlite(url):
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
            dbapi_conn.isolation_level = None  # the driver sends no BEGIN: _sqlite_begin does

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITES) else "BEGIN")

        return engine
    # No ping on checkout: it is a round trip on every request (a fifth of a credit or budget
    # check). A connection broken by a database restart or failover fails the one request
    # that meets it; SQLAlchemy then invalidates the whole pool, and callers retry (every
    # write API is idempotent, and the failure comes before anything was committed).
    return create_async_engine(url, echo=echo, pool_size=pool_size, max_overflow=max_overflow,
                               pool_pre_ping=False, pool_recycle=1800)


def connection_lost(exc: BaseException) -> bool:
    """The error is the connection's, not the statement's: the server restarted, failed over
    or went away (SQLAlchemy's disconnect detection; psycopg's own errors, raised where a
    statement runs on the driver's connection, by SQLSTATE class 08 connection exception or
    57P operator intervention, or none at all: "the connection is lost")."""
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        exc = exc.orig
    try:
        import psycopg
    except ImportError:  # pragma: no cover - SQLite-only installs
        return False
    if isinstance(exc, psycopg.OperationalError):
        state = exc.sqlstate
        return state is None or state.startswith(("08", "57P"))
    return False


class Database:
    """One per process: the engine and a session factory. Created by `main`, passed in."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 10, max_overflow: int = 10) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo, pool_size=pool_size, max_overflow=max_overflow)
        self.sessions = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)
        # Units of work: on SQLite their transactions begin IMMEDIATE (see the module's docstring).
        self._write_engine = self.engine.execution_options(**{_WRITES: True}) if self.is_sqlite else self.engine
        self._writes = async_sessionmaker(self._write_engine, class_=AsyncSession, expire_on_commit=False)
        # Same pool, no transaction: a single read-only statement costs one round trip instead
        # of three (BEGIN, the query, the ROLLBACK when the connection goes back to the pool).
        self.autocommit = self.engine if self.is_sqlite else self.engine.execution_options(
            isolation_level="AUTOCOMMIT")

    @classmethod
    def for_settings(cls, settings) -> Database:
        """The service's database with the pool its settings size (DB_POOL_SIZE, DB_MAX_OVERFLOW)."""
        return cls(settings.resolved_database_url(), pool_size=settings.db_pool_size,
                   max_overflow=settings.db_max_overflow)

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.url)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work commits together or not at all. The first transaction a request
        with an Idempotency-Key opens also inserts the key's row (see fincore.idempotency)."""
        claim = pending_claim()
        async with self._writes() as session, session.begin():
            if claim is not None:
                await claim_in(session, claim)
            yield session
        if claim is not None:
            claim.committed = True

    def begin(self):
        """A connection in a write transaction, for a unit of work written without the ORM
        (`async with db.begin() as conn:`); it commits at the end of the block."""
        return self._write_engine.begin()

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def recover(self, exc: BaseException, what: str, give_up=lambda: False) -> bool:
        """After a failed unit of work: True if the database was at fault (it does not answer,
        or `exc` is a lost connection: a restart can be over before anyone asks), in which
        case the pool's connections are dropped, the database is waited for, and the caller
        does the same work again; False if the failure is the work's own."""
        gone = connection_lost(exc)
        if not gone and await self.reachable():
            return False
        await self.engine.dispose()  # pooled connections of the old server are all dead
        await self.wait_reachable(what, give_up)
        return True

    async def reachable(self, timeout_s: float = 5.0) -> bool:
        """Whether the database answers now. A relay or consumer asks after a failure: an
        unreachable database (a restart, a failover) is waited for, never blamed on the work."""
        import asyncio

        try:
            await asyncio.wait_for(self.ping(), timeout_s)
            return True
        except Exception:  # noqa: BLE001 - any failure to answer is "not now"
            return False

    async def wait_reachable(self, what: str, give_up=lambda: False) -> bool:
        """Wait, with backoff up to 5 s, until the database answers; False if `give_up()` said
        so first. Logs once when it goes and once when it is back."""
        import asyncio
        import logging
        import time

        log = logging.getLogger(__name__)
        started, pause, warned = time.monotonic(), 0.2, False
        while not await self.reachable():
            if not warned:
                log.warning("%s: the database does not answer; waiting for it", what)
                warned = True
            if give_up():
                return False
            await asyncio.sleep(pause)
            pause = min(pause * 2, 5.0)
        if warned:
            log.warning("%s: the database answers again after %.1fs", what, time.monotonic() - started)
        return True

    async def dispose(self) -> None:
        await self.engine.dispose()


def sync_url(url: str) -> str:
    """The same database through a synchronous driver (Alembic runs synchronously)."""
    return url.replace("sqlite+aiosqlite", "sqlite").replace("postgresql+asyncpg", "postgresql+psycopg")


def migrate(script_location: Path, url: str, revision: str = "head") -> None:
    """Run a service's Alembic migrations (the only way its schema is created or changed).

    The migrations live inside the service package (``<svc>/migrations``) so an installed
    image carries them; ``fincore.migrations.run_env`` is their shared env.py."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    command.upgrade(cfg, revision)


def at_head(script_location: Path, url: str) -> bool:
    """True when the database's Alembic revision is the head of the service's migrations."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine

    heads = set(ScriptDirectory(str(script_location)).get_heads())
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            return set(MigrationContext.configure(conn).get_current_heads()) == heads
    finally:
        engine.dispose()


async def bulk_insert(session: AsyncSession, table, rows: list[dict] | list[tuple],
                      columns: Sequence[str] | None = None) -> None:
    """Insert many rows in the session's transaction: COPY on PostgreSQL (one round trip for
    the batch, the fastest path into the database), executemany elsewhere. Rows are dicts
    that all have the same keys, or, with `columns`, tuples of values in that order (a hot
    path builds them so: no dict per row). Columns not given take their defaults (identity
    ids included)."""
    if not rows:
        return
    if columns is None:
        columns = list(rows[0])
        # A row's values in column order by one C-level itemgetter (the posting consumer writes
        # ~7 rows per event; a per-column comprehension cost more than formatting the row).
        values = operator.itemgetter(*columns) if len(columns) > 1 else (lambda row: (row[columns[0]],))
    else:
        values = None
    if session.bind.dialect.name != "postgresql":
        if values is None:  # tuples: SQLAlchemy's executemany takes dicts
            rows = [dict(zip(columns, r, strict=True)) for r in rows]
        await session.execute(table.insert(), rows)
        return
    import json

    json_cols = {c.name for c in table.columns if isinstance(c.type, sa_types.JSON) and c.name in columns}
    conn = await session.connection()
    raw = (await conn.get_raw_connection()).driver_connection
    cols = ", ".join(f'"{c}"' for c in columns)
    async with raw.cursor() as cur:
        _repeat_dumpers(cur)
        async with cur.copy(f'COPY "{table.name}" ({cols}) FROM STDIN') as copy:
            if not json_cols:
                for row in (rows if values is None else map(values, rows)):
                    await copy.write_row(row)
                return
            json_at = [i for i, c in enumerate(columns) if c in json_cols]
            for row in (rows if values is None else map(values, rows)):
                vals = list(row)
                for i in json_at:
                    vals[i] = json.dumps(vals[i])
                await copy.write_row(vals)


class _RemembersLast:
    """Mixed into a psycopg text dumper: it remembers its last value and text. A batch's rows
    carry the same instant (one `now` per transaction) and a journal's lines its posting date,
    so psycopg's dumper (in Python: ~1 us a timestamp) runs once per value instead of once per
    row. Per cursor, so nothing is shared."""

    def __init__(self, cls: type, context=None) -> None:
        super().__init__(cls, context)
        self._last: object = None
        self._text = b""

    def dump(self, obj):
        if obj is not self._last:  # identity: the last value is held, so its id is not reused
            self._text, self._last = super().dump(obj), obj
        return self._text


class _RepeatedDatetimeDumper(_RemembersLast, DatetimeDumper):
    pass


class _RepeatedDateDumper(_RemembersLast, DateDumper):
    pass


def _repeat_dumpers(cur) -> None:
    cur.adapters.register_dumper(dt.datetime, _RepeatedDatetimeDumper)
    cur.adapters.register_dumper(dt.date, _RepeatedDateDumper)


class HotStatement:
    """A statement for a request path where SQLAlchemy's per-execute work costs as much as the
    query itself (the credit and budget checks): written with SQLAlchemy like any other,
    compiled once per dialect, and on PostgreSQL run on the driver's (psycopg's) connection
    inside the caller's SQLAlchemy transaction. Elsewhere it runs through SQLAlchemy."""

    def __init__(self, statement) -> None:
        self.statement = statement
        self._compiled: dict[str, tuple[str, dict]] = {}

    def _sql(self, dialect) -> tuple[str, dict]:
        got = self._compiled.get(dialect.name)
        if got is None:
            compiled = self.statement.compile(dialect=dialect)
            got = self._compiled[dialect.name] = (compiled.string, dict(compiled.params))
        return got

    async def rows(self, conn: AsyncConnection, params: dict) -> list[tuple]:
        if conn.dialect.name != "postgresql":
            result = await conn.execute(self.statement, params)
            return [tuple(r) for r in result.all()] if result.returns_rows else []
        sql, defaults = self._sql(conn.dialect)
        raw = (await conn.get_raw_connection()).driver_connection
        cur = await raw.execute(sql, {**defaults, **params})
        return await cur.fetchall() if cur.description else []
