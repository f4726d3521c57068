# ruff: noqa: E501
"""Every default posting rule, table-driven: event in, expected journal lines out (CAS chart)."""

import datetime as dt
from decimal import Decimal

import pytest
from finance.ap.v1 import events_pb2 as ap
from finance.ar.v1 import events_pb2 as ar
from finance.cashmgmt.v1 import events_pb2 as cm
from finance.common.v1 import types_pb2
from finance.fixedassets.v1 import events_pb2 as fa
from finance.inventory.v1 import events_pb2 as inv
from fincore import dates, money
from fincore.events.registry import registry
from gl.bootstrap import rulebook
from gl.domain.chart import load_chart
from gl.domain.postable import MissingDimension, UnknownAccount
from gl.domain.settlement import AwaitingBankAccount

CAS = load_chart("cas")
D = dates.to_proto(dt.date(2026, 11, 15))


def M(v: str) -> types_pb2.Money:  # noqa: N802
    return money.to_proto(Decimal(v), "CNY")


def mv(cost: str, item="P1", category="") -> inv.MovementLine:
    return inv.MovementLine(item_code=item, item_category=category, total_cost=M(cost), quantity="1")


CC = types_pb2.Dimensions(cost_centre="CC-ADMIN")
H = dict(company_id="C1", document_number="DOC-1", occurrence_date=D)
DEC = dict(H, occurrence_date=dates.to_proto(dt.date(2026, 12, 15)))  # open items and realised FX from December
CASES = [
    ("invoice", ar.InvoiceIssued(**H, customer_code="K", net_total=M("100"), tax_total=M("13"), gross_total=M("113"),
                                 lines=[ar.InvoiceLine(net=M("100"), tax=M("13"))]),
     [("1122", "113", "0"), ("6001", "0", "100"), ("22210102", "0", "13")]),
    ("credit memo", ar.CreditMemoIssued(**H, customer_code="K", gross_total=M("56.5"),
                                        lines=[ar.InvoiceLine(net=M("50"), tax=M("6.5"))]),
     [("6001", "50", "0"), ("22210102", "6.5", "0"), ("1122", "0", "56.5")]),
    ("credit memo, part customer credit", ar.CreditMemoIssued(**DEC, customer_code="K", gross_total=M("56.5"),
                                                               applied=M("50"),
                                                               lines=[ar.InvoiceLine(net=M("50"), tax=M("6.5"))]),
     [("6001", "50", "0"), ("22210102", "6.5", "0"), ("1122", "0", "50"), ("1122", "0", "6.5")]),
    ("receipt", ar.PaymentReceived(**H, customer_code="K", amount=M("113")),
     [("1002", "113", "0"), ("1122", "0", "113")]),
    ("receipt, December", ar.PaymentReceived(**DEC, customer_code="K", amount=M("120"), unapplied=M("7"),
                                             applications=[ar.ReceiptApplication(invoice_id="I1", amount=M("113"))]),
     [("1002", "120", "0"), ("1122", "0", "113"), ("1122", "0", "7")]),
    ("bad debt provision", ar.BadDebtProvisioned(**H, amount=M("20")), [("6702", "20", "0"), ("1231", "0", "20")]),
    ("bad debt release", ar.BadDebtProvisioned(**H, amount=M("-5")), [("6702", "0", "5"), ("1231", "5", "0")]),
    ("refund", ar.RefundPaid(**H, customer_code="K", amount=M("100")), [("1122", "100", "0"), ("1002", "0", "100")]),
    ("refund without sources, December", ar.RefundPaid(**DEC, customer_code="K", amount=M("100")),
     [("1122", "100", "0"), ("1002", "0", "100")]),
    ("refund from two credits", ar.RefundPaid(**DEC, customer_code="K", amount=M("100"), sources=[
        ar.RefundSource(document_id="R1", amount=M("60")), ar.RefundSource(document_id="CM1", amount=M("40"))]),
     [("1122", "60", "0"), ("1122", "40", "0"), ("1002", "0", "100")]),
    ("return to supplier", inv.GoodsReturnedToSupplier(**H, supplier_code="S", total_cost=M("40"), lines=[mv("40")]),
     [("220202", "40", "0"), ("1405", "0", "40")]),
    ("write-off", ar.BadDebtWrittenOff(**H, amount=M("30")), [("1231", "30", "0"), ("1122", "0", "30")]),
    ("goods received", inv.GoodsReceived(**H, supplier_code="S", total_cost=M("80"), lines=[mv("50"), mv("30", "P2")]),
     [("1405", "50", "0"), ("1405", "30", "0"), ("220202", "0", "80")]),
    ("goods issued", inv.GoodsIssued(**H, customer_code="K", total_cost=M("60"), lines=[mv("60")]),
     [("6401", "60", "0"), ("1405", "0", "60")]),
    ("goods returned", inv.GoodsReturned(**H, customer_code="K", total_cost=M("12"), lines=[mv("12")]),
     [("1405", "12", "0"), ("6401", "0", "12")]),
    ("stock gain", inv.StockAdjusted(**H, reason="count", value_change=M("7")), [("1405", "7", "0"), ("1901", "0", "7")]),
    ("stock loss", inv.StockAdjusted(**H, reason="count", value_change=M("-7")), [("1405", "0", "7"), ("1901", "7", "0")]),
    ("raw materials count", inv.StockAdjusted(**H, reason="count", value_change=M("-2"), item_category="RAW_MATERIAL"),
     [("1403", "0", "2"), ("1901", "2", "0")]),
    ("raw materials received", inv.GoodsReceived(**H, supplier_code="S", total_cost=M("80"), lines=[
        mv("50", category="RAW_MATERIAL"), mv("30", "P2", "MERCHANDISE")]),
     [("1403", "50", "0"), ("1405", "30", "0"), ("220202", "0", "80")]),
    ("cost adjusted", inv.CostAdjusted(**H, item_code="P1", cost_change=M("3")), [("6401", "3", "0"), ("1405", "0", "3")]),
    ("AP stock invoice", ap.InvoiceApproved(**H, kind=ap.INVOICE_KIND_STOCK, supplier_code="S", gross_total=M("113"),
                                            lines=[ap.PayableLine(net=M("100"), price_variance=M("4"), tax=M("13"))]),
     [("220202", "96", "0"), ("1401", "4", "0"), ("22210101", "13", "0"), ("220201", "0", "113")]),
    ("price difference allocated", inv.PriceDifferenceAllocated(**H, item_code="P1", inventory_change=M("12"),
                                                               cost_of_sales_change=M("8"), total=M("20")),
     [("1405", "12", "0"), ("6401", "8", "0"), ("1401", "0", "20")]),
    ("AP expense invoice", ap.InvoiceApproved(**H, kind=ap.INVOICE_KIND_EXPENSE, supplier_code="S", gross_total=M("106"),
                                              lines=[ap.PayableLine(net=M("100"), tax=M("6"), dimensions=CC)]),
     [("6602", "100", "0"), ("22210101", "6", "0"), ("220201", "0", "106")]),
    ("AP selling expense", ap.InvoiceApproved(**H, kind=ap.INVOICE_KIND_EXPENSE_CLAIM, supplier_code="S",
                                              gross_total=M("10"),
                                              lines=[ap.PayableLine(net=M("10"), expense_category="SELLING",
                                                                    dimensions=CC)]),
     [("6601", "10", "0"), ("220201", "0", "10")]),
    ("AP employee claim", ap.InvoiceApproved(**H, kind=ap.INVOICE_KIND_EXPENSE_CLAIM, supplier_code="E1",
                                             supplier_group="EMPLOYEE", gross_total=M("10"),
                                             lines=[ap.PayableLine(net=M("10"), expense_category="SELLING",
                                                                   dimensions=CC)]),
     [("6601", "10", "0"), ("2241", "0", "10")]),
    ("AP payment", ap.PaymentMade(**H, supplier_code="S", amount=M("113")), [("220201", "113", "0"), ("1002", "0", "113")]),
    ("AP payment without applications, December", ap.PaymentMade(**DEC, supplier_code="S", amount=M("113")),
     [("220201", "113", "0"), ("1002", "0", "113")]),
    ("AP payment, December", ap.PaymentMade(**DEC, supplier_code="S", amount=M("113"), applications=[
        ap.PaymentApplication(invoice_id="I1", amount=M("100")), ap.PaymentApplication(invoice_id="I2", amount=M("13"))]),
     [("220201", "100", "0"), ("220201", "13", "0"), ("1002", "0", "113")]),
    ("AP employee payment", ap.PaymentMade(**H, supplier_code="E1", supplier_group="EMPLOYEE", amount=M("10")),
     [("2241", "10", "0"), ("1002", "0", "10")]),
    ("AP payment, discount", ap.PaymentMade(**H, supplier_code="S", amount=M("110.74"), applications=[
        ap.PaymentApplication(invoice_id="I1", amount=M("110.74"), discount=M("2.26"))]),
     [("220201", "110.74", "0"), ("220201", "2.26", "0"), ("6603", "0", "2.26"), ("1002", "0", "110.74")]),
    ("bank charge", cm.BankChargeRecorded(**H, bank_account="B1", amount=M("2.5")), [("6603", "2.5", "0"), ("1002", "0", "2.5")]),
    ("interest", cm.InterestReceived(**H, bank_account="B1", amount=M("8")), [("1002", "8", "0"), ("6603", "0", "8")]),
    ("transfer", cm.InternalTransfer(**H, from_bank_account="B1", to_bank_account="B2", amount=M("500")),
     [("1002", "500", "0"), ("1002", "0", "500")]),
    ("unidentified money in", cm.BankLineUnidentified(**H, line_id="7", direction="IN", amount=M("99")),
     [("1002", "99", "0"), ("2241", "0", "99")]),
    ("unidentified money out", cm.BankLineUnidentified(**H, line_id="8", direction="OUT", amount=M("5"),
                                                       gl_account="100201"),
     [("2241", "5", "0"), ("100201", "0", "5")]),
    ("suspense cleared", cm.SuspenseCleared(**H, line_id="7", direction="IN", amount=M("99"), gl_account="100201",
                                            identified_as="customer C1"),
     [("2241", "99", "0"), ("100201", "0", "99")]),
    ("charge on a bank sub-account", cm.BankChargeRecorded(**H, bank_account="B1", amount=M("2.5"), gl_account="100202"),
     [("6603", "2.5", "0"), ("100202", "0", "2.5")]),
    ("transfer between sub-accounts", cm.InternalTransfer(**H, from_bank_account="B1", to_bank_account="B2",
                                                           amount=M("500"), to_amount=M("500"),
                                                           from_gl_account="100201", to_gl_account="100202"),
     [("100202", "500", "0"), ("100201", "0", "500")]),
    ("asset acquired", fa.AssetAcquired(**H, asset_id="A1", supplier_code="S", cost=M("1200")),
     [("1601", "1200", "0"), ("220201", "0", "1200")]),
    ("depreciation", fa.AssetDepreciated(**H, asset_id="A1", amount=M("100"), dimensions=CC),
     [("6602", "100", "0"), ("1602", "0", "100")]),
    ("disposal at a gain", fa.AssetDisposed(**H, asset_id="A1", cost=M("1200"), accumulated_depreciation=M("900"),
                                            proceeds=M("400")),
     [("1602", "900", "0"), ("1002", "400", "0"), ("1601", "0", "1200"), ("6115", "0", "100")]),
    ("disposal at a loss", fa.AssetDisposed(**H, asset_id="A1", cost=M("1200"), accumulated_depreciation=M("900"),
                                            proceeds=M("250")),
     [("1602", "900", "0"), ("1002", "250", "0"), ("1601", "0", "1200"), ("6115", "50", "0")]),
]


@pytest.mark.parametrize("name, msg, expected", CASES, ids=[c[0] for c in CASES])
def test_default_rule(name, msg, expected):
    ce_type = registry.for_message(msg).ce_type
    d = rulebook().draft(ce_type=ce_type, msg=msg, chart=CAS, functional_currency="CNY")
    got = [(ln.account_code, ln.debit, ln.credit) for ln in d.lines]
    assert got == [(a, Decimal(dr), Decimal(cr)) for a, dr, cr in expected]
    assert d.total_debit == d.total_credit


def test_every_posting_event_of_the_design_has_a_rule_and_a_case():
    covered = {registry.for_message(c[1]).ce_type for c in CASES}
    assert covered == set(rulebook().event_types)


def test_cash_lines_carry_a_cash_flow_item():
    for _, msg, _ in CASES:
        d = rulebook().draft(ce_type=registry.for_message(msg).ce_type, msg=msg, chart=CAS, functional_currency="CNY")
        for ln in d.lines:
            assert bool(ln.cash_flow_item) == CAS.accounts[ln.account_code].cash, (msg.DESCRIPTOR.name, ln)


def test_expense_without_cost_centre_is_refused():
    msg = ap.InvoiceApproved(**H, kind=ap.INVOICE_KIND_EXPENSE, supplier_code="S", gross_total=M("100"),
                             lines=[ap.PayableLine(net=M("100"))])
    with pytest.raises(MissingDimension, match="cost_centre"):
        rulebook().draft(ce_type="finance.ap.InvoiceApproved.v1", msg=msg, chart=CAS, functional_currency="CNY")


def test_inventory_accounts_by_item_category_on_the_ifrs_chart():
    msg = inv.GoodsIssued(**H, customer_code="K", total_cost=M("60"), lines=[
        mv("10", category="RAW_MATERIAL"), mv("20", "P2", "FINISHED_GOODS"), mv("30", "P3", "MERCHANDISE")])
    d = rulebook().draft(ce_type="finance.inventory.GoodsIssued.v1", msg=msg, chart=load_chart("ifrs"),
                         functional_currency="CNY")
    assert [(ln.account_code, ln.credit) for ln in d.lines if ln.credit] == [
        ("1201", Decimal(10)), ("1202", Decimal(20)), ("1203", Decimal(30))]


def test_transfer_between_currencies_posts_each_leg_at_the_ledgers_rate_and_realises_the_difference():
    # 1,000.00 EUR left the EUR account (ledger: 7.90) and 7,800.00 CNY reached the CNY account:
    # the EUR leg leaves at 7,900.00, so 100.00 is a realised exchange loss.
    msg = cm.InternalTransfer(**H, from_bank_account="EUR1", to_bank_account="CNY1",
                              amount=money.to_proto(Decimal("1000"), "EUR"), to_amount=M("7800"),
                              from_gl_account="100202", to_gl_account="100201")
    d = rulebook().draft(ce_type="finance.cashmgmt.InternalTransfer.v1", msg=msg, chart=CAS,
                         functional_currency="CNY", rates={"EUR": Decimal("7.9")})
    assert [(ln.account_code, ln.debit, ln.credit, ln.cash_flow_item) for ln in d.lines] == [
        ("100201", Decimal("7800.00"), Decimal(0), "internal_transfer"),
        ("100202", Decimal(0), Decimal("7900.00"), "internal_transfer"),
        ("660302", Decimal("100.00"), Decimal(0), "")]
    assert d.total_debit == d.total_credit == Decimal("7900.00")


@pytest.mark.parametrize("gl_account", ["1001", "1122", "100", "999999"])
def test_a_named_gl_account_must_be_a_sub_account_of_the_bank(gl_account):
    msg = cm.BankChargeRecorded(**H, bank_account="B1", amount=M("2.5"), gl_account=gl_account)
    with pytest.raises(UnknownAccount, match="no sub-account"):
        rulebook().draft(ce_type="finance.cashmgmt.BankChargeRecorded.v1", msg=msg, chart=CAS,
                         functional_currency="CNY")


def test_receipts_refunds_and_payments_post_to_the_sub_account_of_the_bank_account_they_name():
    """The ledger learned B1 -> 100201 from cash management (BankAccountOpened); a bank account
    it has not learned (or none) posts to the chart's bank, except in the ledger's posting
    (`await_bank_accounts`), where an account not learned yet is waited for."""
    learned = {"B1": "100201"}
    cases = [(ar.PaymentReceived(**H, customer_code="K", bank_account="B1", amount=M("113")), "100201"),
             (ar.PaymentReceived(**H, customer_code="K", bank_account="B9", amount=M("113")), "1002"),
             (ar.RefundPaid(**H, customer_code="K", bank_account="B1", amount=M("20")), "100201"),
             (ap.PaymentMade(**H, supplier_code="S", bank_account="B1", amount=M("50")), "100201")]
    for msg, bank in cases:
        d = rulebook().draft(ce_type=registry.for_message(msg).ce_type, msg=msg, chart=CAS, functional_currency="CNY",
                             bank_accounts=learned)
        assert [ln.account_code for ln in d.lines if ln.cash_flow_item] == [bank], msg
    with pytest.raises(UnknownAccount, match="no sub-account of 1002"):  # a mapping outside bank deposits
        rulebook().draft(ce_type="finance.ar.PaymentReceived.v1", functional_currency="CNY", chart=CAS,
                         msg=ar.PaymentReceived(**H, customer_code="K", bank_account="B1", amount=M("1")),
                         bank_accounts={"B1": "1122"})
    with pytest.raises(AwaitingBankAccount) as waits:
        rulebook().draft(ce_type="finance.ap.PaymentMade.v1", functional_currency="CNY", chart=CAS,
                         msg=ap.PaymentMade(**H, supplier_code="S", bank_account="B9", amount=M("50")),
                         bank_accounts=learned, await_bank_accounts=True)
    assert (waits.value.code, waits.value.document) == ("B9", "bank-account:B9")
    d = rulebook().draft(ce_type="finance.ap.PaymentMade.v1", functional_currency="CNY", chart=CAS,
                         msg=ap.PaymentMade(**H, supplier_code="S", amount=M("50")), bank_accounts=learned,
                         await_bank_accounts=True)  # names no account: the chart's bank, nothing to wait for
    assert [ln.account_code for ln in d.lines if ln.cash_flow_item] == ["1002"]
