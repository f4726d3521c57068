"""A bank statement as the bank sent it, and what must hold before it is accepted.

Whatever the format (camt.053, MT940, CSV), a file becomes `ParsedStatement`s: the bank's
statement id, the account it belongs to, opening and closing balances and the lines, each
signed from the account holder's side (money in positive). Before a statement is kept:

- its lines add up: opening + sum(lines) = closing, to the minor unit;
- it is continuous with the account's history: its opening balance is the previous
  statement's closing balance (the first statement of an account is its own start);
- it is new: not the same statement id again, nor the same lines under another id;
- its amounts are in the account's currency, at that currency's minor unit.

A refusal names the rule and the figures; nothing of a refused file is kept.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import Decimal

from fincore import money

ZERO = Decimal(0)


class StatementRefused(ValueError):
    """The file or one of its statements is not accepted as it is (nothing is kept)."""

    kind = "statement-refused"


class DuplicateStatement(StatementRefused):
    kind = "duplicate-statement"


class ContinuityBreak(StatementRefused):
    kind = "continuity-break"


class LinesDoNotAddUp(StatementRefused):
    kind = "lines-do-not-add-up"


@dataclass(frozen=True)
class ParsedLine:
    booking_date: dt.date
    value_date: dt.date
    amount: Decimal  # signed: money in (credit) positive, money out (debit) negative
    reference: str = ""  # end-to-end id, structured creditor reference or remittance text
    counterparty_name: str = ""
    counterparty_iban: str = ""
    description: str = ""
    bank_reference: str = ""  # the bank's own id of the entry (AcctSvcrRef, MT940 //ref)
    bank_code: str = ""  # the bank's transaction code (BkTxCd, MT940 type), e.g. CHRG, INTR


@dataclass(frozen=True)
class ParsedStatement:
    format: str  # camt.053.001.02 | camt.053.001.08 | mt940 | csv
    statement_id: str
    currency: str
    opening_balance: Decimal
    closing_balance: Decimal
    opening_date: dt.date
    closing_date: dt.date
    lines: tuple[ParsedLine, ...]
    iban: str = ""
    account_number: str = ""
    sequence: str = ""

    @property
    def from_date(self) -> dt.date:
        return min((ln.booking_date for ln in self.lines), default=self.opening_date)

    @property
    def to_date(self) -> dt.date:
        return max((ln.booking_date for ln in self.lines), default=self.closing_date)

    @property
    def credits(self) -> Decimal:
        return sum((ln.amount for ln in self.lines if ln.amount > 0), ZERO)

    @property
    def debits(self) -> Decimal:
        return -sum((ln.amount for ln in self.lines if ln.amount < 0), ZERO)


def line_fingerprint(ln: ParsedLine) -> str:
    """What makes a line the same line again (for the same account): its dates, amount,
    references and counterparty, as the bank reported them."""
    key = "|".join([ln.booking_date.isoformat(), ln.value_date.isoformat(), str(ln.amount), ln.reference,
                    ln.bank_reference, ln.counterparty_iban, ln.counterparty_name, ln.description])
    return hashlib.sha256(key.encode()).hexdigest()


def pending_value(st: ParsedStatement) -> list[tuple[dt.date, Decimal]]:
    """The statement's amounts the bank values after its closing date, summed by value date:
    in the booked balance, not yet in the value-dated one."""
    later: dict[dt.date, Decimal] = {}
    for ln in st.lines:
        if ln.value_date > st.closing_date:
            later[ln.value_date] = later.get(ln.value_date, ZERO) + ln.amount
    return sorted((on, amount) for on, amount in later.items() if amount)


def lines_digest(st: ParsedStatement) -> str:
    """One digest of all the statement's lines, in order: the same lines again under another
    statement id is a duplicate statement."""
    h = hashlib.sha256()
    for ln in st.lines:
        h.update(line_fingerprint(ln).encode())
    return h.hexdigest()


def check_statement(st: ParsedStatement, *, account_currency: str) -> None:
    """The checks of a statement on its own (currency, minor units, lines adding up)."""
    if not st.statement_id:
        raise StatementRefused("the statement has no id")
    if st.currency != account_currency:
        raise StatementRefused(f"statement {st.statement_id} is in {st.currency}; the account is in {account_currency}")
    amounts = [st.opening_balance, st.closing_balance, *(ln.amount for ln in st.lines)]
    off = [a for a in amounts if not money.is_quantized(a, st.currency)]
    if off:
        raise StatementRefused(f"statement {st.statement_id}: amounts beyond {st.currency}'s minor unit: {off[:3]}")
    if any(ln.amount == 0 for ln in st.lines):
        raise StatementRefused(f"statement {st.statement_id}: a line of amount zero")
    total = st.opening_balance + sum((ln.amount for ln in st.lines), ZERO)
    if total != st.closing_balance:
        raise LinesDoNotAddUp(
            f"statement {st.statement_id}: opening {money.format_amount(st.opening_balance, st.currency)} plus "
            f"{len(st.lines)} line(s) of {money.format_amount(total - st.opening_balance, st.currency)} is "
            f"{money.format_amount(total, st.currency)}, but the closing balance is "
            f"{money.format_amount(st.closing_balance, st.currency)}")


def check_continuity(st: ParsedStatement, *, previous_id: str | None, previous_closing: Decimal | None,
                     previous_to: dt.date | None) -> None:
    """The statement follows the account's last one: it opens at that one's closing balance
    and does not end before it."""
    if previous_closing is None:
        return
    if st.opening_balance != previous_closing:
        raise ContinuityBreak(
            f"statement {st.statement_id} opens at {money.format_amount(st.opening_balance, st.currency)}, but the "
            f"previous statement {previous_id} closed at {money.format_amount(previous_closing, st.currency)}")
    if previous_to is not None and st.closing_date < previous_to:
        raise ContinuityBreak(f"statement {st.statement_id} ends on {st.closing_date}, before the previous "
                              f"statement {previous_id} ({previous_to})")
