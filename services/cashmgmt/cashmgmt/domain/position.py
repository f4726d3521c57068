"""The live cash position of a company: per bank account and currency, what the ledger has
booked and what the bank holds (booked on its statement, and value-dated).

The view is kept from the events (cashmgmt/entrypoints/position_stream.py) as a cache that
can be rebuilt from the topics at any time; it is never the book of record. Every entry it
keeps is an absolute value under a key that identifies the fact, never an increment:

- a journal's cash lines, per ledger account and currency: key company|account|currency|journal
  (a posted journal never changes, so writing it again writes the same value);
- a bank account as cash management opened it: key company|code;
- a bank account's last statement (closing balance, and the amounts valued after its closing
  date): key company|code, replaced by each newer statement.

So a replay of any part of the topics, or a restart in the middle of one, cannot count
anything twice: the position is a sum over facts, computed when it is read.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from fincore.money import format_amount

ZERO = Decimal(0)


@dataclass(frozen=True)
class CashLine:
    """A journal line on a cash account (the ledger tags exactly those with a cash-flow item)."""

    account: str
    currency: str
    amount: Decimal  # transaction currency, debit positive
    functional: Decimal  # functional currency, debit positive


def booked_key(company: str, account: str, currency: str, journal_id: str) -> str:
    return f"{company}|{account}|{currency}|{journal_id}"


def journal_entries(company: str, journal_id: str, on: dt.date, lines: Iterable[CashLine]) -> dict[str, dict]:
    """The journal's contribution to each cash account it touches: absolute values, keyed by
    the journal (several lines of one journal on one account are summed here, once)."""
    sums: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for ln in lines:
        s = sums[(ln.account, ln.currency)]
        s[0] += ln.amount
        s[1] += ln.functional
    return {booked_key(company, account, currency, journal_id): {
        "account": account, "currency": currency, "amount": str(amount), "functional": str(functional),
        "date": on.isoformat()} for (account, currency), (amount, functional) in sums.items()}


def account_key(company: str, code: str) -> str:
    return f"{company}|{code}"


def company_of(key: str) -> str:
    return key.split("|", 1)[0]


def statement_entry(*, statement_id: str, closing_date: dt.date, closing_balance: Decimal, currency: str,
                    pending_value: Iterable[tuple[dt.date, Decimal]]) -> dict:
    return {"statement_id": statement_id, "closing_date": closing_date.isoformat(),
            "closing_balance": str(closing_balance), "currency": currency,
            "pending_value": [[on.isoformat(), str(amount)] for on, amount in pending_value]}


def newer_statement(old: Mapping | None, new: Mapping) -> bool:
    """A statement replaces the kept one unless it closes earlier (a replay of an older one)."""
    return old is None or new["closing_date"] >= old["closing_date"]


def position(company: str, *, accounts: Mapping[str, Mapping], booked: Iterable[Mapping],
             statements: Mapping[str, Mapping], as_of: dt.date) -> dict:
    """The company's cash position on `as_of`: each bank account (its ledger account's booked
    balance in the account's currency, the bank's last statement, the value-dated balance and
    the difference between ledger and bank at the statement's date), the ledger's other cash
    accounts, and totals per currency. `accounts` and `statements` by bank account code."""
    on = as_of.isoformat()
    ledger: dict[tuple[str, str], Decimal] = defaultdict(Decimal)  # (account, currency) on as_of
    functional: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    dated: list[tuple[str, str, str, Decimal]] = []
    for e in booked:
        key = (e["account"], e["currency"])
        if e["date"] <= on:
            ledger[key] += Decimal(e["amount"])
            functional[key] += Decimal(e["functional"])
        dated.append((e["account"], e["currency"], e["date"], Decimal(e["amount"])))

    def booked_until(account: str, currency: str, day: str) -> Decimal:
        return sum((a for acc, cur, d, a in dated if acc == account and cur == currency and d <= day), ZERO)

    rows, used = [], set()
    totals: dict[str, dict[str, Decimal]] = defaultdict(lambda: {"booked": ZERO, "bank_value_dated": ZERO})
    shared = defaultdict(list)
    for code, a in accounts.items():
        shared[(a["gl_account"], a["currency"])].append(code)
    for code in sorted(accounts):
        a = accounts[code]
        key = (a["gl_account"], a["currency"])
        used.add(key)
        st = statements.get(code)
        row = {"bank_account": code, "name": a.get("name", ""), "currency": a["currency"],
               "gl_account": a["gl_account"], "booked": format_amount(ledger[key], a["currency"]),
               "booked_functional": str(functional[key]),
               "gl_account_shared_with": [c for c in shared[key] if c != code],
               "statement_id": None, "statement_date": None, "bank_balance": None, "bank_value_dated": None,
               "booked_at_statement_date": None, "difference_at_statement_date": None}
        totals[a["currency"]]["booked"] += ledger[key] if code == shared[key][0] else ZERO
        if st is not None:
            closing = Decimal(st["closing_balance"])
            later = sum((Decimal(amount) for day, amount in st["pending_value"] if day > on), ZERO)
            at_statement = booked_until(*key, st["closing_date"])
            row.update(statement_id=st["statement_id"], statement_date=st["closing_date"],
                       bank_balance=format_amount(closing, a["currency"]),
                       bank_value_dated=format_amount(closing - later, a["currency"]),
                       booked_at_statement_date=format_amount(at_statement, a["currency"]),
                       difference_at_statement_date=format_amount(at_statement - closing, a["currency"]))
            totals[a["currency"]]["bank_value_dated"] += closing - later
        rows.append(row)
    others = [{"gl_account": account, "currency": currency, "booked": format_amount(amount, currency),
               "booked_functional": str(functional[(account, currency)])}
              for (account, currency), amount in sorted(ledger.items()) if (account, currency) not in used]
    for o in others:
        totals[o["currency"]]["booked"] += ledger[(o["gl_account"], o["currency"])]
    return {"company": company, "as_of": on, "bank_accounts": rows, "other_cash_accounts": others,
            "totals": [{"currency": cur, "booked": format_amount(t["booked"], cur),
                        "bank_value_dated": format_amount(t["bank_value_dated"], cur)}
                       for cur, t in sorted(totals.items())]}
