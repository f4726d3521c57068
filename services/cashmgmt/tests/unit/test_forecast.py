"""The 13-week forecast on hand-made inputs (no database, no network).

The horizon of every test: as of Wednesday 2027-01-06, week 1 is Mon 2027-01-04 .. Sun 01-10,
week 2 01-11..17, week 3 01-18..24, week 4 01-25..31, week 5 02-01..07, week 6 02-08..14, ...,
week 13 03-29..04-04; 2027-04-05 onwards is beyond the horizon."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from cashmgmt.domain.forecast import (
    Actual,
    BudgetMapping,
    BudgetMonth,
    ExpectedPayment,
    ForecastError,
    Inputs,
    OpenInvoice,
    OpenPurchaseOrder,
    OpenSalesOrder,
    PaidInvoice,
    actuals_by_week,
    days_late,
    forecast,
    horizon,
    week_of,
)

D = dt.date.fromisoformat
AS_OF = D("2027-01-06")
M = Decimal


def paid(customer: str, due: str, on: str, amount: str) -> PaidInvoice:
    return PaidInvoice(customer, D(due), D(on), M(amount))


HISTORY = [
    # A: 1,000 paid 10 days late and 3,000 paid 2 days late -> (1000*10 + 3000*2) / 4000 = 4 days
    paid("A", "2026-10-01", "2026-10-11", "1000"), paid("A", "2026-11-01", "2026-11-03", "3000"),
    # B: 500 paid 5 days early -> -5
    paid("B", "2026-11-20", "2026-11-15", "500"),
    # D: 100 one day late, 100 two days late -> 1.5, rounded half up -> 2
    paid("D", "2026-11-01", "2026-11-02", "100"), paid("D", "2026-11-01", "2026-11-03", "100"),
]


def test_days_late_is_the_amount_weighted_average_rounded_half_up():
    assert days_late(HISTORY) == {"A": 4, "B": -5, "D": 2}
    assert days_late([]) == {}


def test_horizon_and_weeks():
    assert horizon(AS_OF) == (D("2027-01-04"), D("2027-04-05"))
    assert week_of(D("2026-12-01"), AS_OF) == 1  # overdue: expected now
    assert week_of(D("2027-01-04"), AS_OF) == 1  # before as_of but in its week
    assert week_of(D("2027-01-10"), AS_OF) == 1
    assert week_of(D("2027-01-11"), AS_OF) == 2
    assert week_of(D("2027-04-04"), AS_OF) == 13
    assert week_of(D("2027-04-05"), AS_OF) is None


INPUTS = Inputs(
    open_invoices=[
        OpenInvoice("a1", "INV-A1", "A", "CNY", D("2027-01-20"), M("1130.00")),  # +4 -> 01-24, week 3
        OpenInvoice("b1", "INV-B1", "B", "CNY", D("2027-01-11"), M("565.00")),   # -5 -> 01-06, week 1
        OpenInvoice("c1", "INV-C1", "C", "CNY", D("2026-12-15"), M("200.00")),   # no history, overdue: week 1
        OpenInvoice("d1", "INV-D1", "D", "CNY", D("2027-01-13"), M("300.00")),   # +2 -> 01-15, week 2
        OpenInvoice("a2", "INV-A2", "A", "EUR", D("2027-03-30"), M("1000.00")),  # +4 -> 04-03, week 13
        OpenInvoice("c2", "INV-C2", "C", "CNY", D("2027-04-05"), M("50.00")),    # beyond the horizon
    ],
    history=HISTORY,
    # expected to ship 01-02 (passed): invoiced today 01-06, + 30 days terms + A's 4 days = 02-09, week 6
    sales_orders=[OpenSalesOrder("so1", "SO-1", "A", "CNY", D("2027-01-02"), M("2260.00"), 30)],
    payments=[ExpectedPayment("p1", "AP-1", "S1", "CNY", D("2027-01-15"), M("980.00"), "discount date"),  # week 2
              ExpectedPayment("p2", "AP-2", "S2", "CNY", D("2026-12-31"), M("500.00"), "due date")],  # overdue: 1
    # expected in 01-10 (after as_of): received then, paid 30 days later = 02-09, week 6
    purchase_orders=[OpenPurchaseOrder("po1", "PO-1", "S1", "CNY", D("2027-01-10"), M("1130.00"), 30)],
    budget=[BudgetMonth("RENT", "2026-12", "CNY", M("8000")),  # its payday 12-25 has passed: not forecast
            BudgetMonth("RENT", "2027-01", "CNY", M("8000")),  # 01-25, week 4
            BudgetMonth("RENT", "2027-02", "CNY", M("0")),     # already spent: nothing left to pay
            BudgetMonth("RENT", "2027-04", "CNY", M("8000")),  # 04-25: beyond the horizon, not forecast
            BudgetMonth("UTIL", "2027-01", "CNY", M("300"))],  # not mapped
    mappings=[BudgetMapping("RENT", "out", 25)],
)


def test_the_forecast_equals_the_hand_computation():
    dated, buckets = forecast(INPUTS, AS_OF, {"CNY": M("10000.00")})
    weeks = {(f.number, w, f.expected_on.isoformat(), f.amount) for w, f in dated}
    assert weeks == {
        ("INV-A1", 3, "2027-01-24", M("1130.00")), ("INV-B1", 1, "2027-01-06", M("565.00")),
        ("INV-C1", 1, "2026-12-15", M("200.00")), ("INV-D1", 2, "2027-01-15", M("300.00")),
        ("INV-A2", 13, "2027-04-03", M("1000.00")), ("INV-C2", None, "2027-04-05", M("50.00")),
        ("SO-1", 6, "2027-02-09", M("2260.00")), ("AP-1", 2, "2027-01-15", M("-980.00")),
        ("AP-2", 1, "2026-12-31", M("-500.00")), ("PO-1", 6, "2027-02-09", M("-1130.00")),
        ("RENT 2027-01", 4, "2027-01-25", M("-8000")),
    }
    cny, eur = buckets["CNY"], buckets["EUR"]
    w = cny.buckets
    assert (w[0].inflows, w[0].outflows) == ({"receivables": M("765.00")}, {"payables": M("-500.00")})
    assert (w[1].inflows, w[1].outflows) == ({"receivables": M("300.00")}, {"payables": M("-980.00")})
    assert (w[2].inflows, w[2].outflows) == ({"receivables": M("1130.00")}, {})
    assert (w[3].inflows, w[3].outflows) == ({}, {"budget": M("-8000")})
    assert (w[5].inflows, w[5].outflows) == ({"sales_orders": M("2260.00")}, {"purchase_orders": M("-1130.00")})
    assert [b.net for b in w] == [M("265"), M("-680"), M("1130"), M("-8000"), 0, M("1130")] + [0] * 7
    # 10,000 + 265 = 10,265; - 680 = 9,585; + 1,130 = 10,715; - 8,000 = 2,715; + 1,130 = 3,845 to the end
    assert cny.closing() == [M(x) for x in ("10265", "9585", "10715", "2715", "2715")] + [M("3845")] * 8
    assert (cny.beyond, cny.beyond_documents) == (M("50.00"), 1)
    assert [b.documents for b in w] == [3, 2, 1, 1, 0, 2] + [0] * 7
    # EUR is its own forecast, never converted, and has no opening balance
    assert eur.opening is None and eur.closing() == [None] * 13
    assert eur.buckets[12].inflows == {"receivables": M("1000.00")}
    assert (eur.buckets[12].start, eur.buckets[12].end) == (D("2027-03-29"), D("2027-04-04"))


def test_a_customer_without_history_pays_on_the_due_date_and_basis_says_why():
    dated, _ = forecast(Inputs(open_invoices=[OpenInvoice("x", "INV-X", "NEW", "CNY", D("2027-02-01"),
                                                          M("10"))]), AS_OF)
    (w, f), = dated
    assert (w, f.expected_on, f.basis) == (5, D("2027-02-01"), "due 2027-02-01; NEW pays on the due date")
    dated, _ = forecast(Inputs(open_invoices=[OpenInvoice("x", "INV-X", "A", "CNY", D("2027-02-01"), M("10"))],
                               history=HISTORY), AS_OF)
    assert dated[0][1].basis == "due 2027-02-01; A pays 4 days late on average"


def test_orders_are_dated_from_their_expected_delivery_and_receipt_dates():
    """A sales order is invoiced when it is expected to ship and paid the customer's terms and
    days late after; a purchase order is paid the supplier's net days after its expected receipt;
    an expected date already passed means now."""
    dated, _ = forecast(Inputs(
        history=HISTORY,
        sales_orders=[OpenSalesOrder("so", "SO-9", "A", "CNY", D("2027-02-15"), M("100.00"), 30),
                      OpenSalesOrder("late", "SO-8", "NEW", "CNY", D("2026-12-01"), M("1.00"), 10)],
        purchase_orders=[OpenPurchaseOrder("po", "PO-9", "S1", "CNY", D("2027-03-01"), M("50.00"), 14)]), AS_OF)
    got = {f.number: (w, f.expected_on, f.amount, f.basis) for w, f in dated}
    # 02-15 + 30 + 4 = 03-21 (week 11: 03-15..21); 03-01 + 14 = 03-15 (week 11)
    assert got["SO-9"] == (11, D("2027-03-21"), M("100.00"), "expected delivery 2027-02-15: invoiced 2027-02-15, "
                                                               "30 days terms; A pays 4 days late on average")
    assert got["PO-9"] == (11, D("2027-03-15"), M("-50.00"), "expected receipt 2027-03-01: received 2027-03-01, "
                                                               "paid after 14 days")
    assert got["SO-8"] == (2, D("2027-01-16"), M("1.00"), "expected delivery 2026-12-01 (passed): invoiced "
                                                           "2027-01-06, 10 days terms; NEW pays on the due date")


def test_amounts_are_quantised_to_the_currency_minor_unit():
    dated, _ = forecast(Inputs(open_invoices=[OpenInvoice("j", "INV-J", "C", "JPY", D("2027-01-20"),
                                                          M("1000.4"))]), AS_OF)
    assert dated[0][1].amount == M("1000")


def test_a_bad_budget_period_is_refused():
    with pytest.raises(ForecastError):
        forecast(Inputs(budget=[BudgetMonth("RENT", "2027/01", "CNY", M("1"))],
                        mappings=[BudgetMapping("RENT", "out", 1)]), AS_OF)


def test_budget_payday_past_the_month_end_is_its_last_day_and_income_is_positive():
    dated, _ = forecast(Inputs(budget=[BudgetMonth("SUBSIDY", "2027-02", "CNY", M("700"))],
                               mappings=[BudgetMapping("SUBSIDY", "in", 31)]), AS_OF)
    assert [(w, f.expected_on, f.amount) for w, f in dated] == [(8, D("2027-02-28"), M("700.00"))]


def test_actuals_count_only_the_weeks_the_bank_fully_reported():
    lines = [Actual("CNY", D("2027-01-05"), M("700")), Actual("CNY", D("2027-01-08"), M("-500")),
             Actual("CNY", D("2027-01-12"), M("300")), Actual("CNY", D("2027-01-16"), M("-1000")),
             Actual("CNY", D("2027-01-18"), M("5")),      # week 3: the bank has not reported all of it yet
             Actual("CNY", D("2027-01-03"), M("99")),     # before week 1
             Actual("EUR", D("2027-01-05"), M("1"))]      # no EUR statements at all
    got = actuals_by_week(lines, AS_OF, {"CNY": D("2027-01-17")})
    assert set(got) == {"CNY"}
    assert got["CNY"][:3] == [(M("700"), M("-500")), (M("300"), M("-1000")), None]
    assert got["CNY"][3:] == [None] * 10
