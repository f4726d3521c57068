"""The group as consolidation sees it: a group chart, each entity's chart mapped onto it, and an
effective-dated structure (who owns how much of whom, since when). Pure values, no I/O.

Scope (IFRS 10 / IFRS 3, simple case): one parent holding its subsidiaries directly; an
acquisition records the consideration (in the parent's functional currency), the subsidiary's
net assets at fair value (in its functional currency) and the percentage acquired; NCI is
measured at its proportionate share of the fair value of the net assets, so goodwill is the
parent's only. Later purchases or sales of shares that keep control are dated ownership changes
(IFRS 10.23: an equity transaction, no goodwill change). A change "on" a date takes effect at the
end of that day: movements of the day still belong to the previous percentage, as movements of
the acquisition day belong to the pre-acquisition equity.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

ASSET, LIABILITY, EQUITY, INCOME, EXPENSE = "asset", "liability", "equity", "income", "expense"
BALANCE_SHEET = (ASSET, LIABILITY, EQUITY)
PROFIT_OR_LOSS = (INCOME, EXPENSE)
# How an income or expense account is translated (IAS 21.39-40): at the average rate of each month
# or at the rate of the transaction's day.
AVERAGE, TRANSACTION = "average", "transaction"


class StructureError(ValueError):
    """The group structure or a mapping is not usable as given (HTTP 422)."""


@dataclass(frozen=True)
class GroupAccount:
    code: str
    name: str
    kind: str
    role: str = ""
    rate: str = AVERAGE  # income and expenses only


def _chart(*rows: tuple) -> dict[str, GroupAccount]:
    return {r[0]: GroupAccount(*r) for r in rows}


# The group chart: what the consolidated statements are made of. Roles name the accounts the
# consolidation itself posts to or reads (investment, goodwill, NCI...).
GROUP_CHART: dict[str, GroupAccount] = _chart(
    ("1000", "Cash and cash equivalents", ASSET, "cash"),
    ("1100", "Trade receivables", ASSET, "receivables"),
    ("1150", "Other receivables and prepayments", ASSET),
    ("1200", "Inventories", ASSET, "inventory"),
    ("1300", "Other current assets", ASSET),
    ("1500", "Property, plant and equipment", ASSET),
    ("1550", "Fair value adjustments on acquisition", ASSET, "fv_adjustment"),
    ("1600", "Investments in subsidiaries", ASSET, "investment"),
    ("1700", "Goodwill", ASSET, "goodwill"),
    ("1900", "Other assets", ASSET),
    ("1950", "Intercompany items in transit", ASSET, "ic_in_transit"),
    ("2000", "Trade payables", LIABILITY, "payables"),
    ("2050", "Goods received not invoiced", LIABILITY),
    ("2100", "Tax payables", LIABILITY),
    ("2200", "Other payables", LIABILITY),
    ("2300", "Contract liabilities", LIABILITY),
    ("2400", "Borrowings", LIABILITY),
    ("3000", "Share capital", EQUITY, "share_capital"),
    ("3100", "Retained earnings", EQUITY, "retained_earnings"),
    ("3150", "Profit attributable to non-controlling interests", EQUITY, "nci_profit"),
    ("3200", "Translation reserve", EQUITY, "translation_reserve"),
    ("3250", "Translation reserve attributable to non-controlling interests", EQUITY, "nci_oci"),
    ("3900", "Non-controlling interests", EQUITY, "nci"),
    ("4000", "Revenue", INCOME, "revenue"),
    ("4100", "Other income", INCOME),
    ("4200", "Investment and dividend income", INCOME, "dividend_income"),
    ("4300", "Gain on bargain purchase", INCOME, "bargain_gain"),
    ("5000", "Cost of sales", EXPENSE, "cost_of_sales"),
    ("5100", "Operating expenses", EXPENSE),
    ("5200", "Finance costs and exchange differences", EXPENSE, "finance_costs"),
    ("5300", "Other expenses", EXPENSE),
)
ROLE = {a.role: a.code for a in GROUP_CHART.values() if a.role}
# Balances eliminated between group companies by their intercompany partner. Ledger lines of an
# intercompany document all carry the partner (tax, goods-received-not-invoiced, bank lines too):
# only these accounts are balances owed inside the group.
IC_BALANCE_ACCOUNTS = frozenset({"1100", "1150", "2000", "2200", "2300"})


def role(name: str) -> str:
    return ROLE[name]


@dataclass(frozen=True)
class ChartMapping:
    """An entity chart onto the group chart by account-code prefix (the longest prefix wins), so
    a new sub-account follows its parent account. `transaction_rate` lists group income or
    expense accounts translated at the rate of the day rather than the month's average."""

    id: str
    prefixes: tuple[tuple[str, str], ...]
    transaction_rate: frozenset[str] = frozenset()
    _cache: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        for prefix, code in self.prefixes:
            if code not in GROUP_CHART:
                raise StructureError(f"mapping {self.id}: {prefix!r} -> unknown group account {code!r}")

    def group_account(self, account: str) -> GroupAccount:
        acct = self._cache.get(account)
        if acct is None:
            acct = self._cache[account] = _lookup(self, account)
        return acct

    def with_overrides(self, overrides: dict[str, str], transaction_rate: frozenset[str] = frozenset()) -> ChartMapping:
        merged = dict(self.prefixes)
        merged.update(overrides)
        return ChartMapping(self.id, tuple(sorted(merged.items())), self.transaction_rate | transaction_rate)


def _lookup(mapping: ChartMapping, account: str) -> GroupAccount:
    best = ""
    code = None
    for prefix, target in mapping.prefixes:
        if account.startswith(prefix) and (code is None or len(prefix) > len(best)):
            best, code = prefix, target
    if code is None:
        raise StructureError(f"account {account} is not mapped to the group chart (mapping {mapping.id})")
    acct = GROUP_CHART[code]
    if acct.kind in PROFIT_OR_LOSS and code in mapping.transaction_rate:
        return GroupAccount(acct.code, acct.name, acct.kind, acct.role, TRANSACTION)
    return acct


# The GL's two chart templates (services/gl/gl/data/charts): China Accounting Standards and IFRS.
CAS = ChartMapping("cas", tuple(sorted({
    "1": "1900", "1001": "1000", "1002": "1000", "1012": "1000", "1121": "1100", "1122": "1100", "1231": "1100",
    "1123": "1150", "1131": "1150", "1132": "1150", "1221": "1150", "14": "1200", "1511": "1600",
    "16": "1500", "1901": "1300",
    "2": "2200", "2001": "2400", "2202": "2000", "220202": "2050", "2203": "2300", "2205": "2300", "2221": "2100",
    "4": "3100", "4001": "3000", "4002": "3000",
    "6": "5100", "6001": "4000", "6051": "4100", "6061": "5200", "6111": "4200", "6115": "4100", "6301": "4100",
    "6401": "5000", "6402": "5000", "6603": "5200", "6711": "5300",
}.items())))
IFRS = ChartMapping("ifrs", tuple(sorted({
    "1": "1900", "1000": "1000", "1010": "1000", "1100": "1100", "1190": "1100", "1150": "1150", "12": "1200",
    "1290": "1300", "1300": "1300", "16": "1500", "1700": "1600",
    "2": "2200", "2000": "2000", "2010": "2050", "2100": "2100", "2300": "2300", "2400": "2400",
    "3": "3100", "3000": "3000",
    "4": "4100", "4000": "4000", "4700": "4200", "4900": "5200",
    "5": "5000", "6": "5100", "6800": "5200",
}.items())))
MAPPINGS = {"cas": CAS, "ifrs": IFRS}


@dataclass(frozen=True)
class Entity:
    company_id: str
    name: str
    functional_currency: str
    mapping: ChartMapping


@dataclass(frozen=True)
class Acquisition:
    subsidiary: str
    on: dt.date
    pct: Decimal  # fraction acquired, 0 < pct <= 1
    consideration: Decimal  # in the parent's functional currency
    fv_net_assets: Decimal  # the subsidiary's identifiable net assets at fair value, its functional currency

    def __post_init__(self) -> None:
        if not Decimal(0) < self.pct <= Decimal(1):
            raise StructureError("an acquisition's percentage is above 0 and at most 100")
        if self.consideration < 0:
            raise StructureError("consideration is not negative")


@dataclass(frozen=True)
class OwnershipChange:
    subsidiary: str
    on: dt.date
    pct: Decimal  # the parent's new fraction
    consideration: Decimal  # paid by the parent (+) or received (-), its functional currency

    def __post_init__(self) -> None:
        if not Decimal("0.5") < self.pct <= Decimal(1):
            raise StructureError("an ownership change keeps control: the new percentage is above 50 and at most 100")


@dataclass(frozen=True)
class Group:
    id: str
    name: str
    presentation_currency: str
    parent: Entity
    subsidiaries: tuple[Entity, ...] = ()
    acquisitions: tuple[Acquisition, ...] = ()
    changes: tuple[OwnershipChange, ...] = field(default=())

    def __post_init__(self) -> None:
        ids = [self.parent.company_id, *(s.company_id for s in self.subsidiaries)]
        if len(set(ids)) != len(ids):
            raise StructureError("an entity appears twice in the group")
        acquired = [a.subsidiary for a in self.acquisitions]
        if sorted(acquired) != sorted(s.company_id for s in self.subsidiaries):
            raise StructureError("every subsidiary has exactly one acquisition")
        for c in self.changes:
            acq = self.acquisition(c.subsidiary)
            if c.on <= acq.on:
                raise StructureError(f"ownership change of {c.subsidiary} on {c.on} is not after its acquisition")

    @property
    def entities(self) -> tuple[Entity, ...]:
        return (self.parent, *self.subsidiaries)

    def entity(self, company_id: str) -> Entity:
        for e in self.entities:
            if e.company_id == company_id:
                return e
        raise StructureError(f"{company_id} is not in group {self.id}")

    def acquisition(self, subsidiary: str) -> Acquisition:
        for a in self.acquisitions:
            if a.subsidiary == subsidiary:
                return a
        raise StructureError(f"{subsidiary} has no acquisition in group {self.id}")

    def changes_of(self, subsidiary: str) -> list[OwnershipChange]:
        return sorted((c for c in self.changes if c.subsidiary == subsidiary), key=lambda c: c.on)

    def consolidated(self, company_id: str, on: dt.date) -> bool:
        """Whether the entity's post-acquisition figures are in the group on this day."""
        return company_id == self.parent.company_id or self.acquisition(company_id).on <= on

    def segments(self, subsidiary: str) -> list[tuple[dt.date, Decimal]]:
        """[(from-day exclusive, parent's fraction)]: the fraction holds for days after the date."""
        acq = self.acquisition(subsidiary)
        return [(acq.on, acq.pct), *((c.on, c.pct) for c in self.changes_of(subsidiary))]

    def pct(self, subsidiary: str, on: dt.date) -> Decimal:
        """The parent's fraction for movements dated `on` (a change on a day counts from the next)."""
        current = Decimal(0)
        for start, pct in self.segments(subsidiary):
            if on > start:
                current = pct
        return current
