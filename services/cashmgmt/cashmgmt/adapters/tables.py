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
                      sa.Index("ix_statement_line_fingerprint", "bank_account_id", "fingerprint"),
                      sa.Index("ix_statement_line_company_status", "company_id", "status", "currency"))

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


class OpenItemRow(SQLModel, table=True):
    """A document whose money is expected on the bank, from what AR and AP published (and our
    own transfers): what reconciliation matches statement lines against. `open` is what is
    still expected (money in positive)."""

    __tablename__ = "cash_open_item"
    __table_args__ = (sa.Index("ix_cash_open_item_open", "company_id", "currency", "is_open"),)

    company_id: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    key: str = Field(sa_column=sa.Column(sa.String(120), primary_key=True))  # kind:document_id[:leg]
    kind: str = Field(sa_column=_s(20))
    document_id: str = Field(sa_column=_s(64))
    number: str = Field(sa_column=_s(80))
    party: str = Field(sa_column=_s(40))
    currency: str = Field(sa_column=_s(3))
    amount: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    open: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    is_open: bool = Field(sa_column=sa.Column(sa.Boolean, nullable=False))
    item_date: dt.date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    references: list = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    bank_account: str = Field(sa_column=_s(40))
    updated_at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))


class PartyRow(SQLModel, table=True):
    """Customers and suppliers as AR and AP published them, with the IBANs they pay from/to."""

    __tablename__ = "cash_party"

    company_id: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    code: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    kind: str = Field(sa_column=_s(10))  # customer | supplier
    name: str = Field(sa_column=_s(200))
    ibans: list = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    currency: str = Field(default="", sa_column=sa.Column(sa.String(3), nullable=False, server_default=""))


class Allocation(SQLModel, table=True):
    """What a reconciled line took of an open item. `confirmed` once the owning context booked
    it (AR's receipt for a line we identified); until then it holds the item's amount so a
    later line cannot take it twice."""

    __tablename__ = "cash_allocation"
    __table_args__ = (sa.Index("ix_cash_allocation_item", "company_id", "item_key", "confirmed"),)

    line_id: int = Field(sa_column=sa.Column(sa.BigInteger, primary_key=True))
    item_key: str = Field(sa_column=sa.Column(sa.String(120), primary_key=True))
    company_id: str = Field(sa_column=_s(40))
    amount: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    confirmed: bool = Field(sa_column=sa.Column(sa.Boolean, nullable=False))


class Reconciliation(SQLModel, table=True):
    """The decision on one statement line: by which rule, what it was found to be, the
    candidates with their scores, and who accepted or rejected it."""

    __tablename__ = "cash_reconciliation"
    __table_args__ = (sa.Index("ix_cash_reconciliation_status", "company_id", "status"),)

    line_id: int = Field(sa_column=sa.Column(sa.BigInteger, primary_key=True))
    company_id: str = Field(sa_column=_s(40))
    rule: str = Field(sa_column=_s(60))
    action: str = Field(sa_column=_s(20))  # charge | interest | match | receipt | customer_receipt | suspense
    # auto | review | accepted | rejected | unmatched
    status: str = Field(sa_column=_s(10))
    candidates: list = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    chosen: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, nullable=True))
    party: str = Field(sa_column=_s(40))
    decided_by: str = Field(sa_column=_s(100))
    decided_at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
