"""Budget tables. A budget *version* (original, revised) holds lines; approving a version makes
its lines the effective `budget_line`s. Consumption is kept as rows, never as a running total
alone: reservations (encumbrances), commitments (approved invoices waiting for their journal)
and actuals (journal lines from the GL), so every figure can be recomputed and explained."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from fincore.rates import ConvertedFrom
from fincore.tables import BigId
from sqlmodel import Field, SQLModel

Amount = sa.Numeric(20, 4)


def _s(n: int, **kw) -> sa.Column:
    return sa.Column(sa.String(n), nullable=False, **kw)


class BudgetItem(SQLModel, table=True):
    __tablename__ = "budget_item"

    company_id: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    code: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    name: str = Field(sa_column=_s(200))
    updated_at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))


class ItemAccount(SQLModel, table=True):
    """GL account -> budget item: how a journal line becomes an actual of a budget line."""

    __tablename__ = "budget_item_account"

    company_id: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    account_code: str = Field(sa_column=sa.Column(sa.String(20), primary_key=True))
    budget_item: str = Field(sa_column=_s(40))


class BudgetVersion(SQLModel, table=True):
    __tablename__ = "budget_version"
    __table_args__ = (sa.UniqueConstraint("company_id", "code", name="uq_budget_version_code"),)

    id: str = Field(sa_column=sa.Column(sa.String(36), primary_key=True))
    company_id: str = Field(sa_column=_s(40))
    code: str = Field(sa_column=_s(40))
    kind: str = Field(sa_column=_s(10))  # original | revised
    currency: str = Field(sa_column=_s(3))
    status: str = Field(sa_column=_s(10))  # draft | approved
    description: str = Field(sa_column=_s(300))
    created_by: str = Field(sa_column=_s(100))
    created_at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    approved_by: str | None = Field(default=None, sa_column=sa.Column(sa.String(100), nullable=True))
    approved_at: dt.datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True)))


class VersionLine(SQLModel, table=True):
    __tablename__ = "budget_version_line"

    version_id: str = Field(sa_column=sa.Column(sa.String(36), sa.ForeignKey("budget_version.id"), primary_key=True))
    cost_centre: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    budget_item: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    period: str = Field(sa_column=sa.Column(sa.String(7), primary_key=True))
    amount: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    control_mode: str = Field(sa_column=_s(5))  # block | warn | none
    tolerance_pct: Decimal = Field(sa_column=sa.Column(sa.Numeric(7, 3), nullable=False))


class BudgetLine(SQLModel, table=True):
    """The effective budget of one company x cost centre x budget item x month."""

    __tablename__ = "budget_line"
    __table_args__ = (sa.UniqueConstraint("company_id", "cost_centre", "budget_item", "period",
                                          name="uq_budget_line"),)

    id: str = Field(sa_column=sa.Column(sa.String(36), primary_key=True))
    company_id: str = Field(sa_column=_s(40))
    cost_centre: str = Field(sa_column=_s(40))
    budget_item: str = Field(sa_column=_s(40))
    period: str = Field(sa_column=_s(7))
    currency: str = Field(sa_column=_s(3))
    amount: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    control_mode: str = Field(sa_column=_s(5))
    tolerance_pct: Decimal = Field(sa_column=sa.Column(sa.Numeric(7, 3), nullable=False))
    version_id: str = Field(sa_column=_s(36))
    version_code: str = Field(sa_column=_s(40))
    # Running totals, changed only under the line's row lock or by atomic increments, in the
    # same transaction as the rows they sum (reservations, commitments, actuals): a check
    # reads one row however many documents the line has. reserved_total still includes
    # reservations that lapsed since the last sweep; readers subtract those (an index range
    # that is empty most of the time).
    actual_total: Decimal = Field(default=Decimal(0), sa_column=sa.Column(Amount, nullable=False, server_default="0"))
    committed_total: Decimal = Field(default=Decimal(0),
                                     sa_column=sa.Column(Amount, nullable=False, server_default="0"))
    reserved_total: Decimal = Field(default=Decimal(0), sa_column=sa.Column(Amount, nullable=False, server_default="0"))
    updated_at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))


class Reservation(ConvertedFrom, table=True):
    """An encumbrance: budget held for a requisition, order or claim until it is invoiced,
    released or lapses (`expires_at`). In the line's currency; a request in another currency
    is converted at the ledger's rate of the day (ConvertedFrom records from what)."""

    __tablename__ = "budget_reservation"
    __table_args__ = (sa.Index("ix_reservation_line", "line_id", "status", "expires_at"),)

    company_id: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    document_ref: str = Field(sa_column=sa.Column(sa.String(120), primary_key=True))
    line_id: str = Field(sa_column=_s(36))
    requested: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    amount: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))  # still reserved
    status: str = Field(sa_column=_s(10))  # reserved | committed | released | expired
    warning: bool = Field(sa_column=sa.Column(sa.Boolean, nullable=False))
    expires_at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    created_at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))


class Commitment(ConvertedFrom, table=True):
    """Spend made firm by an approved invoice; `actualised` grows as its journal arrives."""

    __tablename__ = "budget_commitment"
    __table_args__ = (sa.Index("ix_commitment_invoice", "company_id", "invoice_ref"),
                      sa.Index("ix_commitment_line", "line_id"))

    company_id: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    document_ref: str = Field(sa_column=sa.Column(sa.String(120), primary_key=True))
    invoice_ref: str = Field(sa_column=sa.Column(sa.String(80), primary_key=True))
    line_id: str = Field(sa_column=_s(36))
    amount: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    actualised: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    created_at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))


class Actual(SQLModel, table=True):
    """A GL journal line charged to a budget line (from JournalPosted); or, for an invoice whose
    journal touches no budgeted account (a stock purchase), its commitment made actual by that
    journal (journal_line_no 0, document_ref = the commitment's)."""

    __tablename__ = "budget_actual"
    __table_args__ = (sa.UniqueConstraint("journal_id", "journal_line_no", "document_ref",
                                          name="uq_actual_journal_line"),
                      sa.Index("ix_actual_line", "line_id"))

    id: int | None = Field(default=None, sa_column=sa.Column(BigId, primary_key=True, autoincrement=True))
    company_id: str = Field(sa_column=_s(40))
    line_id: str = Field(sa_column=_s(36))
    journal_id: str = Field(sa_column=_s(36))
    journal_line_no: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    document_ref: str = Field(default="", sa_column=sa.Column(sa.String(120), nullable=False, server_default=""))
    journal_number: str = Field(sa_column=_s(40))
    source_document: str = Field(sa_column=_s(80))
    account_code: str = Field(sa_column=_s(20))
    amount: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))  # debit positive
    posted_on: dt.date = Field(sa_column=sa.Column(sa.Date, nullable=False))


class ThresholdHit(SQLModel, table=True):
    """A threshold event already published for a line under its current version (sent once)."""

    __tablename__ = "budget_threshold_hit"

    line_id: str = Field(sa_column=sa.Column(sa.String(36), primary_key=True))
    version_id: str = Field(sa_column=sa.Column(sa.String(36), primary_key=True))
    threshold: int = Field(sa_column=sa.Column(sa.Integer, primary_key=True))
    reached_at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
