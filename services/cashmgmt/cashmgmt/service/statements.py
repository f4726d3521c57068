"""Importing bank statements: parse, check against the account's history, keep as received.

One file is one transaction: every statement in it is accepted or none is (a refusal names
the statement and the rule; nothing is kept). The account's row is locked while its
history is checked and extended, so two imports for one account cannot both pass the
continuity check against the same previous statement."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from finance.cashmgmt.v1 import events_pb2 as ev
from fincore import dates, money
from fincore.db import bulk_insert
from fincore.outbox import add_event
from fincore.tables import utcnow
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils import uuid7

from cashmgmt.adapters import bankfiles
from cashmgmt.adapters.tables import BankAccount, Statement, StatementFile, StatementLine
from cashmgmt.domain.statements import (
    DuplicateStatement,
    ParsedStatement,
    StatementRefused,
    check_continuity,
    check_statement,
    line_fingerprint,
    lines_digest,
    pending_value,
)
from cashmgmt.service.accounts import SOURCE, AccountNotFound, account_by_code


@dataclass(frozen=True)
class CsvOptions:
    statement_id: str = ""
    opening_balance: Decimal | None = None
    closing_balance: Decimal | None = None


def parse_file(data: bytes, fmt: str, account: BankAccount | None, csv: CsvOptions) -> list[ParsedStatement]:
    if fmt == "auto":
        fmt = bankfiles.detect_format(data)
    if fmt == "camt053":
        return bankfiles.read_camt053(data)
    if fmt == "mt940":
        return bankfiles.read_mt940(data)
    if fmt != "csv":
        raise StatementRefused(f"format is one of auto, {', '.join(bankfiles.FORMATS)}")
    if account is None:
        raise StatementRefused("a CSV statement names no account: give bank_account")
    if not account.csv_mapping:
        raise StatementRefused(f"bank account {account.code} has no saved CSV mapping")
    if not csv.statement_id:
        raise StatementRefused("a CSV statement needs statement_id")
    return bankfiles.read_csv(data, account.csv_mapping, statement_id=csv.statement_id, currency=account.currency,
                              opening_balance=csv.opening_balance, closing_balance=csv.closing_balance)


async def _account_of(session: AsyncSession, company_id: str, st: ParsedStatement,
                      given: BankAccount | None) -> BankAccount:
    ids = [x for x in (st.iban, st.account_number) if x]
    if given is not None:
        if ids and given.iban not in ids and given.account_number not in ids:
            raise StatementRefused(f"statement {st.statement_id} is of account {ids[0]}, not of {given.code}")
        return given
    if not ids:
        raise StatementRefused(f"statement {st.statement_id} names no account: give bank_account")
    found = (await session.execute(sa.select(BankAccount).where(
        BankAccount.company_id == company_id,
        sa.or_(*(sa.and_(col == x, col != "") for x in ids for col in (BankAccount.iban, BankAccount.account_number)))
    ))).scalars().first()
    if found is None:
        raise AccountNotFound(f"company {company_id} has no bank account {ids[0]}")
    return found


async def import_file(session: AsyncSession, *, company_id: str, data: bytes, fmt: str = "auto",
                      bank_account: str = "", csv: CsvOptions = CsvOptions(), file_name: str = "",
                      imported_by: str) -> list[Statement]:
    given = await account_by_code(session, company_id, bank_account) if bank_account else None
    parsed = parse_file(data, fmt, given, csv)
    digest = hashlib.sha256(data).hexdigest()
    if await session.get(StatementFile, digest) is None:
        session.add(StatementFile(sha256=digest, content=data, received_at=utcnow()))
    out = []
    for st in parsed:
        account = await _account_of(session, company_id, st, given)
        # Lock the account: its history is read and extended in this transaction.
        await session.execute(sa.select(BankAccount.id).where(BankAccount.id == account.id).with_for_update())
        out.append(await _keep(session, account, st, digest, file_name, imported_by))
    return out


async def _keep(session: AsyncSession, account: BankAccount, st: ParsedStatement, file_digest: str,
                file_name: str, imported_by: str) -> Statement:
    check_statement(st, account_currency=account.currency)
    digest = lines_digest(st)
    same = (await session.execute(sa.select(Statement.statement_id).where(
        Statement.bank_account_id == account.id,
        sa.or_(Statement.statement_id == st.statement_id, Statement.lines_digest == digest)))).scalars().first()
    if same is not None:
        what = "was imported" if same == st.statement_id else f"has the same lines as statement {same}"
        raise DuplicateStatement(f"statement {st.statement_id} of {account.code} {what} already")
    prints = [line_fingerprint(ln) for ln in st.lines]
    referenced = [p for p, ln in zip(prints, st.lines, strict=True) if ln.bank_reference]
    for part in range(0, len(referenced), 1000):
        seen = (await session.execute(sa.select(StatementLine.line_no, Statement.statement_id).join(
            Statement, Statement.id == StatementLine.statement_id).where(
            StatementLine.bank_account_id == account.id,
            StatementLine.fingerprint.in_(referenced[part:part + 1000])).limit(1))).first()
        if seen is not None:
            raise DuplicateStatement(f"statement {st.statement_id} repeats line {seen[0]} of statement {seen[1]} "
                                     f"of {account.code}")
    prev = (await session.execute(sa.select(Statement).where(Statement.bank_account_id == account.id)
                                  .order_by(Statement.seq.desc()).limit(1))).scalar_one_or_none()
    check_continuity(st, previous_id=prev.statement_id if prev else None,
                     previous_closing=prev.closing_balance if prev else None,
                     previous_to=prev.closing_date if prev else None)
    row = Statement(
        id=str(uuid7()), company_id=account.company_id, bank_account_id=account.id, seq=(prev.seq + 1) if prev else 1,
        statement_id=st.statement_id, format=st.format, sequence=st.sequence[:40], currency=st.currency,
        opening_balance=st.opening_balance, closing_balance=st.closing_balance, opening_date=st.opening_date,
        closing_date=st.closing_date, line_count=len(st.lines), lines_digest=digest, file_name=file_name[:255],
        file_sha256=file_digest, imported_by=imported_by, imported_at=utcnow())
    session.add(row)
    await session.flush()
    await bulk_insert(session, StatementLine.__table__, [
        {"statement_id": row.id, "bank_account_id": account.id, "company_id": account.company_id, "line_no": i,
         "booking_date": ln.booking_date, "value_date": ln.value_date, "amount": ln.amount, "currency": st.currency,
         "reference": ln.reference[:500], "counterparty_name": ln.counterparty_name[:200],
         "counterparty_iban": ln.counterparty_iban[:34], "description": ln.description[:500],
         "bank_reference": ln.bank_reference[:80], "bank_code": ln.bank_code[:40], "fingerprint": fp,
         "status": "open"}
        for i, (ln, fp) in enumerate(zip(st.lines, prints, strict=True), start=1)])
    cur = st.currency
    add_event(session, ev.BankStatementImported(
        company_id=account.company_id, document_number=st.statement_id,
        occurrence_date=dates.to_proto(st.closing_date), statement_id=row.id, bank_account=account.code,
        format=st.format, from_date=dates.to_proto(st.from_date), to_date=dates.to_proto(st.to_date),
        opening_balance=money.to_proto(st.opening_balance, cur),
        closing_balance=money.to_proto(st.closing_balance, cur),
        line_count=len(st.lines), total_credits=money.to_proto(st.credits, cur),
        total_debits=money.to_proto(st.debits, cur),
        pending_value=[ev.ValueDatedAmount(value_date=dates.to_proto(on), amount=money.to_proto(amount, cur))
                       for on, amount in pending_value(st)]), source=SOURCE)
    return row
