"""For tests of a row lock's read (fincore.db.locked) on PostgreSQL: a scratch database, and a
wait until another transaction queues for a lock this one holds. SQLite has no row locks (its
file lock serialises writers), so these interleavings happen on PostgreSQL only."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Iterator

import sqlalchemy as sa

from fincore.testing.infra import _libpq, check_postgres

PG_ADMIN = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@contextlib.contextmanager
def scratch_database(prefix: str, admin_url: str = PG_ADMIN) -> Iterator[str]:
    """The URL of a new database on the test server, dropped afterwards."""
    import psycopg

    check_postgres(admin_url)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_libpq(admin_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(_libpq(admin_url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def scratch_url(kind: str, tmp_path, prefix: str) -> Iterator[str]:
    """A new database of `kind` ("postgresql": `scratch_database`, dropped afterwards; "sqlite":
    a file `prefix`.db under `tmp_path`), for tests run on both."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / f'{prefix}.db'}"
        return
    with scratch_database(prefix) as url:
        yield url


async def waiting_for_a_row_lock(db, timeout_s: float = 30) -> None:
    """Until another connection to `db`'s database waits for a lock."""
    q = sa.text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        async with db.sessions() as s:
            if (await s.execute(q)).scalar_one():
                return
        assert loop.time() < deadline, "no transaction ever waited for the lock"
        await asyncio.sleep(0.02)
