"""Budget control decisions and thresholds (pure)."""

from decimal import Decimal as D

from budget.domain.control import LineFigures, crossed, decide


def line(mode="block", tol="0", actual="0", committed="0", reserved="0", budget="1000.00"):
    return LineFigures("L1", "EUR", D(budget), D(tol), mode, D(actual), D(committed), D(reserved))


def test_within_budget():
    d = decide(line(actual="300", reserved="200"), D("500"))
    assert d.allowed and not d.warning and d.reason == "within budget"


def test_block_refuses_with_the_numbers():
    d = decide(line(actual="300", committed="100", reserved="200"), D("500"))
    assert not d.allowed
    assert d.reason == ("over budget by 100.00: requested 500.00, budget 1000.00, consumed 400.00, "
                        "reserved 200.00, available 400.00")


def test_tolerance_widens_the_limit():
    assert decide(line(tol="10", actual="900"), D("200")).allowed
    assert not decide(line(tol="10", actual="900"), D("200.01")).allowed


def test_warn_passes_with_a_warning_and_none_only_tracks():
    d = decide(line("warn", actual="990"), D("50"))
    assert d.allowed and d.warning and "warn-only" in d.reason
    d = decide(line("none", actual="990"), D("50"))
    assert d.allowed and not d.warning


def test_thresholds_on_consumed_plus_reserved():
    assert line(actual="700").used_pct == 70
    assert crossed(line(actual="700"), line(actual="700", reserved="150")) == [80]
    assert crossed(line(actual="790"), line(actual="790", committed="300")) == [80, 100]
    assert crossed(line(actual="850"), line(actual="860")) == []
