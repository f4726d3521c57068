"""Chart-of-accounts templates (YAML in gl/data/charts): accounts and the roles rules post to."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

CHARTS = Path(__file__).resolve().parent.parent / "data" / "charts"
TYPES = {"asset", "liability", "equity", "revenue", "expense"}


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
class Chart:
    id: str
    name: str
    accounts: dict[str, AccountSpec]
    roles: dict[str, str]

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
    return Chart(raw["id"], raw["name"], accounts, roles)


def available_charts() -> list[str]:
    return sorted(p.stem for p in CHARTS.glob("*.yaml"))
