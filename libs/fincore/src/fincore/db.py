"""Database engine, sessions and migrations for SQLite (embedded) and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy import types as sa_types
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def is_sqlite(url_or_engine: str | AsyncEngine) -> bool:
    name = url_or_engine if isinstance(url_or_engine, str) else url_or_engine.url.drivername
    return name.startswith("sqlite")


def make_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    if is_sqlite(url):
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_async_engine(url, echo=echo, pool_size=10, max_overflow=10, pool_pre_ping=True)


class Database:
    """One per process: the engine and a session factory. Created by `main`, passed in."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo)
        self.sessions = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.url)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work commits together or not at all."""
        async with self.sessions() as session, session.begin():
            yield session

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

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


async def bulk_insert(session: AsyncSession, table, rows: list[dict]) -> None:
    """Insert many rows in the session's transaction: COPY on PostgreSQL (one round trip for
    the batch, the fastest path into the database), executemany elsewhere. Rows must all
    have the same keys; columns not given take their defaults (identity ids included)."""
    if not rows:
        return
    if session.bind.dialect.name != "postgresql":
        await session.execute(table.insert(), rows)
        return
    import json

    columns = list(rows[0])
    json_cols = {c.name for c in table.columns if isinstance(c.type, sa_types.JSON) and c.name in columns}
    conn = await session.connection()
    raw = (await conn.get_raw_connection()).driver_connection
    cols = ", ".join(f'"{c}"' for c in columns)
    async with raw.cursor() as cur, cur.copy(f'COPY "{table.name}" ({cols}) FROM STDIN') as copy:
        for row in rows:
            await copy.write_row([json.dumps(row[c]) if c in json_cols else row[c] for c in columns])
