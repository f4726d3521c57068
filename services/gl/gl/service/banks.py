"""What the ledger learns from cash management's master data: which ledger sub-account each
bank account posts to, and the closing balance of each imported statement. Neither makes a
journal; the posting consumer records them (its inbox keeps a redelivery from acting twice).
An event read before the bank account it names waits for it (gl.domain.settlement
AwaitingBankAccount) and posts in the transaction that learns the account (gl.service.posting)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from finance.cashmgmt.v1 import events_pb2 as cash
from fincore import dates, money
from sqlalchemy.ext.asyncio import AsyncSession

from gl.adapters.tables import BankAccountMap, BankStatementBalance

OPENED = "finance.cashmgmt.BankAccountOpened.v1"
LEARNED_TYPES = {OPENED, "finance.cashmgmt.BankStatementImported.v1"}
CACHE = "gl.bank_accounts"


async def learn(session: AsyncSession, msg) -> None:
    if isinstance(msg, cash.BankAccountOpened):
        row = await session.get(BankAccountMap, (msg.company_id, msg.bank_account))
        if row is None:
            session.add(BankAccountMap(company_id=msg.company_id, code=msg.bank_account, gl_account=msg.gl_account,
                                       currency=msg.currency))
        else:
            row.gl_account, row.currency = msg.gl_account, msg.currency
        session.info.get(CACHE, {}).pop(msg.company_id, None)
    elif isinstance(msg, cash.BankStatementImported):
        key = (msg.company_id, msg.bank_account, msg.document_number)
        if await session.get(BankStatementBalance, key) is None:
            session.add(BankStatementBalance(
                company_id=msg.company_id, bank_account=msg.bank_account, statement_id=msg.document_number,
                closing_date=dates.from_proto(msg.occurrence_date),
                closing_balance=money.from_proto(msg.closing_balance), currency=msg.closing_balance.currency_code))


async def bank_accounts(session: AsyncSession, company_id: str) -> dict[str, str]:
    """The company's bank account codes -> ledger sub-accounts (read once per batch)."""
    cache = session.info.setdefault(CACHE, {})
    if company_id not in cache:
        cache[company_id] = dict((await session.execute(sa.select(BankAccountMap.code, BankAccountMap.gl_account)
                                                        .where(BankAccountMap.company_id == company_id))).all())
    return cache[company_id]


async def learned(session: AsyncSession, company_id: str) -> list[tuple[str, str, str]]:
    """(code, ledger sub-account, currency) of each bank account the ledger learned."""
    return [tuple(r) for r in (await session.execute(
        sa.select(BankAccountMap.code, BankAccountMap.gl_account, BankAccountMap.currency)
        .where(BankAccountMap.company_id == company_id).order_by(BankAccountMap.code))).all()]


async def statement_assertions(session: AsyncSession, company_id: str, currency: str) -> list[str]:
    """hledger balance assertions: each bank sub-account (of accounts in the export's currency)
    equals the closing balance of its bank accounts' last statements, on the latest of their dates."""
    accounts = (await session.execute(sa.select(BankAccountMap).where(BankAccountMap.company_id == company_id)
                                      .order_by(BankAccountMap.code))).scalars().all()
    by_gl: dict[str, list[tuple[str, BankStatementBalance]]] = {}
    skipped = []
    for a in accounts:
        last = (await session.execute(sa.select(BankStatementBalance).where(
            BankStatementBalance.company_id == company_id, BankStatementBalance.bank_account == a.code)
            .order_by(BankStatementBalance.closing_date.desc(), BankStatementBalance.statement_id.desc())
            .limit(1))).scalar_one_or_none()
        if last is None:
            continue
        if a.currency != currency:
            skipped.append(f"; {a.code} ({a.currency}, {a.gl_account}): not asserted, this export is in {currency}\n")
            continue
        by_gl.setdefault(a.gl_account, []).append((a.code, last))
    out = ["; the ledger's bank sub-accounts against the bank statements' closing balances (cash management)\n",
           *skipped]
    for gl_account, pairs in sorted(by_gl.items()):
        on: dt.date = max(st.closing_date for _, st in pairs)
        total = sum((st.closing_balance for _, st in pairs), Decimal(0))
        names = ", ".join(f"{code} {st.statement_id}" for code, st in pairs)
        out.append(f"{on.isoformat()} bank statement {names}  ; kind:assertion\n"
                   f"    assets:{gl_account}  0 {currency} = {money.format_amount(total, currency)} {currency}\n\n")
    return out
