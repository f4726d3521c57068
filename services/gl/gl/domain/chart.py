"""Chart-of-accounts templates (YAML in gl/data/charts): accounts, the roles rules post to, and
how the balance sheet presents balances on the wrong side (`presentation`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path

import yaml

from gl.domain.journal import DIMENSIONS

CHARTS = Path(__file__).resolve().parent.parent / "data" / "charts"
TYPES = {"asset", "liability", "equity", "revenue", "expense"}
_ACCOUNT_KEYS = {"code", "zh", "en", "type", "normal", "control", "cash", "needs"}


@dataclass(frozen=True)
class AccountSpec:
    code: str
    name_zh: str
    name_en: str
    type: str
    normal: str
    control: bool = False
    cash: bool = False
    needs: tuple[str, ...] = ()  # dimensions every line on this account must carry


@dataclass(frozen=True)
class StatementLine:
    """A balance-sheet line that is not an account (e.g. other current assets)."""

    key: str
    name_zh: str
    name_en: str
    type: str


@dataclass(frozen=True)
class Reclassification:
    """The net balance of `accounts` (per value of the dimension `by`, when given) is presented
    on the `debit` line when it is a debit and on the `credit` line when it is a credit. A line
    is an account code or a StatementLine key."""

    accounts: tuple[str, ...]
    by: str | None
    debit: str
    credit: str


@dataclass(frozen=True)
class Chart:
    id: str
    name: str
    accounts: dict[str, AccountSpec]
    roles: dict[str, str]
    reclassify: tuple[Reclassification, ...] = ()
    lines: dict[str, StatementLine] = field(default_factory=dict)

    def line_type(self, line: str) -> str:
        """asset | liability | equity | ... of a balance-sheet line (account or statement line)."""
        return self.accounts[line].type if line in self.accounts else self.lines[line].type

    @cached_property
    def by_counterparty(self) -> dict[str, str]:
        """Account -> the dimension its balance is kept and presented by (the reclassifications
        with a `by`: receivables by customer, payables by supplier). The ledger keeps these
        balances per counterparty at posting (table counterparty_balance)."""
        return {code: rule.by for rule in self.reclassify if rule.by for code in rule.accounts}

    def account_for(self, role_or_code: str) -> str:
        """A role name (receivables) or an account code (1122) -> the account code."""
        if role_or_code in self.roles:
            return self.roles[role_or_code]
        if role_or_code in self.accounts:
            return role_or_code
        raise KeyError(f"chart {self.id!r} has no role or account {role_or_code!r}")


@cache
def load_chart(template: str) -> Chart:
    path = CHARTS / f"{template}.yaml"
    if not path.is_file():
        raise KeyError(f"unknown chart template {template!r} (have: {', '.join(available_charts())})")
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    accounts = {}
    for a in raw["accounts"]:
        unknown = set(a) - _ACCOUNT_KEYS
        if unknown:  # e.g. an unquoted comma in a flow mapping cut a name in two
            raise ValueError(f"{path.name}: account {a.get('code')}: unknown keys {sorted(unknown)}")
        spec = AccountSpec(str(a["code"]), a["zh"], a["en"], a["type"], a["normal"],
                           bool(a.get("control")), bool(a.get("cash")), tuple(a.get("needs") or ()))
        if spec.type not in TYPES or spec.normal not in {"debit", "credit"}:
            raise ValueError(f"{path.name}: bad type/normal on account {spec.code}")
        if spec.code in accounts:
            raise ValueError(f"{path.name}: account {spec.code} twice")
        accounts[spec.code] = spec
    roles = {k: str(v) for k, v in raw.get("roles", {}).items()}
    for role, code in roles.items():
        if code not in accounts:
            raise ValueError(f"{path.name}: role {role} names missing account {code}")
    chart = Chart(raw["id"], raw["name"], accounts, roles)
    pres = raw.get("presentation") or {}
    lines = {}
    for key, spec in (pres.get("lines") or {}).items():
        if key in accounts or spec.get("type") not in TYPES:
            raise ValueError(f"{path.name}: statement line {key}: a key that is no account code, and a type")
        lines[key] = StatementLine(key, spec["zh"], spec["en"], spec["type"])
    reclassify, seen = [], set()
    for r in pres.get("reclassify") or []:
        codes = tuple(chart.account_for(a) for a in r["accounts"])
        targets = [r["debit"], r["credit"]]
        targets = [t if t in lines else chart.account_for(t) for t in targets]
        if seen & set(codes):
            raise ValueError(f"{path.name}: account {sorted(seen & set(codes))} in two reclassifications")
        seen |= set(codes)
        if r.get("by") is not None and r["by"] not in DIMENSIONS:
            raise ValueError(f"{path.name}: reclassification by unknown dimension {r['by']!r}")
        reclassify.append(Reclassification(codes, r.get("by"), *targets))
    return Chart(chart.id, chart.name, accounts, roles, tuple(reclassify), lines)


def available_charts() -> list[str]:
    return sorted(p.stem for p in CHARTS.glob("*.yaml"))
