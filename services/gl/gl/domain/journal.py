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


# DraftLine and JournalDraft are frozen dataclasses (equality, repr, `dataclasses.replace`)
# with hand-written initialisers: the posting consumer builds ~4 of them per event, and a
# frozen dataclass's generated __init__ (object.__setattr__ per field, then __post_init__)
# cost ~1.9 us a line. These check the same things and store the fields directly.


@dataclass(frozen=True, init=False)
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
    txn_amount: Decimal = ZERO
    # The business document (aggregate id) whose open item this control-account line opens
    # or relieves (gl/domain/settlement.py); empty on other lines.
    open_item: str = ""

    def __init__(self, account_code: str, debit: Decimal, credit: Decimal, currency: str, memo: str = "",
                 dimensions: dict[str, str] | None = None, cash_flow_item: str = "", txn_currency: str = "",
                 txn_amount: Decimal = ZERO, open_item: str = "") -> None:
        if debit < 0 or credit < 0:
            raise ValueError("debit and credit are never negative (a negative amount flips the side)")
        if debit and credit:
            raise ValueError("a line is a debit or a credit, not both")
        if dimensions is None:
            dimensions = {}
        elif not dimensions.keys() <= _DIMENSION_SET:
            raise ValueError(f"unknown dimensions {sorted(set(dimensions) - _DIMENSION_SET)}")
        v = self.__dict__
        v["account_code"], v["debit"], v["credit"], v["currency"], v["memo"] = (
            account_code, debit, credit, currency, memo)
        v["dimensions"], v["cash_flow_item"], v["txn_currency"], v["txn_amount"], v["open_item"] = (
            dimensions, cash_flow_item, txn_currency, txn_amount, open_item)


@dataclass(frozen=True, init=False)
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

    def __init__(self, company_id: str, posting_date: dt.date, currency: str, description: str,
                 lines: tuple[DraftLine, ...], source_event_id: str = "", source_event_type: str = "",
                 source_document: str = "", rule_id: str = "", rule_version: int = 0) -> None:
        if len(lines) < 2:
            raise UnbalancedJournal("a journal needs at least two lines")
        q = quantum(currency)
        dr = cr = ZERO
        for line in lines:  # checked and totalled in one pass (every posted journal is built here)
            if line.currency != currency:
                raise UnbalancedJournal(f"line in {line.currency} on a {currency} journal")
            d, c = line.debit, line.credit
            if d != d.quantize(q) or c != c.quantize(q):  # money.is_quantized, inline
                raise UnbalancedJournal(f"amount finer than the {currency} minor unit on {line.account_code}")
            dr += d
            cr += c
        if dr != cr:
            raise UnbalancedJournal(f"debits {dr} != credits {cr} ({description})")
        if dr == ZERO:
            raise UnbalancedJournal("a journal of zero amount posts nothing")
        v = self.__dict__
        v["company_id"], v["posting_date"], v["currency"], v["description"], v["lines"] = (
            company_id, posting_date, currency, description, lines)
        v["source_event_id"], v["source_event_type"], v["source_document"], v["rule_id"], v["rule_version"] = (
            source_event_id, source_event_type, source_document, rule_id, rule_version)
        # the cached properties' values (functools.cached_property takes a lock per first read)
        v["total_debit"], v["total_credit"], v["period"] = dr, cr, _period(posting_date)

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
