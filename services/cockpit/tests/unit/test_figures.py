import datetime as dt
from decimal import Decimal as D

import pytest
from cockpit.domain import figures as fig
from cockpit.domain.figures import Period


def test_periods():
    p = Period.parse("2026-02")
    assert (p.start, p.end, p.year_start) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28), dt.date(2026, 1, 1))
    assert str(p.plus(-2)) == "2025-12" and str(p.plus(11)) == "2027-01"
    assert [str(x) for x in p.last(3)] == ["2025-12", "2026-01", "2026-02"]
    for bad in ("2026-13", "2026-1", "26-01", "x", "2200-01"):
        with pytest.raises(ValueError):
            Period.parse(bad)


def statement(revenue: str, lines: list[tuple[str, str]], net: str) -> dict:
    return {"revenue": {"total": revenue, "lines": []},
            "expenses": {"lines": [{"account": a, "amount": v} for a, v in lines]}, "net_income": net}


def test_income_figures_take_cost_of_sales_by_the_charts_accounts():
    f = fig.income_figures(statement("1000.00", [("6401", "600.00"), ("640101", "10.00"), ("6601", "50.00")],
                                     "340.00"), fig.ROLES["cas"]["cost_of_sales"])
    assert f == {"revenue": D("1000.00"), "cost_of_sales": D("610.00"), "gross_profit": D("390.00"),
                 "net_income": D("340.00")}


def test_overview_tiles_month_year_prior_and_balances():
    tiles = fig.overview(currency="CNY", mtd=statement("200.00", [("6401", "150.00")], "50.00"),
                         ytd=statement("1200.00", [("6401", "700.00")], "500.00"),
                         prior=statement("100.00", [("6401", "80.00")], "20.00"),
                         cash=D("7.00"), receivables=D("8.00"), payables=D("9.00"),
                         budget_total={"pct_consumed": "43.70"}, roles=fig.ROLES["cas"], links={"revenue": "/x"})
    by = {t.key: t for t in tiles}
    assert [t.key for t in tiles] == ["revenue", "gross_profit", "gross_margin", "net_income", "cash",
                                      "open_receivables", "open_payables", "budget_consumed"]
    assert (by["revenue"].value, by["revenue"].ytd, by["revenue"].prior) == (D("200.00"), D("1200.00"), D("100.00"))
    assert by["revenue"].change == D("100.0") and by["revenue"].link == "/x"
    assert by["gross_margin"].value == D("25.00") and by["gross_margin"].ytd == D("41.67")
    assert by["net_income"].change == D("150.0")
    assert (by["cash"].value, by["open_payables"].value, by["budget_consumed"].value) == (D("7.00"), D("9.00"),
                                                                                           D("43.70"))


def test_no_revenue_means_no_margin_and_no_change():
    t = {x.key: x for x in fig.overview(currency="CNY", mtd=statement("0.00", [], "0.00"),
                                        ytd=statement("0.00", [], "0.00"), prior=statement("0.00", [], "0.00"),
                                        cash=D(0), receivables=D(0), payables=D(0), budget_total=None,
                                        roles=fig.ROLES["ifrs"], links={})}
    assert t["gross_margin"].value is None and t["revenue"].change is None and "budget_consumed" not in t


def test_balance_of_takes_sub_accounts_and_sides():
    tb = {"lines": [{"account": "1122", "debit_balance": "10.00", "credit_balance": "0.00"},
                    {"account": "220201", "debit_balance": "0.00", "credit_balance": "4.00"},
                    {"account": "2241", "debit_balance": "1.00", "credit_balance": "0.00"}]}
    assert fig.balance_of(tb, ("1122",), "debit") == D("10.00")
    assert fig.balance_of(tb, ("220201", "2241"), "credit") == D("3.00")


def test_compare_lines_keeps_lines_of_either_period():
    rows = fig.compare_lines([{"account": "6001", "amount": "150.00"}],
                             [{"account": "6001", "amount": "100.00"}, {"account": "6051", "amount": "5.00"}])
    assert rows[0]["prior"] == "100.00" and rows[0]["change"] == D("50.0")
    assert rows[1] == {"account": "6051", "amount": "0", "prior": "5.00", "drill_down": "", "change": None}


def test_profit_by_dimension_and_pivot_totals():
    tb = {"lines": [{"account": "6001", "by_region": [{"region": "E", "balance": "-100.00"},
                                                      {"region": None, "balance": "-5.00"}]},
                    {"account": "6401", "by_region": [{"region": "E", "balance": "60.00"}]},
                    {"account": "1122", "by_region": [{"region": "E", "balance": "113.00"}]}]}
    assert fig.profit_by(tb, "region", {"6001": "revenue", "6401": "expense", "1122": "asset"}) == {
        "E": D("40.00"), "": D("5.00")}
    rows, cols, matrix, totals = fig.pivot({("A", "x"): D(1), ("A", "y"): D(2), ("B", "x"): D(4)})
    assert (rows, cols, matrix) == (["A", "B"], ["x", "y"], [[D(1), D(2)], [D(4), D(0)]])
    assert totals == {"rows": [D(3), D(4)], "cols": [D(5), D(2)], "all": D(7)}
    assert fig.pivot({("", "x"): D(1), ("A", ""): D(2), ("A", "x"): D(3)})[:2] == (["A", ""], ["x", ""])


@pytest.mark.parametrize(("pct", "flag"), [(None, ""), ("0", "ok"), ("79.99", "ok"), ("80", "warn"),
                                           ("99.99", "warn"), ("100.00", "over"), ("120", "over")])
def test_budget_flags(pct, flag):
    assert fig.budget_flag(pct) == flag


def test_pivot_columns_keep_the_largest_values_and_count_the_rest():
    totals = {f"P{i:02d}": D(i * 10) for i in range(1, 26)} | {"LOSS": D("-1000"), "": D("5")}
    shown, hidden = fig.pivot_columns(totals, 20)
    # the loss is large in absolute terms: shown; the five smallest (P01..P05) and "" are not columns
    assert len(shown) == 20 and "LOSS" in shown and "P01" not in shown and "" not in shown
    assert shown == sorted(shown) and hidden == 6
    assert fig.pivot_columns({"B": D(1), "A": D(2), "": D(3)}, 20) == (["A", "B"], 0)
