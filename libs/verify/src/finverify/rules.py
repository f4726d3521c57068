"""What the ledger's posting rules say an event is due, read from the rules themselves (GL
`/v1/rules`, as data), never from what the ledger did with it.

For I2 an event the ledger recorded as handled, with no journal, no parking and no dead
letter, is fine only when the rules say there was nothing to post: its type has no rule
(master data and the like on the same topics), or the rule in force on the event's date that
matches it has every line amount zero (the ledger's NothingToPost: a few grams issued whose
cost rounds to 0.00). Any other such event is a lost posting.

The rule is chosen as the ledger chooses it: the versions of the event's type in force on
its `occurrence_date`, newest first, the first whose `when` conditions match (a field's value
in the listed values; `@present` / `@absent`: a field set or a repeated field not empty, or
not), read by the ledger's own reading of field paths (fincore.fieldpaths). A line's
amount is the Money at its `amount` path (relative to each element of `each`, `^` from the
event's root) less its `subtract`; a `@balance` line balances the others, so it
is zero when they are. Exchange rates and carrying amounts only scale what is not zero, so
they are not needed to tell zero from not zero."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from finance.common.v1 import types_pb2
from fincore import money
from fincore.fieldpaths import Conditions, resolve, text

BALANCE = "@balance"


@dataclass(frozen=True)
class Due:
    """What the rules expect of one event: `journal` True (a journal, or, when no version is
    in force or matches, a dead letter) or False (nothing to post), and why."""

    journal: bool
    why: str


@dataclass(frozen=True)
class Amount:
    """One rule line's amount on an event: the chart role it posts to, the line's party (its
    customer or supplier dimension; '' without one), the Money's currency, debit positive."""

    role: str
    party: str
    currency: str
    amount: Decimal


class PostingRules:
    def __init__(self, rules: Iterable[dict]) -> None:
        self.by_event: dict[str, list[dict]] = {}
        self._conditions: dict[tuple[int, str], Conditions] = {}  # (rule, message type): compiled once
        for r in rules:
            self.by_event.setdefault(r["event"], []).append(r)
        for lst in self.by_event.values():  # newest first, as the ledger looks them up
            lst.sort(key=lambda r: (r["effective_from"], r["version"]), reverse=True)

    def posts(self, ce_type: str) -> bool:
        return ce_type in self.by_event

    def due(self, ce_type: str, payload: Any | None) -> Due:
        versions = self.by_event.get(ce_type)
        if not versions:
            return Due(False, "no posting rule for its type")
        if payload is None:  # the record was not decoded: nothing shows it had nothing to post
            return Due(True, f"{ce_type} has posting rules")
        try:
            on = _date(payload.occurrence_date).isoformat()
        except (AttributeError, ValueError):  # the ledger refuses it: a dead letter is due
            return Due(True, f"{ce_type} without a valid occurrence_date: a dead letter is due")
        r = self._rule(versions, on, payload)
        if r is None:
            return Due(True, f"no rule of {ce_type} in force on {on} matches it: a dead letter is due")
        name = f"rule {r['id']} v{r['version']}"
        if any(_amount(payload, ln) for ln in r["lines"]):
            return Due(True, f"{name} posts it")
        return Due(False, f"{name}: every amount is zero, nothing to post")

    def _rule(self, versions: list[dict], on: str, payload: Any) -> dict | None:
        """The version in force on `on` (ISO date) whose conditions match, as the ledger picks it."""
        for r in versions:
            if r["effective_from"] <= on and (r["effective_to"] is None or on <= r["effective_to"]) \
                    and self._matches(r, payload):
                return r
        return None

    def amounts_on(self, ce_type: str, payload: Any, roles: set[str], party: str) -> list[Amount]:
        """What the event would post to the accounts of `roles` (chart roles, after the rule's
        `account_by`), by the line's `party` dimension and the currency of its Money: the
        explanation I7 gives for a sub-ledger document whose event is parked or dead-lettered
        (in the sub-ledger, not yet in the ledger). Debits positive. `@balance` lines are
        left out (they balance a journal: exchange differences, never a control account's
        document amount). [] when the payload was not decoded or no rule matches it."""
        versions = self.by_event.get(ce_type)
        if not versions or payload is None:
            return []
        try:
            r = self._rule(versions, _date(payload.occurrence_date).isoformat(), payload)
        except (AttributeError, ValueError):
            return []
        if r is None:
            return []
        out: list[Amount] = []
        for ln in r["lines"]:
            for item, amount, value in _line_amounts(payload, ln):
                role = ln["account"]
                if ln.get("account_by"):
                    role = ln["account_by"]["map"].get(text(resolve(payload, item, ln["account_by"]["field"])), role)
                if role not in roles or not value:
                    continue
                path = (ln.get("dimensions") or {}).get(party)
                who = text(resolve(payload, item, path)) if path else ""
                out.append(Amount(role, who, getattr(amount, "currency_code", ""),
                                  value if ln["side"] == "debit" else -value))
        return out

    def _matches(self, rule: dict, payload: Any) -> bool:
        desc = payload.DESCRIPTOR
        key = (id(rule), desc.full_name)
        conditions = self._conditions.get(key)
        if conditions is None:
            conditions = self._conditions[key] = Conditions(rule.get("when") or {}, desc)
        return conditions.matches(payload)


def _amount(payload: Any, line: dict) -> bool:
    """Is any amount of this rule line not zero on this event?"""
    return any(value for _, _, value in _line_amounts(payload, line))


def _line_amounts(payload: Any, line: dict) -> Iterator[tuple[Any, Any, Decimal]]:
    """(item, the value at `amount`, that value less `subtract`) for each item a rule line reads
    on this event (each element of `each`, or the event); none for a `@balance` line."""
    if line["amount"] == BALANCE:
        return
    for item in (list(resolve(payload, payload, line["each"])) if line.get("each") else [payload]):
        amount = resolve(payload, item, line["amount"])
        value = _decimal(amount)
        if line.get("subtract"):
            value -= _decimal(resolve(payload, item, line["subtract"]))
        yield item, amount, value


def _decimal(value: Any) -> Decimal:
    if isinstance(value, types_pb2.Money):  # at its currency's scale (12.50, not 12.5)
        try:
            return money.from_proto(value)
        except money.MoneyError:  # malformed (the ledger dead-letters it): its amount all the same
            return Decimal(value.units) + Decimal(value.nanos) / 10**9
    return Decimal(str(value or 0))


def _date(value: Any) -> dt.date:
    return dt.date(value.year, value.month, value.day)
