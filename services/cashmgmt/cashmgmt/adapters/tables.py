"""Cash-management tables: bank accounts (with the CSV mapping of their bank), internal
transfers, and statements kept with their lines as received (the file itself too)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from fincore.tables import BigId
from sqlmodel import Field, SQLModel

Amount = sa.Numeric(20, 4)


def _s(n: int, **kw) -> sa.Column:
    return sa.Column(sa.String(n), nullable=False, **kw)


class BankAccount(SQLModel, table=True):
    __tablename__ = "cash_bank_account"
    __table_args__ = (sa.UniqueConstraint("company_id", "code", name="uq_bank_account_code"),
                      sa.Index("ix_bank_account_iban", "iban"),
                      sa.Index("ix_bank_account_number", "account_number"))

    id: str = Field(sa_column=sa.Column(sa.String(36), primary_key=True))
    company_id: str = Field(sa_column=_s(40))
    code: str = Field(sa_column=_s(40))
    name: str = Field(sa_column=_s(200))
    currency: str = Field(sa_column=_s(3))
    iban: str = Field(sa_column=_s(34))  # "" when the bank gives a local account number only
    bic: str = Field(sa_column=_s(11))
    account_number: str = Field(sa_column=_s(40))
    gl_account: str = Field(sa_column=_s(20))
    # A saved CSV column mapping for this account's bank (bankfiles.read_csv).
    csv_mapping: dict | None = Field(default=None, sa_column=sa.Column(sa.JSON, nullable=True))
    created_at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))


class InternalTransferRow(SQLModel, table=True):
    __tablename__ = "cash_internal_transfer"
    __table_args__ = (sa.UniqueConstraint("company_id", "number", name="uq_internal_transfer_number"),)

    id: str = Field(sa_column=sa.Column(sa.String(36), primary_key=True))
    company_id: str = Field(sa_column=_s(40))
    number: str = Field(sa_column=_s(40))
    transfer_date: dt.date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    from_account_id: str = Field(sa_column=_s(36))
    to_account_id: str = Field(sa_column=_s(36))
    amount: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    currency: str = Field(sa_column=_s(3))
    to_amount: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    to_currency: str = Field(sa_column=_s(3))
    reference: str = Field(sa_column=_s(140))
    created_by: str = Field(sa_column=_s(100))
    created_at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))


class Statement(SQLModel, table=True):
    """A bank statement as received: never changed after import."""

    __tablename__ = "cash_statement"
    __table_args__ = (sa.UniqueConstraint("bank_account_id", "statement_id", name="uq_statement_id"),
                      sa.UniqueConstraint("bank_account_id", "lines_digest", name="uq_statement_lines"),
                      sa.Index("ix_statement_account_seq", "bank_account_id", "seq"))

    id: str = Field(sa_column=sa.Column(sa.String(36), primary_key=True))
    company_id: str = Field(sa_column=_s(40))
    bank_account_id: str = Field(sa_column=sa.Column(sa.String(36), sa.ForeignKey("cash_bank_account.id"),
                                                     nullable=False))
    # Order of import within the account (1, 2, ...): the previous statement is seq - 1.
    seq: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    statement_id: str = Field(sa_column=_s(80))
    format: str = Field(sa_column=_s(20))
    sequence: str = Field(sa_column=_s(40))
    currency: str = Field(sa_column=_s(3))
    opening_balance: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    closing_balance: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    opening_date: dt.date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    closing_date: dt.date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    line_count: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    lines_digest: str = Field(sa_column=_s(64))
    file_name: str = Field(sa_column=_s(255))
    file_sha256: str = Field(sa_column=_s(64))
    imported_by: str = Field(sa_column=_s(100))
    imported_at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))


class StatementFile(SQLModel, table=True):
    """The file a statement came in, byte for byte (one file may hold several statements)."""

    __tablename__ = "cash_statement_file"

    sha256: str = Field(sa_column=sa.Column(sa.String(64), primary_key=True))
    content: bytes = Field(sa_column=sa.Column(sa.LargeBinary, nullable=False))
    received_at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))


class StatementLine(SQLModel, table=True):
    __tablename__ = "cash_statement_line"
    __table_args__ = (sa.UniqueConstraint("statement_id", "line_no", name="uq_statement_line_no"),
                      sa.Index("ix_statement_line_account", "bank_account_id", "status"),
                      sa.Index("ix_statement_line_fingerprint", "bank_account_id", "fingerprint"))

    id: int | None = Field(default=None, sa_column=sa.Column(BigId, primary_key=True, autoincrement=True))
    statement_id: str = Field(sa_column=sa.Column(sa.String(36), sa.ForeignKey("cash_statement.id"),
                                                  nullable=False))
    bank_account_id: str = Field(sa_column=_s(36))
    company_id: str = Field(sa_column=_s(40))
    line_no: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    booking_date: dt.date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    value_date: dt.date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    amount: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))  # money in positive
    currency: str = Field(sa_column=_s(3))
    reference: str = Field(sa_column=_s(500))
    counterparty_name: str = Field(sa_column=_s(200))
    counterparty_iban: str = Field(sa_column=_s(34))
    description: str = Field(sa_column=_s(500))
    bank_reference: str = Field(sa_column=_s(80))
    bank_code: str = Field(sa_column=_s(40))
    fingerprint: str = Field(sa_column=_s(64))
    # What reconciliation made of the line: open | matched | review | posted (charge, interest)
    status: str = Field(default="open", sa_column=sa.Column(sa.String(10), nullable=False, server_default="open"))
