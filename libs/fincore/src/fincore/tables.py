"""Platform tables every service database holds: outbox, inbox, dead letters.

Each service's first Alembic migration calls `create_platform_tables(op)`; the SQLModel
classes below are how the code reads and writes them.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class OutboxRecord(SQLModel, table=True):
    """An event written with the state change that caused it (see fincore.outbox). Rows are
    only ever inserted and, after the retention window, deleted: which of them still wait for
    the relay is kept in `outbox_pending` (platform schema v4)."""

    __tablename__ = "outbox"
    __table_args__ = (sa.Index("ix_outbox_created_at", "created_at"),)

    id: int | None = Field(default=None, sa_column=sa.Column(BigId, primary_key=True, autoincrement=True))
    event_id: str = Field(sa_column=sa.Column(sa.String(36), nullable=False, unique=True))
    topic: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    msg_key: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    ce_type: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    headers: dict = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    payload: bytes = Field(sa_column=sa.Column(sa.LargeBinary, nullable=False))
    created_at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))


class OutboxPending(SQLModel, table=True):
    """The id of an outbox row the relay has not published yet (platform schema v4).

    A trigger on the outbox adds the row's id in the inserting transaction, whatever wrote the
    row (ORM, Core, COPY); the relay deletes the ids it has published in the transaction that
    read them. The outbox row itself is never updated: marking it published in place rewrote
    the whole ~1.5 KB row (never a HOT update, since the unpublished-rows index named the
    column) and left a dead copy and four index entries per event for vacuum. This table's
    rows are one integer, its churn costs vacuum little, and what is waiting is what is in it."""

    __tablename__ = "outbox_pending"

    id: int = Field(sa_column=sa.Column(BigId, primary_key=True, autoincrement=False))


def outbox_pending_ddl(dialect: str) -> list[str]:
    """The trigger that enqueues each new outbox row's id in outbox_pending. On PostgreSQL one
    statement-level trigger per insert statement (a COPY of 2,000 rows is one INSERT ...
    SELECT from its transition table); on SQLite a row trigger."""
    if dialect == "postgresql":
        return [
            """CREATE OR REPLACE FUNCTION fincore_outbox_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO outbox_pending (id) SELECT id FROM new_rows;
                RETURN NULL;
            END $$""",
            """CREATE TRIGGER outbox_enqueue AFTER INSERT ON outbox REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION fincore_outbox_enqueue()""",
        ]
    return ["""CREATE TRIGGER outbox_enqueue AFTER INSERT ON outbox FOR EACH ROW
               BEGIN INSERT INTO outbox_pending (id) VALUES (NEW.id); END"""]


def create_outbox_tables(conn) -> None:
    """The outbox, its pending list and the trigger between them on a sync connection, for
    tests that build a schema without a service's migrations (services run their migrations)."""
    SQLModel.metadata.create_all(conn, tables=[OutboxRecord.__table__, OutboxPending.__table__])
    for statement in outbox_pending_ddl(conn.dialect.name):
        conn.exec_driver_sql(statement)


class InboxRecord(SQLModel, table=True):
    __tablename__ = "inbox"

    consumer: str = Field(sa_column=sa.Column(sa.String(100), primary_key=True))
    event_id: str = Field(sa_column=sa.Column(sa.String(64), primary_key=True))
    processed_at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))


class DeadLetter(SQLModel, table=True):
    __tablename__ = "dead_letter"

    id: int | None = Field(default=None, sa_column=sa.Column(BigId, primary_key=True, autoincrement=True))
    consumer: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    topic: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    partition: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    offset: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    event_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(64), nullable=True))
    ce_type: str | None = Field(default=None, sa_column=sa.Column(sa.String(255), nullable=True))
    msg_key: bytes | None = Field(default=None, sa_column=sa.Column(sa.LargeBinary, nullable=True))
    headers: dict = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    payload: bytes | None = Field(default=None, sa_column=sa.Column(sa.LargeBinary, nullable=True))
    error: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    # The event's company (platform schema v2): admins see the dead letters of their companies.
    company_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(40), nullable=True))
    attempts: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    failed_at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    replayed_at: dt.datetime | None = Field(
        default=None, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=True)
    )


def create_platform_tables(op) -> None:
    """Alembic: create outbox, inbox and dead_letter (platform schema v1)."""
    op.create_table(
        "outbox",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("topic", sa.String(255), nullable=False),
        sa.Column("msg_key", sa.String(255), nullable=False),
        sa.Column("ce_type", sa.String(255), nullable=False),
        sa.Column("headers", sa.JSON, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_outbox_unpublished", "outbox", ["id"],
                    postgresql_where=sa.text("published_at IS NULL"),
                    sqlite_where=sa.text("published_at IS NULL"))
    op.create_index("ix_outbox_created_at", "outbox", ["created_at"])
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(100), primary_key=True),
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "dead_letter",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("consumer", sa.String(100), nullable=False),
        sa.Column("topic", sa.String(255), nullable=False),
        sa.Column("partition", sa.Integer, nullable=False),
        sa.Column("offset", sa.BigInteger, nullable=False),
        sa.Column("event_id", sa.String(64), nullable=True),
        sa.Column("ce_type", sa.String(255), nullable=True),
        sa.Column("msg_key", sa.LargeBinary, nullable=True),
        sa.Column("headers", sa.JSON, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=True),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replayed_at", sa.DateTime(timezone=True), nullable=True),
    )


def drop_platform_tables(op) -> None:
    op.drop_table("dead_letter")
    op.drop_table("inbox")
    op.drop_index("ix_outbox_created_at", "outbox")
    op.drop_index("ix_outbox_unpublished", "outbox")
    op.drop_table("outbox")


class IdempotencyRecord(SQLModel, table=True):
    """One Idempotency-Key of one client (the token's subject) and the answer it got.

    The row is inserted in the same transaction as the request's effect (see
    fincore.idempotency), so the primary key decides which of two concurrent requests has the
    effect; the response is recorded once the request has been answered."""

    __tablename__ = "idempotency_key"

    subject: str = Field(sa_column=sa.Column(sa.String(255), primary_key=True))
    key: str = Field(sa_column=sa.Column(sa.String(255), primary_key=True))
    fingerprint: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    method: str = Field(sa_column=sa.Column(sa.String(10), nullable=False))
    path: str = Field(sa_column=sa.Column(sa.String(1000), nullable=False))
    status_code: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, nullable=True))
    response_body: bytes | None = Field(default=None, sa_column=sa.Column(sa.LargeBinary, nullable=True))
    response_headers: dict | None = Field(default=None, sa_column=sa.Column(sa.JSON, nullable=True))
    created_at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    completed_at: dt.datetime | None = Field(
        default=None, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=True)
    )


def create_platform_tables_v2(op) -> None:
    """Alembic: platform schema v2: the idempotency_key table and the dead letters' company."""
    op.add_column("dead_letter", sa.Column("company_id", sa.String(40), nullable=True))
    op.create_index("ix_dead_letter_company_id", "dead_letter", ["company_id"])
    op.create_table(
        "idempotency_key",
        sa.Column("subject", sa.String(255), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("path", sa.String(1000), nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("response_body", sa.LargeBinary, nullable=True),
        sa.Column("response_headers", sa.JSON, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_idempotency_key_created_at", "idempotency_key", ["created_at"])


def drop_platform_tables_v2(op) -> None:
    op.drop_index("ix_idempotency_key_created_at", "idempotency_key")
    op.drop_table("idempotency_key")
    op.drop_index("ix_dead_letter_company_id", "dead_letter")
    with op.batch_alter_table("dead_letter") as batch:
        batch.drop_column("company_id")


# PostgreSQL: the outbox wakes its relay. A statement-level trigger notifies on the channel
# below whenever rows are inserted (ORM, Core or COPY alike); PostgreSQL delivers the
# notification when the inserting transaction commits, once per transaction, and never for a
# rolled-back one. The relay LISTENs and publishes at once instead of polling 20 times a
# second; it still polls now and then, so a lost notification only delays, never loses.
OUTBOX_CHANNEL = "fincore_outbox"


def create_platform_tables_v3(op) -> None:
    """Alembic: platform schema v3: the outbox's commit notification (PostgreSQL only)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"""
        CREATE OR REPLACE FUNCTION fincore_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{OUTBOX_CHANNEL}', '');
            RETURN NULL;
        END $$""")
    op.execute("""
        CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
        FOR EACH STATEMENT EXECUTE FUNCTION fincore_outbox_notify()""")


def drop_platform_tables_v3(op) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS outbox_notify ON outbox")
    op.execute("DROP FUNCTION IF EXISTS fincore_outbox_notify()")


def create_platform_tables_v4(op) -> None:
    """Alembic: platform schema v4: what waits for the relay is the outbox_pending table (the
    ids of the outbox rows not yet published), filled by a trigger on the outbox; the outbox's
    published_at column and its partial index go. See OutboxPending for why."""
    dialect = op.get_bind().dialect.name
    op.create_table("outbox_pending", sa.Column("id", BigId, primary_key=True, autoincrement=False))
    op.execute("INSERT INTO outbox_pending (id) SELECT id FROM outbox WHERE published_at IS NULL")
    op.drop_index("ix_outbox_unpublished", "outbox")
    with op.batch_alter_table("outbox") as batch:  # SQLite rebuilds the table: triggers after it
        batch.drop_column("published_at")
    for statement in outbox_pending_ddl(dialect):
        op.execute(statement)


def drop_platform_tables_v4(op) -> None:
    """Back to v3: rows still pending get published_at NULL, the others the time of the downgrade."""
    dialect = op.get_bind().dialect.name
    op.execute("DROP TRIGGER IF EXISTS outbox_enqueue" + (" ON outbox" if dialect == "postgresql" else ""))
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS fincore_outbox_enqueue()")
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("published_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE outbox SET published_at = CURRENT_TIMESTAMP "
               "WHERE id NOT IN (SELECT id FROM outbox_pending)")
    op.create_index("ix_outbox_unpublished", "outbox", ["id"],
                    postgresql_where=sa.text("published_at IS NULL"),
                    sqlite_where=sa.text("published_at IS NULL"))
    op.drop_table("outbox_pending")
