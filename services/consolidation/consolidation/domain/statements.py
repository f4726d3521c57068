"""Consolidated statements from two cumulative consolidations: the one as at the period's last day
and the one as at the day before its first (None when nothing was consolidated then).

Balance sheet as at the end; income statement, statement of comprehensive income and statement
of changes in equity for the period, each split between the owners of the parent and the NCI.
The statement of changes in equity is built from the movements (profit, OCI, dividends,
acquisitions, ownership changes, share issues) and its closing row equals the balance sheet's
equity; an `other` row would show any change not explained by those (it is zero in every test).
"""

from __future__ import annotations

from decimal import Decimal

from consolidation.domain.engine import Consolidation
from consolidation.domain.structure import ASSET, EXPENSE, GROUP_CHART, INCOME, LIABILITY, PROFIT_OR_LOSS, role
from consolidation.domain.translation import ZERO

COLUMNS = ("share_capital", "retained_earnings", "translation_reserve", "owners", "nci", "total")


def equity(tb: dict[str, Decimal]) -> dict[str, Decimal]:
    R = role  # noqa: N806
    pl = sum((v for k, v in tb.items() if GROUP_CHART[k].kind in PROFIT_OR_LOSS), ZERO)
    cols = {
        "share_capital": -tb.get(R("share_capital"), ZERO),
        "retained_earnings": -(tb.get(R("retained_earnings"), ZERO) + pl + tb.get(R("nci_profit"), ZERO)),
        "translation_reserve": -(tb.get(R("translation_reserve"), ZERO) + tb.get(R("nci_oci"), ZERO)),
    }
    cols["owners"] = sum(cols.values(), ZERO)
    cols["nci"] = -tb.get(R("nci"), ZERO)
    cols["total"] = cols["owners"] + cols["nci"]
    return cols


def _line(code: str, amount: Decimal) -> dict:
    return {"account": code, "name": GROUP_CHART[code].name, "amount": amount}


def balance_sheet(c: Consolidation) -> dict:
    tb = c.trial_balance()
    assets = [_line(k, v) for k, v in tb.items() if GROUP_CHART[k].kind == ASSET and v]
    liabilities = [_line(k, -v) for k, v in tb.items() if GROUP_CHART[k].kind == LIABILITY and v]
    eq = equity(tb)
    total_assets = sum((a["amount"] for a in assets), ZERO)
    total_liabilities = sum((li["amount"] for li in liabilities), ZERO)
    return {
        "as_of": c.as_of.isoformat(), "currency": c.group.presentation_currency,
        "assets": assets, "total_assets": total_assets,
        "liabilities": liabilities, "total_liabilities": total_liabilities,
        "equity": eq, "total_equity_and_liabilities": total_liabilities + eq["total"],
        "balanced": total_assets == total_liabilities + eq["total"],
    }


def _flow(c: Consolidation | None, name: str) -> Decimal:
    return c.flows.get(name, ZERO) if c is not None else ZERO


def income_statement(opening: Consolidation | None, closing: Consolidation) -> dict:
    tb1 = closing.trial_balance()
    tb0 = opening.trial_balance() if opening is not None else {}
    lines = []
    for code, acct in GROUP_CHART.items():
        if acct.kind not in PROFIT_OR_LOSS:
            continue
        moved = tb1.get(code, ZERO) - tb0.get(code, ZERO)
        if moved:
            lines.append({**_line(code, -moved if acct.kind == INCOME else moved), "kind": acct.kind})
    income = sum((ln["amount"] for ln in lines if ln["kind"] == INCOME), ZERO)
    expenses = sum((ln["amount"] for ln in lines if ln["kind"] == EXPENSE), ZERO)
    profit = income - expenses
    nci = _flow(closing, "nci_profit") - _flow(opening, "nci_profit")
    assert profit == _flow(closing, "profit") - _flow(opening, "profit")
    revenue = next((ln["amount"] for ln in lines if ln["account"] == role("revenue")), ZERO)
    cost = next((ln["amount"] for ln in lines if ln["account"] == role("cost_of_sales")), ZERO)
    return {"lines": lines, "revenue": revenue, "cost_of_sales": cost, "gross_profit": revenue - cost,
            "total_income": income, "total_expenses": expenses, "profit": profit,
            "attributable": {"owners": profit - nci, "nci": nci}}


def comprehensive_income(opening: Consolidation | None, closing: Consolidation) -> dict:
    profit = _flow(closing, "profit") - _flow(opening, "profit")
    oci = _flow(closing, "oci") - _flow(opening, "oci")
    nci_profit = _flow(closing, "nci_profit") - _flow(opening, "nci_profit")
    nci_oci = _flow(closing, "nci_oci") - _flow(opening, "nci_oci")
    return {
        "profit": profit,
        "other_comprehensive_income": {
            "exchange_differences_on_translation": {"total": oci, "owners": oci - nci_oci, "nci": nci_oci},
        },
        "total_comprehensive_income": profit + oci,
        "attributable": {"owners": profit + oci - nci_profit - nci_oci, "nci": nci_profit + nci_oci},
    }


def changes_in_equity(opening: Consolidation | None, closing: Consolidation) -> dict:
    def d(name: str) -> Decimal:
        return _flow(closing, name) - _flow(opening, name)

    start = equity(opening.trial_balance()) if opening is not None else dict.fromkeys(COLUMNS, ZERO)
    end = equity(closing.trial_balance())
    rows = {
        "profit": {"retained_earnings": d("profit") - d("nci_profit"), "nci": d("nci_profit")},
        "other_comprehensive_income": {"translation_reserve": d("oci") - d("nci_oci"), "nci": d("nci_oci")},
        "dividends": {"retained_earnings": -d("dividends_owners"), "nci": -d("dividends_nci")},
        "acquisition_of_subsidiaries": {"nci": d("nci_acquired")},
        "changes_in_ownership": {"retained_earnings": d("ownership_owners"), "nci": d("ownership_nci")},
        "issue_of_share_capital": {"share_capital": d("share_issue")},
    }
    table = {"opening": start}
    for name, row in rows.items():
        full = {k: row.get(k, ZERO) for k in ("share_capital", "retained_earnings", "translation_reserve", "nci")}
        full["owners"] = full["share_capital"] + full["retained_earnings"] + full["translation_reserve"]
        full["total"] = full["owners"] + full["nci"]
        table[name] = full
    other = {k: end[k] - start[k] - sum((table[r][k] for r in rows), ZERO) for k in COLUMNS}
    table["other"] = other
    table["closing"] = end
    return {"columns": list(COLUMNS), "rows": table}
