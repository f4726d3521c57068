import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from finance.ar.v1 import events_pb2 as ar
from finance.common.v1 import types_pb2
from fincore import dates, money
from gl.domain.chart import available_charts, load_chart
from gl.domain.journal import DraftLine, JournalDraft, UnbalancedJournal
from gl.domain.rules import MissingRate, NoRule, RuleError, load_rules, parse_rules, with_candidates

CAS = load_chart("cas")
M = lambda v, c="CNY": money.to_proto(Decimal(v), c)  # noqa: E731


def invoice(lines=(("100.00", "13.00", "GOODS"),), day=dt.date(2026, 11, 5), currency="CNY") -> ar.InvoiceIssued:
    msg = ar.InvoiceIssued(company_id="C1", document_number="INV-1", invoice_id="i1", customer_code="CUST",
                           currency=currency, occurrence_date=dates.to_proto(day),
                           dimensions=types_pb2.Dimensions(region="EAST"))
    net = tax = Decimal(0)
    for i, (n, t, cat) in enumerate(lines, 1):
        msg.lines.append(ar.InvoiceLine(line_no=i, item_code=f"P{i}", item_category=cat, description=f"item {i}",
                                        net=M(n, currency), tax=M(t, currency), tax_code="VAT13"))
        net, tax = net + Decimal(n), tax + Decimal(t)
    msg.net_total.CopyFrom(M(net, currency))
    msg.tax_total.CopyFrom(M(tax, currency))
    msg.gross_total.CopyFrom(M(net + tax, currency))
    return msg


@pytest.fixture(scope="module")
def book():
    return load_rules([load_chart(c) for c in available_charts()])


def test_invoice_posts_receivable_revenue_vat(book):
    d = book.draft(ce_type="finance.ar.InvoiceIssued.v1", msg=invoice(), chart=CAS, functional_currency="CNY",
                   event_id="e1")
    got = [(ln.account_code, ln.debit, ln.credit) for ln in d.lines]
    assert got == [("1122", Decimal("113.00"), 0), ("6001", 0, Decimal("100.00")), ("22210102", 0, Decimal("13.00"))]
    assert d.total_debit == d.total_credit == Decimal("113.00")
    assert (d.rule_id, d.rule_version, d.source_event_id, d.period) == ("ar.invoice_issued", 1, "e1", "2026-11")
    assert d.lines[0].dimensions == {"region": "EAST", "customer": "CUST"}
    assert d.lines[1].dimensions["product"] == "P1"


def test_account_by_attribute_and_zero_lines_skipped(book):
    msg = invoice(lines=(("100.00", "0.00", "SERVICE_OTHER"), ("50.00", "6.50", "GOODS")))
    d = book.draft(ce_type="finance.ar.InvoiceIssued.v1", msg=msg, chart=CAS, functional_currency="CNY")
    assert [ln.account_code for ln in d.lines] == ["1122", "6051", "6001", "22210102"]


def test_negative_amount_posts_on_the_other_side(book):
    msg = invoice(lines=(("100.00", "13.00", "GOODS"), ("-20.00", "-2.60", "GOODS")))
    d = book.draft(ce_type="finance.ar.InvoiceIssued.v1", msg=msg, chart=CAS, functional_currency="CNY")
    debits = {(ln.account_code, ln.debit) for ln in d.lines if ln.debit}
    assert ("6001", Decimal("20.00")) in debits and ("22210102", Decimal("2.60")) in debits
    assert d.total_debit == d.total_credit


def test_same_rules_post_to_the_ifrs_chart(book):
    d = book.draft(ce_type="finance.ar.InvoiceIssued.v1", msg=invoice(), chart=load_chart("ifrs"),
                   functional_currency="CNY")
    assert [ln.account_code for ln in d.lines] == ["1100", "4000", "2100"]


def test_foreign_currency_needs_a_rate_and_posts_at_it(book):
    msg = invoice(lines=(("100.00", "13.00", "GOODS"), ("33.33", "4.33", "GOODS")), currency="USD")
    with pytest.raises(MissingRate, match="USD on or before 2026-11-05"):
        book.draft(ce_type="finance.ar.InvoiceIssued.v1", msg=msg, chart=CAS, functional_currency="CNY")
    d = book.draft(ce_type="finance.ar.InvoiceIssued.v1", msg=msg, chart=CAS, functional_currency="CNY",
                   rates={"USD": Decimal("7.1234")})
    # 150.66 USD receivable = 1073.21 CNY; the credits converted one by one sum to 1073.20, so the
    # cent of rounding is absorbed by the largest credit line.
    assert d.lines[0].debit == Decimal("1073.21") and d.lines[0].txn_amount == Decimal("150.66")
    assert d.total_debit == d.total_credit == Decimal("1073.21")
    assert [ln.txn_currency for ln in d.lines] == ["USD"] * 5
    assert sum(ln.txn_amount for ln in d.lines) == 0


def test_unbalanced_event_can_not_become_a_journal(book):
    msg = invoice()
    msg.gross_total.CopyFrom(M("113.01"))
    with pytest.raises(UnbalancedJournal):
        book.draft(ce_type="finance.ar.InvoiceIssued.v1", msg=msg, chart=CAS, functional_currency="CNY")


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "r.yaml").write_text(text)
    return tmp_path


BASE = """
- id: x
  version: {v}
  effective_from: {eff}
  effective_to: {to}
  event: finance.ar.PaymentReceived.v1
  lines:
    - {{debit: {dr}, amount: amount, cash_flow: sales_receipts}}
    - {{credit: receivables, amount: amount}}
"""


def rule(v=1, eff="2000-01-01", dr="bank", to="null") -> str:
    return BASE.format(v=v, eff=eff, dr=dr, to=to)


def test_effective_dating_picks_the_rule_in_force(tmp_path):
    text = rule(1, "2000-01-01", "bank", to="2026-06-30") + rule(2, "2026-07-01", "cash")
    book = load_rules([CAS], write(tmp_path, text))
    assert [(r.version, r.effective_from, r.effective_to) for r in book.rules] == [
        (1, dt.date(2000, 1, 1), dt.date(2026, 6, 30)), (2, dt.date(2026, 7, 1), None)]
    pay = ar.PaymentReceived(company_id="C1", document_number="R1", amount=M("10.00"),
                             occurrence_date=dates.to_proto(dt.date(2026, 6, 30)))
    assert book.draft(ce_type="finance.ar.PaymentReceived.v1", msg=pay, chart=CAS,
                      functional_currency="CNY").lines[0].account_code == "1002"
    pay.occurrence_date.CopyFrom(dates.to_proto(dt.date(2026, 7, 1)))
    d = book.draft(ce_type="finance.ar.PaymentReceived.v1", msg=pay, chart=CAS, functional_currency="CNY")
    assert (d.lines[0].account_code, d.rule_version) == ("1001", 2)
    pay.occurrence_date.CopyFrom(dates.to_proto(dt.date(1999, 1, 1)))
    with pytest.raises(NoRule):
        book.draft(ce_type="finance.ar.PaymentReceived.v1", msg=pay, chart=CAS, functional_currency="CNY")


@pytest.mark.parametrize("text, message", [
    (rule(dr="no_such_role"), "no role or account"),
    (rule().replace("PaymentReceived", "Nope"), "unknown event type"),
    (rule().replace("amount: amount,", "amount: amout,", 1), "no field"),
    (rule().replace("amount: amount,", "amount: customer_code,", 1),
     "not a Money field"),
    (rule() * 2, "defined twice"),
    (rule().replace(", cash_flow: sales_receipts", ""), "without a cash_flow"),
    (rule().replace("sales_receipts", "nope"), "unknown cash_flow"),
    (rule().replace("amount: amount}", "amount: amount, memo: 'R {nope}'}"),
     "no field 'nope'"),
    (rule().replace("amount: amount}", "amount: amount, memo: 'R {x'}"),
     "memo"),
    # Versions of one rule: exactly one in force on any date.
    (rule(1) + rule(2, "2026-07-01", "cash"), "v1 and v2 overlap: v1 has no effective_to"),
    (rule(1, to="2026-07-01") + rule(2, "2026-07-01", "cash"), "v1 and v2 overlap: v1 ends 2026-07-01"),
    (rule(1, to="2026-06-29") + rule(2, "2026-07-01", "cash"), "v1 and v2 leave a gap"),
    (rule(1, to="2026-08-31") + rule(2, "2026-07-01", "cash", to="2026-07-31"), "overlap"),
    (rule(1, "2026-07-01", to="2026-06-30"), "effective_to 2026-06-30 is before effective_from"),
    (rule(1, "2026-07-01", to="2026-07"), "Invalid isoformat string"),
])
def test_invalid_rules_fail_at_load(tmp_path, text, message):
    with pytest.raises(RuleError, match=message):
        load_rules([CAS], write(tmp_path, text))


def test_a_retired_rule_posts_nothing_after_its_end(tmp_path):
    book = load_rules([CAS], write(tmp_path, rule(1, to="2026-06-30")))
    pay = ar.PaymentReceived(company_id="C1", document_number="R1", amount=M("10.00"),
                             occurrence_date=dates.to_proto(dt.date(2026, 7, 1)))
    with pytest.raises(NoRule):
        book.draft(ce_type="finance.ar.PaymentReceived.v1", msg=pay, chart=CAS, functional_currency="CNY")


def test_a_candidate_version_ends_the_open_version_before_it(tmp_path):
    book = load_rules([CAS], write(tmp_path, rule(1)))
    cand = parse_rules(rule(2, "2026-07-01", "cash"), [CAS])
    shadow = with_candidates(book, cand)
    assert [(r.version, r.effective_to) for r in sorted(shadow.rules, key=lambda r: r.version)] == [
        (1, dt.date(2026, 6, 30)), (2, None)]
    assert book.version("x", 1).effective_to is None  # the book in force is not changed
    with pytest.raises(RuleError, match="overlap"):  # a candidate older than what it would end
        with_candidates(load_rules([CAS], write(tmp_path, rule(1, "2026-08-01"))), cand)


def test_the_default_rules_have_one_version_in_force_per_date():
    book = load_rules([load_chart(c) for c in available_charts()])
    pay = book.version("ap.payment_made", 1), book.version("ap.payment_made", 2)
    assert (pay[0].effective_to, pay[1].effective_from) == (dt.date(2026, 10, 31), dt.date(2026, 11, 1))


def test_journal_draft_invariants():
    line = lambda dr, cr: DraftLine("1002", Decimal(dr), Decimal(cr), "CNY")  # noqa: E731
    with pytest.raises(UnbalancedJournal):
        JournalDraft("C", dt.date(2026, 1, 1), "CNY", "x", (line("1", "0"), line("0", "2")))
    with pytest.raises(UnbalancedJournal, match="minor unit"):
        JournalDraft("C", dt.date(2026, 1, 1), "CNY", "x", (line("1.001", "0"), line("0", "1.001")))
    with pytest.raises(ValueError):
        line("1", "1")
    with pytest.raises(ValueError):
        line("-1", "0")
