"""Dates at the edges: the supported range, protobuf Date, accounting periods.

Every date a service accepts lies in 1900-01-01 .. 2199-12-31: wide enough for any business
date, narrow enough that date arithmetic (a period's end, a due date, a year-end close) never
leaves what Python and the databases represent. Request schemas get the check from
`fincore.schemas.StrictModel`; query and path parameters use `Date` (and `Period` for
"YYYY-MM") from here."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from finance.common.v1 import types_pb2
from pydantic import AfterValidator, Field
from pydantic_core import core_schema

MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(2199, 12, 31)


def in_range(d: dt.date) -> dt.date:
    day = d.date() if isinstance(d, dt.datetime) else d
    if not MIN_DATE <= day <= MAX_DATE:
        raise ValueError(f"date out of the supported range {MIN_DATE}..{MAX_DATE}")
    return d


def _period_in_range(p: str) -> str:
    if not MIN_DATE.year <= int(p[:4]) <= MAX_DATE.year:
        raise ValueError(f"period out of the supported range {MIN_DATE.year}-01..{MAX_DATE.year}-12")
    return p


class Date(dt.date):
    """A date in the supported range (a class, not Annotated metadata: FastAPI drops the latter
    when a parameter's default is `Query(...)`). Validated values are plain `datetime.date`."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source, handler):
        return core_schema.no_info_after_validator_function(in_range, core_schema.date_schema())


class DateTime(dt.datetime):
    """A date-time in the supported range; validated values are plain `datetime.datetime`."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source, handler):
        return core_schema.no_info_after_validator_function(in_range, core_schema.datetime_schema())


Period = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2026-11"]),
                   AfterValidator(_period_in_range)]


def to_proto(d: dt.date) -> types_pb2.Date:
    return fill(types_pb2.Date(), d)


def fill(msg: types_pb2.Date, d: dt.date) -> types_pb2.Date:
    """Write `d` into the Date message `msg` in place (a field of a message being built: no
    Date made first and copied in); returns `msg`."""
    msg.year, msg.month, msg.day = d.year, d.month, d.day
    return msg


def from_proto(d: types_pb2.Date) -> dt.date:
    return dt.date(d.year, d.month, d.day)


def period_of(d: dt.date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def period_start(period: str) -> dt.date:
    """'2026-11' -> 2026-11-01."""
    y, m = (int(x) for x in period.split("-"))
    return dt.date(y, m, 1)


def period_end(period: str) -> dt.date:
    """'2026-11' -> 2026-11-30 (the last day of the month)."""
    y, m = (int(x) for x in period.split("-"))
    return dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)
