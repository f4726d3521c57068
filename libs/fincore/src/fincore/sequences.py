"""Gap-free document numbers per scope (company + document type + period).

A counter row is bumped with UPDATE ... RETURNING in the caller's transaction, so numbers
of a rolled-back transaction are reused and committed documents have no gaps (an auditor's
expectation for vouchers). `allocate(n)` takes a whole block for a batch in one statement,
`allocate_many` blocks in several scopes in one statement.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from fincore.db import HotStatement


class DocumentSequence(SQLModel, table=True):
    __tablename__ = "document_sequence"

    scope: str = Field(sa_column=sa.Column(sa.String(120), primary_key=True))
    last_value: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))


def create_sequence_table(op) -> None:
    op.create_table(
        "document_sequence",
        sa.Column("scope", sa.String(120), primary_key=True),
        sa.Column("last_value", sa.BigInteger, nullable=False),
    )


_T = DocumentSequence.__table__
_BUMP = HotStatement(sa.update(_T).where(_T.c.scope == sa.bindparam("b_scope"))
                     .values(last_value=_T.c.last_value + sa.bindparam("n", type_=sa.BigInteger))
                     .returning(_T.c.last_value))


async def allocate(session: AsyncSession, scope: str, n: int = 1) -> int:
    """Reserve `n` numbers in `scope`; returns the first one."""
    table = DocumentSequence.__table__
    conn = await session.connection()
    if conn.dialect.name == "postgresql":  # hot (the GL's posting consumer takes a block per poll)
        rows = await _BUMP.rows(conn, {"b_scope": scope, "n": n})
        last = rows[0][0] if rows else None
    else:
        last = (await session.execute(_BUMP.statement, {"b_scope": scope, "n": n})).scalar_one_or_none()
    if last is None:
        dialect = session.bind.dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        stmt = insert(table).values(scope=scope, last_value=n)
        stmt = stmt.on_conflict_do_update(index_elements=["scope"], set_={"last_value": table.c.last_value + n})
        last = (await session.execute(stmt.returning(table.c.last_value))).scalar_one()
    return last - n + 1


# Several counters bumped in one round trip. The rows are locked in the order the join meets them:
# callers that bump several scopes hold a lock that orders them first (the GL's posting takes its
# companies' rows, in company order, before their journal counters).
_BUMP_MANY = HotStatement(sa.text(
    "UPDATE document_sequence AS d SET last_value = d.last_value + x.n "
    "FROM unnest(CAST(:scopes AS varchar[]), CAST(:ns AS bigint[])) AS x(scope, n) "
    "WHERE d.scope = x.scope RETURNING d.scope, d.last_value"))


async def allocate_many(session: AsyncSession, blocks: dict[str, int]) -> dict[str, int]:
    """Reserve blocks[scope] numbers in each scope; returns each scope's first number."""
    conn = await session.connection()
    if conn.dialect.name != "postgresql" or len(blocks) == 1:
        return {scope: await allocate(session, scope, n) for scope, n in blocks.items()}
    scopes = sorted(blocks)
    rows = await _BUMP_MANY.rows(conn, {"scopes": scopes, "ns": [blocks[s] for s in scopes]})
    first = {scope: last - blocks[scope] + 1 for scope, last in rows}
    for scope in scopes:
        if scope not in first:  # a new scope (the first document of its period): its row is made
            first[scope] = await allocate(session, scope, blocks[scope])
    return first
