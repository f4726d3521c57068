"""Consolidation's own tables: the projection of the entities' ledgers, the group structure, the
group's rate table and intercompany stock, and the stored runs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

Amount = sa.Numeric(20, 4)
Pct = sa.Numeric(9, 6)


def _s(n: int, **kw) -> sa.Column:
    return sa.Column(sa.String(n), nullable=False, **kw)


class EntityBalance(SQLModel, table=True):
    """The net of an entity's journal lines per day, account and intercompany partner (and, on
    intercompany lines, per document and transaction currency), in its functional currency."""

    __tablename__ = "entity_balance"
    __table_args__ = (sa.Index("ix_entity_balance_company_period", "company_id", "period"),)

    company_id: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    posting_date: dt.date = Field(sa_column=sa.Column(sa.Date, primary_key=True))
    account_code: str = Field(sa_column=sa.Column(sa.String(20), primary_key=True))
    partner: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    txn_currency: str = Field(sa_column=sa.Column(sa.String(3), primary_key=True))
    document: str = Field(sa_column=sa.Column(sa.String(80), primary_key=True))
    period: str = Field(sa_column=_s(7))
    amount: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    txn_amount: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    lines: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))


class EntityCompany(SQLModel, table=True):
    """A company whose journals were seen, with its functional currency (of its journal lines)."""

    __tablename__ = "entity_company"

    company_id: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    functional_currency: str = Field(sa_column=_s(3))
    journals: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    last_posted_at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))


class EntityPeriod(SQLModel, table=True):
    """A period's state in the entity's ledger: closed (final), reopened (flagged: no longer final)."""

    __tablename__ = "entity_period"

    company_id: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    period: str = Field(sa_column=sa.Column(sa.String(7), primary_key=True))
    status: str = Field(sa_column=_s(10))  # closed | reopened
    closed_at: dt.datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True)))
    reopened_at: dt.datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True)))
    reason: str = Field(default="", sa_column=_s(500))
    # A journal posted into the period after it was closed (e.g. the year-end close).
    changed_after_close: bool = Field(default=False, sa_column=sa.Column(sa.Boolean, nullable=False))


class GroupRow(SQLModel, table=True):
    __tablename__ = "consolidation_group"

    id: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    name: str = Field(sa_column=_s(200))
    presentation_currency: str = Field(sa_column=_s(3))
    parent_company: str = Field(sa_column=_s(40))
    created_at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))


class GroupEntity(SQLModel, table=True):
    __tablename__ = "group_entity"

    group_id: str = Field(sa_column=sa.Column(sa.String(40), sa.ForeignKey("consolidation_group.id"),
                                              primary_key=True))
    company_id: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    name: str = Field(sa_column=_s(200))
    functional_currency: str = Field(sa_column=_s(3))
    chart: str = Field(sa_column=_s(20))  # cas | ifrs: the mapping onto the group chart
    # Account-code prefix -> group account, over the chart's mapping; accounts at the day's rate.
    mapping_overrides: dict = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    transaction_rate_accounts: list = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    # Subsidiaries: the acquisition (IFRS 3); null on the parent.
    acquired_on: dt.date | None = Field(default=None, sa_column=sa.Column(sa.Date))
    pct: Decimal | None = Field(default=None, sa_column=sa.Column(Pct))
    consideration: Decimal | None = Field(default=None, sa_column=sa.Column(Amount))
    fv_net_assets: Decimal | None = Field(default=None, sa_column=sa.Column(Amount))


class OwnershipChangeRow(SQLModel, table=True):
    __tablename__ = "ownership_change"

    group_id: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    company_id: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    changed_on: dt.date = Field(sa_column=sa.Column(sa.Date, primary_key=True))
    pct: Decimal = Field(sa_column=sa.Column(Pct, nullable=False))
    consideration: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))


class GroupRate(SQLModel, table=True):
    """The group's rate table: closing and historical rates by day, average rates by month."""

    __tablename__ = "group_rate"

    group_id: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    rate_type: str = Field(sa_column=sa.Column(sa.String(10), primary_key=True))
    currency: str = Field(sa_column=sa.Column(sa.String(3), primary_key=True))
    key: str = Field(sa_column=sa.Column(sa.String(10), primary_key=True))
    rate: Decimal = Field(sa_column=sa.Column(sa.Numeric(20, 10), nullable=False))


class IcInventoryRow(SQLModel, table=True):
    __tablename__ = "ic_inventory"

    group_id: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    holder: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    seller: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    held_on: dt.date = Field(sa_column=sa.Column(sa.Date, primary_key=True))
    amount: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))
    margin: Decimal = Field(sa_column=sa.Column(Pct, nullable=False))
    bought_on: dt.date | None = Field(default=None, sa_column=sa.Column(sa.Date))


class Run(SQLModel, table=True):
    """A stored consolidation: its figures with the structure and rates it used."""

    __tablename__ = "consolidation_run"
    __table_args__ = (sa.Index("ix_run_group", "group_id", "period_to"),)

    id: str = Field(sa_column=sa.Column(sa.String(36), primary_key=True))
    group_id: str = Field(sa_column=_s(40))
    period_from: str = Field(sa_column=_s(7))
    period_to: str = Field(sa_column=_s(7))
    final: bool = Field(sa_column=sa.Column(sa.Boolean, nullable=False))
    # A period it covers was reopened after the run: no longer the final figures.
    superseded: bool = Field(default=False, sa_column=sa.Column(sa.Boolean, nullable=False))
    trigger: str = Field(sa_column=_s(40))  # api | period-closed
    created_by: str = Field(sa_column=_s(100))
    created_at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    digest: str = Field(sa_column=_s(64))  # of the inputs: the same inputs give the same digest and figures
    structure: dict = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    rates: list = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    result: dict = Field(sa_column=sa.Column(sa.JSON, nullable=False))
