"""GL tables. Journals and their lines are insert-only: the database refuses UPDATE and
DELETE on them (triggers in the migration), and on PostgreSQL a deferred constraint
trigger refuses, at commit, any journal whose lines do not balance."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from fincore.tables import BigId
from sqlmodel import Field, SQLModel

Amount = sa.Numeric(20, 4)


class Company(SQLModel, table=True):
    __tablename__ = "company"

    id: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    functional_currency: str = Field(sa_column=sa.Column(sa.String(3), nullable=False))
    chart_template: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    created_at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))


class Account(SQLModel, table=True):
    __tablename__ = "account"

    company_id: str = Field(sa_column=sa.Column(sa.String(40), sa.ForeignKey("company.id"), primary_key=True))
    code: str = Field(sa_column=sa.Column(sa.String(20), primary_key=True))
    name_zh: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    name_en: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    type: str = Field(sa_column=sa.Column(sa.String(12), nullable=False))
    normal: str = Field(sa_column=sa.Column(sa.String(6), nullable=False))
    control: bool = Field(sa_column=sa.Column(sa.Boolean, nullable=False))
    cash: bool = Field(sa_column=sa.Column(sa.Boolean, nullable=False))
    active: bool = Field(default=True, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.true()))


# ix_journal_kind covers the journals not posted from events; a query for such a kind adds
# `kind != NOT_FROM_EVENTS` (the index's condition, inline) so a generic plan may use it too.
NOT_FROM_EVENTS = sa.literal_column("'event'")


class Journal(SQLModel, table=True):
    __tablename__ = "journal"
    __table_args__ = (
        sa.UniqueConstraint("company_id", "number", name="uq_journal_number"),
        sa.CheckConstraint("total_debit = total_credit", name="ck_journal_balanced"),
        sa.Index("ix_journal_company_date", "company_id", "posting_date"),
        sa.Index("ix_journal_company_posted_at", "company_id", "posted_at"),
        sa.Index("ix_journal_kind", "company_id", "kind", "posting_date", postgresql_where=sa.text("kind <> 'event'"),
                 sqlite_where=sa.text("kind <> 'event'")),
    )

    id: str = Field(sa_column=sa.Column(sa.String(36), primary_key=True))
    company_id: str = Field(sa_column=sa.Column(sa.String(40), sa.ForeignKey("company.id"), nullable=False))
    number: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    posting_date: dt.date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    period: str = Field(sa_column=sa.Column(sa.String(7), nullable=False))
    currency: str = Field(sa_column=sa.Column(sa.String(3), nullable=False))
    description: str = Field(sa_column=sa.Column(sa.String(500), nullable=False))
    total_debit: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    total_credit: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    # Where it came from: the event (unique: one event makes at most one journal), the
    # business document, the rule and version that made it, the trace of the request.
    source_event_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(64), nullable=True, unique=True))
    source_event_type: str = Field(sa_column=sa.Column(sa.String(120), nullable=False))
    source_document: str = Field(sa_column=sa.Column(sa.String(80), nullable=False))
    rule_id: str = Field(sa_column=sa.Column(sa.String(80), nullable=False))
    rule_version: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    trace_id: str = Field(sa_column=sa.Column(sa.String(32), nullable=False))
    posted_at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    # event | manual | reversal | closing | revaluation
    kind: str = Field(default="event", sa_column=sa.Column(sa.String(12), nullable=False, server_default="event"))
    reverses_journal_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(36), nullable=True))
    posted_by: str = Field(default="gl-posting", sa_column=sa.Column(sa.String(120), nullable=False))
    # The author when someone else posted it (manual journals); None for journals made by rules.
    drafted_by: str | None = Field(default=None, sa_column=sa.Column(sa.String(120), nullable=True))


class JournalLine(SQLModel, table=True):
    __tablename__ = "journal_line"
    __table_args__ = (
        sa.CheckConstraint("debit >= 0 AND credit >= 0 AND (debit = 0 OR credit = 0)", name="ck_line_one_side"),
        sa.Index("ix_line_company_account_date", "company_id", "account_code", "posting_date"),
        sa.Index("ix_line_journal", "journal_id"),
        sa.Index("ix_line_open_item", "company_id", "open_item", postgresql_where=sa.text("open_item <> ''"),
                 sqlite_where=sa.text("open_item <> ''")),
    )

    id: int | None = Field(default=None, sa_column=sa.Column(BigId, primary_key=True, autoincrement=True))
    # Checked at commit: a journal's lines are written before it, and the statement that
    # inserts the journal checks its balance against them (GL migration 0017). On PostgreSQL
    # the key is a check per INSERT of lines instead of per line (migration 0018); SQLite
    # keeps the foreign key.
    journal_id: str = Field(sa_column=sa.Column(sa.String(36), sa.ForeignKey("journal.id", deferrable=True,
                                                                             initially="DEFERRED"), nullable=False))
    line_no: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    # Denormalised from the header so balances read one table.
    company_id: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    posting_date: dt.date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    account_code: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    debit: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    credit: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    currency: str = Field(sa_column=sa.Column(sa.String(3), nullable=False))
    memo: str = Field(sa_column=sa.Column(sa.String(500), nullable=False))
    cost_centre: str = Field(default="", sa_column=sa.Column(sa.String(40), nullable=False, server_default=""))
    department: str = Field(default="", sa_column=sa.Column(sa.String(40), nullable=False, server_default=""))
    product: str = Field(default="", sa_column=sa.Column(sa.String(40), nullable=False, server_default=""))
    customer: str = Field(default="", sa_column=sa.Column(sa.String(40), nullable=False, server_default=""))
    supplier: str = Field(default="", sa_column=sa.Column(sa.String(40), nullable=False, server_default=""))
    project: str = Field(default="", sa_column=sa.Column(sa.String(40), nullable=False, server_default=""))
    region: str = Field(default="", sa_column=sa.Column(sa.String(40), nullable=False, server_default=""))
    sales_team: str = Field(default="", sa_column=sa.Column(sa.String(40), nullable=False, server_default=""))
    intercompany_partner: str = Field(default="", sa_column=sa.Column(sa.String(40), nullable=False,
                                                                      server_default=""))
    cash_flow_item: str = Field(default="", sa_column=sa.Column(sa.String(40), nullable=False, server_default=""))
    # Amount in the transaction currency (signed: debit positive) when it differs from the
    # functional currency; debit/credit are always functional.
    txn_currency: str = Field(default="", sa_column=sa.Column(sa.String(3), nullable=False, server_default=""))
    txn_amount: Decimal = Field(default=Decimal(0), sa_column=sa.Column(Amount, nullable=False, server_default="0"))
    # The document (aggregate id) whose open item the line opens or relieves, on control accounts.
    open_item: str = Field(default="", sa_column=sa.Column(sa.String(64), nullable=False, server_default=""))


class SourceEvent(SQLModel, table=True):
    __tablename__ = "source_event"
    __table_args__ = (sa.Index("ix_source_subject", "company_id", "subject"),)

    event_id: str = Field(sa_column=sa.Column(sa.String(64), primary_key=True))
    event_type: str = Field(sa_column=sa.Column(sa.String(120), nullable=False))
    source: str = Field(sa_column=sa.Column(sa.String(80), nullable=False))
    subject: str = Field(sa_column=sa.Column(sa.String(120), nullable=False))
    company_id: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    document_number: str = Field(sa_column=sa.Column(sa.String(80), nullable=False))
    occurrence_date: dt.date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    payload: bytes = Field(sa_column=sa.Column(sa.LargeBinary, nullable=False))
    trace_id: str = Field(sa_column=sa.Column(sa.String(32), nullable=False))
    received_at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))


class Period(SQLModel, table=True):
    __tablename__ = "period"

    company_id: str = Field(sa_column=sa.Column(sa.String(40), sa.ForeignKey("company.id"), primary_key=True))
    period: str = Field(sa_column=sa.Column(sa.String(7), primary_key=True))
    status: str = Field(sa_column=sa.Column(sa.String(10), nullable=False))
    changed_at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    changed_by: str = Field(sa_column=sa.Column(sa.String(120), nullable=False))


class PeriodAudit(SQLModel, table=True):
    __tablename__ = "period_audit"

    id: int | None = Field(default=None, sa_column=sa.Column(BigId, primary_key=True, autoincrement=True))
    company_id: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    period: str = Field(sa_column=sa.Column(sa.String(7), nullable=False))
    action: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    reason: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    actor: str = Field(sa_column=sa.Column(sa.String(120), nullable=False))
    at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))


class ParkedEvent(SQLModel, table=True):
    __tablename__ = "parked_event"
    __table_args__ = (sa.Index("ix_parked_awaiting", "company_id", "awaiting"),)

    event_id: str = Field(sa_column=sa.Column(sa.String(64), sa.ForeignKey("source_event.event_id"), primary_key=True))
    company_id: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    period: str = Field(sa_column=sa.Column(sa.String(7), nullable=False))
    reason: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    parked_at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    resolved_at: dt.datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True)))
    resolution: str | None = Field(default=None, sa_column=sa.Column(sa.String(200)))
    resolved_by: str | None = Field(default=None, sa_column=sa.Column(sa.String(120)))
    # A settlement parked until the document it settles posts (then it posts by itself).
    awaiting: str | None = Field(default=None, sa_column=sa.Column(sa.String(120)))


class ManualJournal(SQLModel, table=True):
    __tablename__ = "manual_journal"

    id: str = Field(sa_column=sa.Column(sa.String(36), primary_key=True))
    company_id: str = Field(sa_column=sa.Column(sa.String(40), sa.ForeignKey("company.id"), nullable=False))
    posting_date: dt.date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    description: str = Field(sa_column=sa.Column(sa.String(500), nullable=False))
    lines: list = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    status: str = Field(sa_column=sa.Column(sa.String(10), nullable=False))
    created_by: str = Field(sa_column=sa.Column(sa.String(120), nullable=False))
    created_at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    journal_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(36), nullable=True))


class ExchangeRate(SQLModel, table=True):
    __tablename__ = "exchange_rate"

    company_id: str = Field(sa_column=sa.Column(sa.String(40), sa.ForeignKey("company.id"), primary_key=True))
    currency: str = Field(sa_column=sa.Column(sa.String(3), primary_key=True))
    rate_date: dt.date = Field(sa_column=sa.Column(sa.Date, primary_key=True))
    rate: Decimal = Field(sa_column=sa.Column(sa.Numeric(20, 10), nullable=False))


class PeriodBalance(SQLModel, table=True):
    __tablename__ = "period_balance"

    company_id: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    account_code: str = Field(sa_column=sa.Column(sa.String(20), primary_key=True))
    period: str = Field(sa_column=sa.Column(sa.String(7), primary_key=True))
    debit: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    credit: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))


class CounterpartyBalance(SQLModel, table=True):
    """Turnover per account, counterparty, transaction currency and month on the accounts the
    chart keeps by a counterparty (`Chart.by_counterparty`: receivables by customer, payables
    by supplier), kept in the posting transaction like period_balance: the balance sheet
    presents a customer's credit balance as an advance without reading every line."""

    __tablename__ = "counterparty_balance"
    __table_args__ = (sa.Index("ix_counterparty_balance_period", "company_id", "account_code", "period"),)

    company_id: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    account_code: str = Field(sa_column=sa.Column(sa.String(20), primary_key=True))
    counterparty: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))  # '' when the line has none
    currency: str = Field(sa_column=sa.Column(sa.String(3), primary_key=True))  # the lines' txn_currency ('')
    period: str = Field(sa_column=sa.Column(sa.String(7), primary_key=True))
    debit: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))  # functional
    credit: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    txn_amount: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))  # signed, in `currency`


class CounterpartyTotal(SQLModel, table=True):
    """counterparty_balance over all months, kept in the same statement: a balance as of a
    date is the total less the months after it (none, for a balance sheet of the current
    month), so the balance sheet reads one row per counterparty, not one per month."""

    __tablename__ = "counterparty_total"

    company_id: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    account_code: str = Field(sa_column=sa.Column(sa.String(20), primary_key=True))
    counterparty: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    currency: str = Field(sa_column=sa.Column(sa.String(3), primary_key=True))
    debit: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    credit: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    txn_amount: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))


class LegacyOpenItem(SQLModel, table=True):
    """What one journal posted by a rule version without open items did to one document's
    balance on one control account, derived from its posted lines (gl.service.legacy)."""

    __tablename__ = "legacy_open_item"
    __table_args__ = (sa.Index("ix_legacy_open_item_doc", "company_id", "open_item"),)

    journal_id: str = Field(sa_column=sa.Column(sa.String(36), sa.ForeignKey("journal.id"), primary_key=True))
    open_item: str = Field(sa_column=sa.Column(sa.String(64), primary_key=True))
    account_code: str = Field(sa_column=sa.Column(sa.String(20), primary_key=True))
    company_id: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    txn_currency: str = Field(sa_column=sa.Column(sa.String(3), nullable=False))
    txn_amount: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    functional: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))  # debit - credit
    derived_at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    derived_by: str = Field(sa_column=sa.Column(sa.String(120), nullable=False))


class LegacyOpenItemScan(SQLModel, table=True):
    """How far a company's journals have been read for legacy open items (posted_at)."""

    __tablename__ = "legacy_open_item_scan"

    company_id: str = Field(sa_column=sa.Column(sa.String(40), sa.ForeignKey("company.id"), primary_key=True))
    through: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    scanned_at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    scanned_by: str = Field(sa_column=sa.Column(sa.String(120), nullable=False))


class AwaitingDecision(SQLModel, table=True):
    """An operator's decision on a settlement parked awaiting a document (the audit trail)."""

    __tablename__ = "awaiting_decision"

    id: int | None = Field(default=None, sa_column=sa.Column(BigId, primary_key=True, autoincrement=True))
    event_id: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, index=True))
    company_id: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    event_type: str = Field(sa_column=sa.Column(sa.String(120), nullable=False))
    document_number: str = Field(sa_column=sa.Column(sa.String(80), nullable=False))
    awaiting: str = Field(sa_column=sa.Column(sa.String(120), nullable=False))
    action: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))  # posted | dead_lettered
    reason: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    actor: str = Field(sa_column=sa.Column(sa.String(120), nullable=False))
    decided_at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    parked_at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    journal_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(36), nullable=True))
    dead_letter_id: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger, nullable=True))


class BankAccountMap(SQLModel, table=True):
    """Bank accounts as cash management opened them (BankAccountOpened): the ledger sub-account
    each posts to. A receipt or payment naming the account posts there (rules' `bank_account`)."""

    __tablename__ = "bank_account_map"

    company_id: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    code: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    gl_account: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    currency: str = Field(sa_column=sa.Column(sa.String(3), nullable=False))


class BankStatementBalance(SQLModel, table=True):
    """Closing balances of the bank statements cash management imported (BankStatementImported):
    the hledger export asserts the ledger's bank sub-account against the last one."""

    __tablename__ = "bank_statement_balance"

    company_id: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    bank_account: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    statement_id: str = Field(sa_column=sa.Column(sa.String(80), primary_key=True))
    closing_date: dt.date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    closing_balance: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    currency: str = Field(sa_column=sa.Column(sa.String(3), nullable=False))
