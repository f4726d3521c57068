"""What the cockpit computes from the APIs' answers: periods, the overview's figures, comparisons,
pivots and budget flags. Pure (no I/O): the figures the pages show are checked here.

Amounts arrive as the APIs print them (decimal strings in the currency's minor unit) and stay
Decimal; a ratio is a Decimal percentage with two places. Nothing here rounds money."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from fincore import money

ZERO = Decimal(0)

# The accounts a figure is made of, per chart template (the GL's chart roles of the same names).
ROLES = {
    "cas": {"receivables": ("1122",), "payables": ("220201", "2241"), "cost_of_sales": ("6401", "6402")},
    "ifrs": {"receivables": ("1100",), "payables": ("2000", "2200"), "cost_of_sales": ("5000",)},
}


def amount(text: str | None) -> Decimal:
    return Decimal(text) if text not in (None, "") else ZERO


# --- periods -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    """A calendar month, YYYY-MM: the unit the pages are chosen by."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Period:
        try:
            y, m = text.split("-")
            p = cls(int(y), int(m))
        except ValueError:
            raise ValueError(f"a period is YYYY-MM, not {text!r}") from None
        if not (1 <= p.month <= 12 and 1900 <= p.year <= 2199) or len(y) != 4 or len(m) != 2:
            raise ValueError(f"a period is YYYY-MM, not {text!r}")
        return p

    @classmethod
    def of(cls, d: dt.date) -> Period:
        return cls(d.year, d.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def end(self) -> dt.date:
        return self.plus(1).start - dt.timedelta(days=1)

    @property
    def year_start(self) -> dt.date:
        return dt.date(self.year, 1, 1)

    def plus(self, months: int) -> Period:
        n = self.year * 12 + self.month - 1 + months
        return Period(n // 12, n % 12 + 1)

    def last(self, n: int) -> list[Period]:
        """The n periods ending with this one, oldest first."""
        return [self.plus(-i) for i in range(n - 1, -1, -1)]


def change(current: Decimal, prior: Decimal) -> Decimal | None:
    """Change in % of the prior figure (None when there is none to compare with)."""
    if not prior:
        return None
    return ((current - prior) * 100 / abs(prior)).quantize(Decimal("0.1"))


def ratio(part: Decimal, whole: Decimal) -> Decimal | None:
    return (part * 100 / whole).quantize(Decimal("0.01")) if whole else None


# --- overview ------------------------------------------------------------------------------
def income_figures(statement: dict, cost_accounts: tuple[str, ...]) -> dict[str, Decimal]:
    """Revenue, cost of sales, gross profit and net income of one income statement answer."""
    revenue = amount(statement["revenue"]["total"])
    cost = sum((amount(ln["amount"]) for ln in statement["expenses"]["lines"]
                if ln["account"].startswith(cost_accounts)), ZERO)
    return {"revenue": revenue, "cost_of_sales": cost, "gross_profit": revenue - cost,
            "net_income": amount(statement["net_income"])}


def balance_of(trial_balance: dict, accounts: tuple[str, ...], side: str) -> Decimal:
    """Debit (side="debit") or credit balance of the accounts (and their sub-accounts) in a trial balance."""
    other = "credit" if side == "debit" else "debit"
    return sum((amount(ln[f"{side}_balance"]) - amount(ln[f"{other}_balance"]) for ln in trial_balance["lines"]
                if ln["account"].startswith(accounts)), ZERO)


@dataclass(frozen=True)
class Figure:
    key: str
    value: Decimal | None
    currency: str
    prior: Decimal | None = None
    ytd: Decimal | None = None
    link: str = ""  # the cockpit page it drills down to
    percent: bool = False

    @property
    def change(self) -> Decimal | None:
        return change(self.value, self.prior) if self.value is not None and self.prior is not None else None


def overview(*, currency: str, mtd: dict, ytd: dict, prior: dict, cash: Decimal, receivables: Decimal,
             payables: Decimal, budget_total: dict | None, roles: dict, links: dict[str, str]) -> list[Figure]:
    """The overview's tiles: month to date, year to date and the prior month of each income figure,
    the balances that matter at the period's end, and budget consumption."""
    m, y, p = (income_figures(x, roles["cost_of_sales"]) for x in (mtd, ytd, prior))
    tiles = [Figure(k, m[k], currency, prior=p[k], ytd=y[k], link=links.get(k, ""))
             for k in ("revenue", "gross_profit", "net_income")]
    tiles.insert(2, Figure("gross_margin", ratio(m["gross_profit"], m["revenue"]), currency,
                           prior=ratio(p["gross_profit"], p["revenue"]),
                           ytd=ratio(y["gross_profit"], y["revenue"]), percent=True,
                           link=links.get("gross_profit", "")))
    tiles += [Figure("cash", cash, currency, link=links.get("cash", "")),
              Figure("open_receivables", receivables, currency, link=links.get("open_receivables", "")),
              Figure("open_payables", payables, currency, link=links.get("open_payables", ""))]
    if budget_total:
        tiles.append(Figure("budget_consumed", amount(budget_total.get("pct_consumed")) if budget_total.get(
            "pct_consumed") is not None else None, currency, percent=True, link=links.get("budget", "")))
    return tiles


# --- statements with comparison ------------------------------------------------------------
def compare_lines(current: list[dict], prior: list[dict], key: str = "account") -> list[dict]:
    """Lines of a statement section beside the same lines of the comparison period (a line that
    exists in only one of them shows zero in the other)."""
    before = {ln[key]: ln for ln in prior}
    out = []
    for ln in current:
        p = before.pop(ln[key], None)
        out.append({**ln, "prior": p["amount"] if p else "0", "change": change(amount(ln["amount"]),
                                                                                amount(p["amount"]) if p else ZERO)})
    for ln in before.values():
        out.append({**ln, "amount": "0", "prior": ln["amount"], "drill_down": "", "change": None})
    return out


# --- profit by dimension -------------------------------------------------------------------
def profit_by(trial_balance: dict, dimension: str, types: dict[str, str]) -> dict[str, Decimal]:
    """Profit (revenue - expense) per value of one dimension, from a trial balance grouped by it
    (`types`: account -> type from the chart). Lines without the dimension count as "" (unassigned)."""
    out: dict[str, Decimal] = {}
    for ln in trial_balance["lines"]:
        kind = types.get(ln["account"])
        if kind not in ("revenue", "expense"):
            continue
        for part in ln.get(f"by_{dimension}", []):
            # balances are debit - credit: profit is their negation
            out[part[dimension] or ""] = out.get(part[dimension] or "", ZERO) - amount(part["balance"])
    return out


def pivot_columns(col_totals: dict[str, Decimal], max_values: int) -> tuple[list[str], int]:
    """The column dimension's values a pivot shows: all of them up to `max_values`, else the
    `max_values` largest by absolute amount (the ones that explain the profit), and how many
    values are left out. What is left out still counts, in the pivot's remainder column."""
    values = [v for v in col_totals if v]
    if len(values) <= max_values:
        return sorted(values), 0
    largest = sorted(values, key=lambda v: (-abs(col_totals[v]), v))[:max_values]
    return sorted(largest), len(values) - max_values


def pivot(cells: dict[tuple[str, str], Decimal]) -> tuple[list[str], list[str], list[list[Decimal]], dict]:
    """Rows x columns of a two-dimension pivot with row, column and grand totals. Values sort
    alphabetically; "" (no value, or the remainder past a column cap) comes last."""
    def order(values: set[str]) -> list[str]:
        return sorted(v for v in values if v) + ([""] if "" in values else [])

    rows = order({r for r, _ in cells})
    cols = order({c for _, c in cells})
    matrix = [[cells.get((r, c), ZERO) for c in cols] for r in rows]
    totals = {"rows": [sum(row, ZERO) for row in matrix],
              "cols": [sum((cells.get((r, c), ZERO) for r in rows), ZERO) for c in cols],
              "all": sum(cells.values(), ZERO)}
    return rows, cols, matrix, totals


# --- budget --------------------------------------------------------------------------------
def budget_flag(pct_consumed: str | None, thresholds: tuple[int, ...] = (80, 100)) -> str:
    """"over" at or past the last threshold, "warn" past the first, "ok" under it, "" with no budget."""
    if pct_consumed is None:
        return ""
    pct = Decimal(pct_consumed)
    if pct >= thresholds[-1]:
        return "over"
    if pct >= thresholds[0]:
        return "warn"
    return "ok"


def in_minor_units(value: Decimal, currency: str) -> Decimal:
    """An amount at the currency's minor unit; an API that answered with more places is a bug
    the cockpit must not hide by rounding."""
    return money.exact(value, currency)
