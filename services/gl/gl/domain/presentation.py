"""Balance-sheet presentation of balances on the wrong side, by the sign of each balance when
the report is built; no journal is posted, the ledger keeps its accounts as they are.

A customer's credit balance on receivables (an overpayment, a return after payment) is not a
negative asset but an advance from that customer; a supplier's debit balance on payables is
a prepayment; a debit VAT balance (input exceeding output) is an asset; an overdrawn bank
account is a borrowing. The chart says which accounts are presented this way, by which
counterparty dimension, and on which lines (`Chart.reclassify`). Balances are netted per
counterparty only: one customer's credit never hides another customer's debt."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import NamedTuple

from gl.domain.chart import Reclassification


class Part(NamedTuple):
    """One balance as it goes into a line: an account, a counterparty ('' when the account is
    not kept by one) and its balance (debit positive). A tuple: a balance sheet presents one per
    customer and supplier (thousands), and a frozen dataclass costs ~1 us more each to make."""

    account: str
    counterparty: str
    balance: Decimal


def present(balances: Mapping[tuple[str, str], Decimal],
            rules: Iterable[Reclassification]) -> dict[str, list[Part]]:
    """Balance-sheet line -> the parts presented on it. `balances`: (account, counterparty) ->
    balance, debit positive; counterparty '' for accounts no rule keeps by a counterparty. An
    account in no rule is presented on its own line."""
    by_account = {code: rule for rule in rules for code in rule.accounts}
    lines: dict[str, list[Part]] = {}
    groups: dict[tuple[int, str], list[Part]] = {}
    for (account, counterparty), balance in sorted(balances.items()):
        if not balance:
            continue
        rule = by_account.get(account)
        if rule is None:
            lines.setdefault(account, []).append(Part(account, counterparty, balance))
            continue
        key = counterparty if rule.by else ""
        groups.setdefault((id(rule), key), []).append(Part(account, counterparty, balance))
    rule_of = {id(r): r for r in by_account.values()}
    for (rid, _), parts in groups.items():
        net = sum((p.balance for p in parts), Decimal(0))
        if net:
            rule = rule_of[rid]
            lines.setdefault(rule.debit if net > 0 else rule.credit, []).extend(parts)
    return lines
