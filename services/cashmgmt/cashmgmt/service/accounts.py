"""Bank accounts of a company and transfers between them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from finance.cashmgmt.v1 import events_pb2 as ev
from fincore import dates, money
from fincore.bank import BankDetailsError, validate_bank_details
from fincore.outbox import add_event
from fincore.sequences import allocate
from fincore.tables import utcnow
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils import uuid7

from cashmgmt.adapters.tables import BankAccount, InternalTransferRow, OpenItemRow

SOURCE = "cashmgmt"


class AccountError(ValueError):
    pass


class AccountNotFound(LookupError):
    pass


async def open_account(session: AsyncSession, *, company_id: str, code: str, name: str, currency: str,
                       iban: str, bic: str, account_number: str, gl_account: str,
                       opened_on: dt.date) -> BankAccount:
    money.minor_units(currency)
    try:
        d = validate_bank_details(iban, bic, account_number, required=True, local_number=True)
    except BankDetailsError as exc:
        raise AccountError(str(exc)) from exc
    iban, bic, account_number = d.iban, d.bic, d.account_number
    if not gl_account.isdigit():
        raise AccountError(f"gl_account {gl_account!r}: an account code of the ledger (digits)")
    clash = (await session.execute(sa.select(BankAccount.code).where(
        BankAccount.company_id == company_id,
        sa.or_(BankAccount.code == code,
               sa.and_(BankAccount.iban == iban, BankAccount.iban != "") if iban else sa.false(),
               sa.and_(BankAccount.account_number == account_number, BankAccount.account_number != "")
               if account_number else sa.false())))).scalars().first()
    if clash is not None:
        raise AccountError(f"bank account {clash} already has this code, IBAN or account number")
    acct = BankAccount(id=str(uuid7()), company_id=company_id, code=code, name=name, currency=currency, iban=iban,
                       bic=bic, account_number=account_number, gl_account=gl_account, created_at=utcnow())
    session.add(acct)
    await session.flush()
    add_event(session, ev.BankAccountOpened(
        company_id=company_id, document_number=code, occurrence_date=dates.to_proto(opened_on), bank_account=code,
        name=name, currency=currency, iban=iban, bic=bic, account_number=account_number, gl_account=gl_account),
        source=SOURCE)
    return acct


async def account_by_code(session: AsyncSession, company_id: str, code: str) -> BankAccount:
    acct = (await session.execute(sa.select(BankAccount).where(
        BankAccount.company_id == company_id, BankAccount.code == code))).scalar_one_or_none()
    if acct is None:
        raise AccountNotFound(f"company {company_id} has no bank account {code!r}")
    return acct


async def transfer(session: AsyncSession, *, company_id: str, from_code: str, to_code: str, amount: Decimal,
                   to_amount: Decimal | None, on: dt.date, reference: str, created_by: str) -> InternalTransferRow:
    """Money moved between two of the company's accounts. Between currencies the caller says
    what reached the receiving account (`to_amount`); the ledger values each leg at its own
    rate of the day and books the difference as realised FX."""
    if from_code == to_code:
        raise AccountError("a transfer needs two different accounts")
    src = await account_by_code(session, company_id, from_code)
    dst = await account_by_code(session, company_id, to_code)
    if amount <= 0 or not money.is_quantized(amount, src.currency):
        raise AccountError(f"amount must be > 0 in {src.currency} minor units")
    if to_amount is None:
        if src.currency != dst.currency:
            raise AccountError(f"{from_code} is in {src.currency}, {to_code} in {dst.currency}: give to_amount, "
                               "what reached the receiving account")
        to_amount = amount
    if to_amount <= 0 or not money.is_quantized(to_amount, dst.currency):
        raise AccountError(f"to_amount must be > 0 in {dst.currency} minor units")
    if src.currency == dst.currency and to_amount != amount:
        raise AccountError("between accounts of one currency what arrives is what left (to_amount = amount)")
    n = await allocate(session, f"{company_id}:TRF:{on.year}")
    row = InternalTransferRow(
        id=str(uuid7()), company_id=company_id, number=f"TRF-{on.year}-{n:06d}", transfer_date=on,
        from_account_id=src.id, to_account_id=dst.id, amount=amount, currency=src.currency, to_amount=to_amount,
        to_currency=dst.currency, reference=reference, created_by=created_by, created_at=utcnow())
    session.add(row)
    # both legs are expected on the bank statements: reconciliation matches them
    for leg, acct, amt in (("out", src, -amount), ("in", dst, to_amount)):
        session.add(OpenItemRow(company_id=company_id, key=f"transfer:{row.id}:{leg}", kind="transfer",
                                document_id=row.id, number=row.number, party="", currency=acct.currency, amount=amt,
                                open=amt, is_open=True, item_date=on, references=[reference] if reference else [],
                                bank_account=acct.code, updated_at=utcnow()))
    add_event(session, ev.InternalTransfer(
        company_id=company_id, document_number=row.number, occurrence_date=dates.to_proto(on), transfer_id=row.id,
        from_bank_account=src.code, to_bank_account=dst.code, amount=money.to_proto(amount, src.currency),
        to_amount=money.to_proto(to_amount, dst.currency), from_gl_account=src.gl_account,
        to_gl_account=dst.gl_account, reference=reference), source=SOURCE)
    return row
