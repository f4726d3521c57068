"""One check for every journal (gl.domain.postable): manual journals and rule-made ones are
refused by the same function, for the same reasons."""

import datetime as dt
from decimal import Decimal

import pytest
from gl.domain.chart import load_chart
from gl.domain.journal import DraftLine, JournalDraft
from gl.domain.postable import (
    CashFlowItemRefused,
    ControlAccount,
    ManualLine,
    MissingDimension,
    PostingRefused,
    UnknownAccount,
    blocked_in,
    check_lines,
    manual_draft,
)

CAS = load_chart("cas")
DAY = dt.date(2026, 11, 3)


def manual(*lines: ManualLine, currency: str = "CNY") -> JournalDraft:
    return manual_draft(company_id="C", currency=currency, chart=CAS, posting_date=DAY, description="m",
                        lines=lines)


def ml(account: str, debit: str = "0", credit: str = "0", **kw) -> ManualLine:
    return ManualLine(account, Decimal(debit), Decimal(credit), **kw)


def test_a_good_manual_journal_is_drafted_quantized():
    d = manual(ml("1002", "100", cash_flow_item="capital_contributed"), ml("4001", credit="100.00"))
    assert [(x.account_code, x.debit, x.credit) for x in d.lines] == [
        ("1002", Decimal("100.00"), 0), ("4001", 0, Decimal("100.00"))]
    assert (d.rule_id, d.source_event_type) == ("manual", "gl.manual")


@pytest.mark.parametrize(("lines", "error", "message"), [
    ((ml("1122", "1"), ml("4001", credit="1")), ControlAccount, "line 1: 1122 is a control account"),
    ((ml("6602", "1"), ml("4001", credit="1")), MissingDimension, "line 1: account 6602 needs cost_centre"),
    ((ml("1002", "1"), ml("4001", credit="1")), CashFlowItemRefused, "line 1: a line on cash account 1002"),
    ((ml("4001", "1", cash_flow_item="sales_receipts"), ml("4001", credit="1")), CashFlowItemRefused,
     "line 1: only cash account lines"),
    ((ml("9999", "1"), ml("4001", credit="1")), UnknownAccount, "line 1: no account 9999"),
    ((ml("4001", "1"), ml("4001", credit="2")), PostingRefused, "debits 1.00 != credits 2.00"),
    ((ml("4001", "1.001"), ml("4001", credit="1.001")), PostingRefused, "finer than the CNY minor unit"),
    ((ml("4001", "1", "1"), ml("4001", credit="0")), PostingRefused, "line 1: a line is a debit or a credit"),
    ((ml("4001"), ml("4001", "1"), ml("4002", credit="1")), PostingRefused, "line 1: neither a debit nor a credit"),
    ((ml("4001", "1", dimensions={"colour": "red"}), ml("4001", credit="1")), PostingRefused,
     "unknown dimensions"),
])
def test_manual_lines_the_ledger_refuses(lines, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(")):
        manual(*lines)


def test_minor_units_follow_the_currency():
    # JPY has no minor unit: 1.5 yen is refused, 100 yen is fine.
    with pytest.raises(PostingRefused, match="finer than the JPY minor unit"):
        manual(ml("4001", "1.5"), ml("4104", credit="1.5"), currency="JPY")
    assert manual(ml("4001", "100"), ml("4104", credit="100"), currency="JPY").total_debit == 100


def test_the_same_check_lets_sub_ledger_journals_post_to_control_accounts():
    d = JournalDraft("C", DAY, "CNY", "invoice", (DraftLine("1122", Decimal(113), Decimal(0), "CNY"),
                                                  DraftLine("6001", Decimal(0), Decimal(113), "CNY")))
    check_lines(d, CAS, sub_ledger=True)
    with pytest.raises(ControlAccount):
        check_lines(d, CAS, sub_ledger=False)
    assert blocked_in(d, {"6001", "1002"}) == ["6001"] and blocked_in(d, ()) == []


@pytest.mark.parametrize("day", [dt.date(1, 1, 1), dt.date(1899, 12, 31), dt.date(2200, 1, 1), dt.date(9999, 12, 31)])
def test_posting_dates_outside_the_supported_range_are_refused(day):
    lines = (ml("4001", "1"), ml("4104", credit="1"))
    with pytest.raises(PostingRefused, match="outside the supported range 1900-01-01..2199-12-31"):
        manual_draft(company_id="C", currency="CNY", chart=CAS, posting_date=day, description="m", lines=lines)
    # and a journal made by the rules, through the same check
    d = JournalDraft("C", day, "CNY", "e", (DraftLine("1122", Decimal(1), Decimal(0), "CNY"),
                                            DraftLine("6001", Decimal(0), Decimal(1), "CNY")))
    with pytest.raises(PostingRefused):
        check_lines(d, CAS, sub_ledger=True)
