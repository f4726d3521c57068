"""Balances on the wrong side are presented where they belong, per counterparty (CAS and IFRS)."""

from decimal import Decimal

from gl.domain.chart import load_chart
from gl.domain.presentation import Part, present

CAS, IFRS = load_chart("cas"), load_chart("ifrs")


def totals(lines: dict[str, list[Part]]) -> dict[str, Decimal]:
    return {line: sum((p.balance for p in parts), Decimal(0)) for line, parts in lines.items()}


def test_cas_known_answers():
    balances = {
        # Receivables by customer: K1 owes 1,130.00; K2 paid 565.00 too much; K3 is settled.
        ("1122", "K1"): Decimal("1130.00"), ("1122", "K2"): Decimal("-565.00"), ("1122", "K3"): Decimal("0"),
        # Payables by supplier: S1 is owed 2,000.00; S2 was paid 300.00 in advance.
        ("220201", "S1"): Decimal("-2000.00"), ("220201", "S2"): Decimal("300.00"),
        # VAT: input 1,300.00 exceeds output 1,000.00 -> 300.00 recoverable, an asset.
        ("22210101", ""): Decimal("1300.00"), ("22210102", ""): Decimal("-1000.00"),
        # The bank is overdrawn by 50.00; cash on hand 20.00; capital untouched.
        ("1002", ""): Decimal("-50.00"), ("1001", ""): Decimal("20.00"), ("4001", ""): Decimal("-1000.00"),
    }
    lines = present(balances, CAS.reclassify)
    assert totals(lines) == {
        "1122": Decimal("1130.00"),            # receivables: K1 only, not 1,130 - 565
        "2203": Decimal("-565.00"),            # advances from customers: K2's credit
        "220201": Decimal("-2000.00"),         # payables: S1 only
        "1123": Decimal("300.00"),             # prepayments: S2's debit
        "other_current_assets": Decimal("300.00"),
        "2001": Decimal("-50.00"),             # short-term borrowings: the overdraft
        "1001": Decimal("20.00"),
        "4001": Decimal("-1000.00"),
    }
    assert lines["2203"] == [Part("1122", "K2", Decimal("-565.00"))]
    assert {p.account for p in lines["other_current_assets"]} == {"22210101", "22210102"}
    # What is presented adds up to what the ledger holds: nothing is created or lost.
    assert sum(totals(lines).values()) == sum(balances.values())


def test_cas_vat_in_credit_stays_a_liability_net():
    lines = present({("22210101", ""): Decimal("13250.00"), ("22210102", ""): Decimal("-25740.00")}, CAS.reclassify)
    assert totals(lines) == {"vat_payable": Decimal("-12490.00")}


def test_one_customers_credit_never_nets_against_anothers_debt_across_accounts_with_no_counterparty():
    # A receivable line without a customer (e.g. from an event that carried none) is its own counterparty ''.
    lines = present({("1122", ""): Decimal("100.00"), ("1122", "K9"): Decimal("-40.00")}, CAS.reclassify)
    assert totals(lines) == {"1122": Decimal("100.00"), "2203": Decimal("-40.00")}


def test_ifrs_equivalents():
    balances = {("1100", "K2"): Decimal("-565.00"), ("2000", "S2"): Decimal("300.00"),
                ("1300", ""): Decimal("130.00"), ("2100", ""): Decimal("-100.00"), ("1010", ""): Decimal("-5.00")}
    assert totals(present(balances, IFRS.reclassify)) == {
        "2300": Decimal("-565.00"), "1150": Decimal("300.00"), "1300": Decimal("30.00"), "2400": Decimal("-5.00")}
    assert IFRS.accounts["2300"].type == "liability" and IFRS.accounts["1150"].type == "asset"


def test_account_names_are_whole():
    # An unquoted comma in the chart's YAML once cut 1601's name to "Property".
    assert CAS.accounts["1601"].name_en == "Fixed assets"
    assert IFRS.accounts["1600"].name_en == "Property, plant and equipment"
