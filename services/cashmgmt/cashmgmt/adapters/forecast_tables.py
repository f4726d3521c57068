"""Forecast snapshots (each forecast kept as it was made, with every document behind it, so it
can be compared with what the bank later shows) and the budget items mapped to the forecast."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from fincore.tables import BigId
from sqlmodel import Field, SQLModel

Amount = sa.Numeric(20, 4)


def _s(n: int, **kw) -> sa.Column:
    return sa.Column(sa.String(n), nullable=False, **kw)


class CashForecast(SQLModel, table=True):
    __tablename__ = "cash_forecast"
    __table_args__ = (sa.Index("ix_cash_forecast_company", "company_id", "created_at"),)

    id: str = Field(sa_column=sa.Column(sa.String(36), primary_key=True))
    company_id: str = Field(sa_column=_s(40))
    as_of: dt.date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    first_week: dt.date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    opening: dict = Field(sa_column=sa.Column(sa.JSON, nullable=False))  # currency -> bank balance at as_of
    days_late: dict = Field(sa_column=sa.Column(sa.JSON, nullable=False))  # customer -> learned days
    created_by: str = Field(sa_column=_s(100))
    created_at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))


class CashForecastLine(SQLModel, table=True):
    __tablename__ = "cash_forecast_line"
    __table_args__ = (sa.Index("ix_cash_forecast_line_week", "forecast_id", "currency", "week"),)

    id: int | None = Field(default=None, sa_column=sa.Column(BigId, primary_key=True, autoincrement=True))
    forecast_id: str = Field(sa_column=sa.Column(sa.String(36), sa.ForeignKey("cash_forecast.id"), nullable=False))
    week: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, nullable=True))  # None: beyond
    source: str = Field(sa_column=_s(20))
    currency: str = Field(sa_column=_s(3))
    expected_on: dt.date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    amount: Decimal = Field(sa_column=sa.Column(Amount, nullable=False))  # money in positive
    document_kind: str = Field(sa_column=_s(20))
    document_id: str = Field(sa_column=_s(120))
    number: str = Field(sa_column=_s(120))
    party: str = Field(sa_column=_s(40))
    basis: str = Field(sa_column=_s(300))


class ForecastBudgetMapping(SQLModel, table=True):
    __tablename__ = "cash_forecast_budget_item"

    company_id: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    budget_item: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    direction: str = Field(sa_column=_s(3))  # in | out
    day_of_month: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    updated_by: str = Field(sa_column=_s(100))
    updated_at: dt.datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
