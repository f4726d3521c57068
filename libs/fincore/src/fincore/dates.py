from __future__ import annotations

import datetime as dt

from finance.common.v1 import types_pb2

MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(2199, 12, 31)


def to_proto(d: dt.date) -> types_pb2.Date:
    return types_pb2.Date(year=d.year, month=d.month, day=d.day)


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
