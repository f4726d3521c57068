"""Gap-free document numbers per scope (company + document type + period).

A counter row is bumped with UPDATE ... RETURNING in the caller's transaction, so numbers
of a rolled-back transaction are reused and committed documents have no gaps (an auditor's
expectation for vouchers). `allocate(n)` takes a whole block for a batch in one statement.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel


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


async def allocate(session: AsyncSession, scope: str, n: int = 1) -> int:
    """Reserve `n` numbers in `scope`; returns the first one."""
    table = DocumentSequence.__table__
    res = await session.execute(
        sa.update(table).where(table.c.scope == scope).values(last_value=table.c.last_value + n)
        .returning(table.c.last_value)
    )
    last = res.scalar_one_or_none()
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
