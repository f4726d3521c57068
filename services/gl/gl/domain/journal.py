"""Journals as the domain sees them: pure values, no I/O. A draft that does not balance
can not be built, so nothing downstream ever sees one."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from fincore.money import ZERO, quantum

DIMENSIONS = ("cost_centre", "department", "product", "customer", "supplier", "project", "region",
              "sales_team", "intercompany_partner")
_DIMENSION_SET = frozenset(DIMENSIONS)


class UnbalancedJournal(ValueError):
    pass


@dataclass(frozen=True)
class DraftLine:
    account_code: str
    debit: Decimal
    credit: Decimal
    currency: str
    memo: str = ""
    dimensions: dict[str, str] = field(default_factory=dict)
    cash_flow_item: str = ""
    # The amount in the transaction currency when it is not the functional one (signed:
    # positive on a debit line); debit/credit are always in the functional currency.
    txn_currency: str = ""
    txn_amount: Decimal = Decimal(0)
    # The business document (aggregate id) whose open item this control-account line opens
    # or relieves (gl/domain/settlement.py); empty on other lines.
    open_item: str = ""

    def __post_init__(self) -> None:
        if self.debit < 0 or self.credit < 0:
            raise ValueError("debit and credit are never negative (a negative amount flips the side)")
        if self.debit and self.credit:
            raise ValueError("a line is a debit or a credit, not both")
        if not self.dimensions.keys() <= _DIMENSION_SET:
            raise ValueError(f"unknown dimensions {sorted(set(self.dimensions) - _DIMENSION_SET)}")


@dataclass(frozen=True)
class JournalDraft:
    company_id: str
    posting_date: dt.date
    currency: str
    description: str
    lines: tuple[DraftLine, ...]
    source_event_id: str = ""
    source_event_type: str = ""
    source_document: str = ""
    rule_id: str = ""
    rule_version: int = 0

    def __post_init__(self) -> None:
        if len(self.lines) < 2:
            raise UnbalancedJournal("a journal needs at least two lines")
        q = quantum(self.currency)
        dr = cr = ZERO
        for line in self.lines:  # checked and totalled in one pass (every posted journal is built here)
            if line.currency != self.currency:
                raise UnbalancedJournal(f"line in {line.currency} on a {self.currency} journal")
            d, c = line.debit, line.credit
            if d != d.quantize(q) or c != c.quantize(q):  # money.is_quantized, inline
                raise UnbalancedJournal(f"amount finer than the {self.currency} minor unit on {line.account_code}")
            dr += d
            cr += c
        self.__dict__["total_debit"], self.__dict__["total_credit"] = dr, cr  # the cached properties' values
        if self.total_debit != self.total_credit:
            raise UnbalancedJournal(
                f"debits {self.total_debit} != credits {self.total_credit} ({self.description})")
        if self.total_debit == ZERO:
            raise UnbalancedJournal("a journal of zero amount posts nothing")

    # Computed once per draft (the posting path asks for each several times); a draft is
    # immutable, so the cached values stay true.
    @cached_property
    def total_debit(self) -> Decimal:
        return sum((line.debit for line in self.lines), ZERO)

    @cached_property
    def total_credit(self) -> Decimal:
        return sum((line.credit for line in self.lines), ZERO)

    @cached_property
    def period(self) -> str:
        return _period(self.posting_date)


def _period(d: dt.date) -> str:
    return f"{d.year:04d}-{d.month:02d}"
