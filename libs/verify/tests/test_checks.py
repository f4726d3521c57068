"""Each invariant catches its breach: a consistent company snapshot (in the shape the APIs
answer) passes every check, and each test breaks it in one way and expects that breach,
named, from that check alone."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest
from finverify import checks
from finverify.checks import Event, Snapshot
from finverify.rules import PostingRules

ROLES = {"receivables": "1122", "payables": "220201", "other_payables": "2241", "inventory": "1405",
         "raw_materials": "1403", "finished_goods": "1405", "grni": "220202", "revenue": "6001", "bank": "1002"}


def line(jid, no, account, debit="0.00", credit="0.00", date="2026-11-05", **dims):
    return {"id": hash((jid, no)) % 10**9, "journal_id": jid, "line_no": no, "posting_date": date, "account": account,
            "debit": debit, "credit": credit, "txn_currency": "CNY",
            "txn_amount": str(Decimal(debit) - Decimal(credit)), "open_item": "",
            "dimensions": dims}


def journal(jid, number, total, *, event_id=None, period="2026-11", posted_at="2026-11-05T10:00:00+00:00",
            kind="event", event_type="finance.ar.InvoiceIssued.v1"):
    return {"id": jid, "number": number, "period": period, "posting_date": f"{period}-05", "currency": "CNY",
            "kind": kind, "total_debit": total, "total_credit": total, "posted_at": posted_at,
            "source": {"event_id": event_id, "event_type": event_type}}


def rule(event, rid, lines, version=1, effective_from="2000-01-01", effective_to=None, when=None):
    """A rule as GL /v1/rules answers it."""
    return {"id": rid, "version": version, "effective_from": effective_from, "effective_to": effective_to,
            "event": event, "description": "", "when": when or {},
            "lines": [{"side": side, "account": acct, "amount": amount, "each": each, "subtract": None,
                       "cash_flow": None, "account_by": None, "dimensions": {}} for side, acct, amount, each in lines]}


INVOICE_RULES = [rule("finance.ar.InvoiceIssued.v1", "ar.invoice_issued",
                      [("debit", "receivables", "gross_total", None), ("credit", "revenue", "net", "lines"),
                       ("credit", "output_vat", "tax", "lines")], effective_to="2026-11-30"),
                 rule("finance.ar.InvoiceIssued.v1", "ar.invoice_issued",
                      [("debit", "receivables", "gross_total", None), ("credit", "revenue", "net", "lines"),
                       ("credit", "output_vat", "tax", "lines")], version=2, effective_from="2026-12-01")]
RULES = PostingRules([*INVOICE_RULES,
                      rule("finance.inventory.GoodsReceived.v1", "inv.receipt",
                           [("debit", "inventory", "total_cost", None), ("credit", "grni", "@balance", None)]),
                      rule("finance.ap.InvoiceApproved.v1", "ap.invoice",
                           [("debit", "grni", "net_total", None), ("credit", "payables", "gross_total", None)])])


def good() -> Snapshot:
    """An invoice (1,130.00 to C001), a stock receipt (500.00), a supplier invoice (565.00 to
    S1), an expense (200.00 on ADMIN, budgeted) and their sub-ledgers, all agreeing."""
    s = Snapshot(company={"id": "X", "functional_currency": "CNY", "roles": ROLES,
                          "by_counterparty": {"1122": "customer", "220201": "supplier"}})
    s.journals = [journal("j1", "J1", "1130.00", event_id="e1"),
                  journal("j2", "J2", "500.00", event_id="e2", event_type="finance.inventory.GoodsReceived.v1"),
                  journal("j3", "J3", "565.00", event_id="e3", event_type="finance.ap.InvoiceApproved.v1"),
                  journal("j4", "J4", "200.00", event_id="e4", event_type="finance.ap.InvoiceApproved.v1")]
    s.lines = [line("j1", 1, "1122", debit="1130.00", customer="C001"), line("j1", 2, "6001", credit="1000.00"),
               line("j1", 3, "22210102", credit="130.00"),
               line("j2", 1, "1405", debit="500.00"), line("j2", 2, "220202", credit="500.00"),
               line("j3", 1, "220202", debit="500.00"), line("j3", 2, "22210101", debit="65.00"),
               line("j3", 3, "220201", credit="565.00", supplier="S1"),
               line("j4", 1, "6602", debit="200.00", cost_centre="ADMIN"),
               line("j4", 2, "220201", credit="200.00", supplier="S1")]
    sums: dict = {}
    for ln in s.lines:
        k = (ln["account"], ln["posting_date"][:7])
        d, c = sums.get(k, (0, 0))
        sums[k] = (d + float(ln["debit"]), c + float(ln["credit"]))
    s.period_balances = [{"account": a, "period": p, "debit": f"{d:.2f}", "credit": f"{c:.2f}"}
                         for (a, p), (d, c) in sums.items()]
    s.counterparty_balances = [  # GL /v1/counterparty-balances
        {"account": "1122", "counterparty": "C001", "currency": "CNY", "period": "2026-11", "debit": "1130.00",
         "credit": "0.00", "txn_amount": "1130.00"},
        {"account": "220201", "counterparty": "S1", "currency": "CNY", "period": "2026-11", "debit": "0.00",
         "credit": "765.00", "txn_amount": "-765.00"}]
    s.counterparty_totals = [{k: v for k, v in b.items() if k != "period"} for b in s.counterparty_balances]
    s.periods = {"periods": [{"period": "2026-10", "status": "closed"}],
                 "audit": [{"period": "2026-10", "action": "closed", "at": "2026-11-01T00:00:00+00:00"}]}
    s.events = [Event(f"e{i}", t, "X", "finance.x.events.v1", 0, i, "d") for i, t in
                ((1, "finance.ar.InvoiceIssued.v1"), (2, "finance.inventory.GoodsReceived.v1"),
                 (3, "finance.ap.InvoiceApproved.v1"), (4, "finance.ap.InvoiceApproved.v1"),
                 (5, "finance.ar.CustomerUpserted.v1"))]
    s.effects = {f"e{i}": {"event_id": f"e{i}", "handled": True, "journals": [f"j{i}"] if i < 5 else [],
                           "parked": None, "dead_letters": []} for i in range(1, 6)}
    s.receivables = [{"account": "1122", "customer": "C001", "currency": "CNY", "balance": "1130.00",
                      "functional_balance": "1130.00"}]
    s.ar_ageing = {"customers": [{"customer": "C001", "currency": "CNY", "total": "1130.00", "credit": "0.00",
                                  "net": "1130.00"}]}
    s.payables = [{"account": "220201", "supplier": "S1", "currency": "CNY", "balance": "-765.00",
                   "functional_balance": "-765.00"}]
    s.ap_ageing = {"suppliers": [{"supplier": "S1", "currency": "CNY", "total": "765.00"}]}
    s.inventory_balances = [{"account": "1405", "currency": "CNY", "balance": "500.00",
                             "functional_balance": "500.00"}]
    s.valuation = {"lines": [{"item": "P1", "warehouse": "W1", "quantity": "5", "value": "500.00"}]}
    s.budget_items = [{"code": "OFFICE", "accounts": ["6602"]}]
    s.budget_report = {"rows": [{"cost_centre": "ADMIN", "budget_item": "OFFICE", "period": "2026-11",
                                 "actual": "200.00"}]}
    s.budget_actuals = [{"cost_centre": "ADMIN", "budget_item": "OFFICE", "period": "2026-11", "journal_id": "j4",
                         "account": "6602", "amount": "200.00"}]
    s.bank = {"accounts": [{"gl_account": "1002", "currency": "CNY", "reconciled_balance": "0.00"}], "ledger": []}
    s.rules = RULES  # e5 (a customer's master data) has no rule: handled without a journal is right
    return s


def only(breaches, invariant):
    assert breaches, "the breach was not caught"
    assert {b.invariant for b in breaches} == {invariant}, breaches
    return breaches


def test_a_consistent_company_passes_every_check():
    s = good()
    assert checks.run_checks(s) == []
    assert checks.not_run(s) == []


def test_i1_unbalanced_journal():
    s = good()
    s.lines[2]["credit"] = "129.99"
    s.period_balances = good().period_balances
    found = only([b for b in checks.run_checks(s) if b.invariant == "I1"], "I1")
    assert any(b.subject == "journal J1" and "1130.00 != credits 1129.99" in b.detail for b in found)
    assert any(b.subject == "books in CNY" for b in found)


def test_i1_header_disagrees_with_lines_and_orphan_lines():
    s = good()
    s.journals[1]["total_debit"] = s.journals[1]["total_credit"] = "501.00"
    s.lines.append(line("ghost", 1, "1002", debit="1.00"))
    s.lines.append(line("ghost", 2, "6001", credit="1.00"))
    found = checks.check_balanced(s)
    assert [b.subject for b in found] == ["journal J2", "journal id ghost"]


def test_i2_lost_event():
    s = good()
    s.effects["e3"] = {"event_id": "e3", "handled": False, "journals": [], "parked": None, "dead_letters": []}
    found = only(checks.check_effects(s), "I2")
    assert "e3" in found[0].subject and "lost" in found[0].detail


def test_i2_two_effects_and_dead_letter_without_reason():
    s = good()
    s.effects["e1"]["dead_letters"] = [{"id": 7, "error": "", "replayed": False}]
    found = only(checks.check_effects(s), "I2")
    assert [b.detail for b in found] == ["more than one effect: 1 journal(s), 1 dead letter(s)",
                                         "dead letter #7 without a reason"]


def test_i2_parked_and_dead_lettered_events_are_one_effect_each():
    s = good()
    s.effects["e1"] = {"event_id": "e1", "handled": True, "journals": [], "dead_letters": [],
                       "parked": {"reason": "period 2026-10 is closed", "resolved": False}}
    s.effects["e2"] = {"event_id": "e2", "handled": False, "journals": [], "parked": None,
                       "dead_letters": [{"id": 1, "error": "PermanentError: bad", "replayed": False}]}
    assert checks.check_effects(s) == []


def invoice(gross: str, net: str, tax: str, day=(2026, 11, 29)):
    from decimal import Decimal

    from finance.ar.v1 import events_pb2 as ar
    from fincore import dates, money

    m = lambda v: money.to_proto(Decimal(v), "CNY")  # noqa: E731
    import datetime as dt

    return ar.InvoiceIssued(company_id="X", document_number="INV-1", invoice_id="i1", customer_code="K02",
                            currency="CNY", occurrence_date=dates.to_proto(dt.date(*day)), gross_total=m(gross),
                            net_total=m(net), tax_total=m(tax), lines=[ar.InvoiceLine(net=m(net), tax=m(tax))])


def handled_without_journal(s: Snapshot, payload) -> None:
    """e1, the invoice, read from its topic with `payload` and recorded as handled by the
    ledger's consumer (its inbox) with no journal, no parking, no dead letter."""
    s.events[0] = Event("e1", "finance.ar.InvoiceIssued.v1", "X", "finance.ar.events.v1", 0, 1, "d", payload)
    s.effects["e1"] = {"event_id": "e1", "handled": True, "journals": [], "parked": None, "dead_letters": []}


def test_i2_posting_event_handled_without_a_journal_is_a_lost_posting():
    """The gap chaos found (issue 15): the ledger's inbox says "handled", yet the invoice the
    rules post (16.95 to K02) has no journal, no parking and no dead letter."""
    s = good()
    handled_without_journal(s, invoice("16.95", "15.00", "1.95"))
    found = only(checks.check_effects(s), "I2")
    assert len(found) == 1 and "e1" in found[0].subject
    assert found[0].detail == ("handled without a journal, a parking or a dead letter, but rule ar.invoice_issued "
                               "v1 posts it (lost posting)")
    assert checks.run_checks(s, ["I2"]) == found


def test_i2_handled_without_a_journal_is_right_when_the_rules_post_nothing():
    s = good()
    handled_without_journal(s, invoice("0", "0", "0"))  # every amount zero: the ledger's NothingToPost
    assert checks.check_effects(s) == []
    assert RULES.due("finance.ar.InvoiceIssued.v1", invoice("0", "0", "0")).why == \
        "rule ar.invoice_issued v1: every amount is zero, nothing to post"
    # in December version 2 is in force; one amount not zero (tax alone) is a posting
    assert RULES.due("finance.ar.InvoiceIssued.v1", invoice("0", "0", "0.01", day=(2026, 12, 1))).why == \
        "rule ar.invoice_issued v2 posts it"


def test_i2_handled_without_a_journal_where_no_rule_matches_or_rules_unread_is_a_breach():
    s = good()
    handled_without_journal(s, invoice("16.95", "15.00", "1.95"))
    s.rules = PostingRules([{**r, "when": {"customer_group": ["INTERCO"]}} for r in INVOICE_RULES])
    found = only(checks.check_effects(s), "I2")
    assert "no rule of finance.ar.InvoiceIssued.v1 in force on 2026-11-29 matches it: a dead letter is due" \
        in found[0].detail
    s.rules = PostingRules([*INVOICE_RULES, rule("finance.ar.InvoiceIssued.v1", "ar.invoice_issued.free", [],
                                                 effective_from="2026-11-01", when={"invoice_id": ["i1"]})])
    assert checks.check_effects(s) == []  # the newest rule in force that matches has no lines: nothing due
    s.rules = None
    assert "the posting rules were not read" in only(checks.check_effects(s), "I2")[0].detail
    s.rules = RULES
    undated = invoice("16.95", "15.00", "1.95")
    undated.ClearField("occurrence_date")
    handled_without_journal(s, undated)
    assert "without a valid occurrence_date: a dead letter is due" in only(checks.check_effects(s), "I2")[0].detail


def test_i3_event_posted_twice():
    s = good()
    s.journals.append(journal("j9", "J9", "0.00", event_id="e1"))
    found = [b for b in checks.check_posted_once(s)]
    assert only(found, "I3")[0].detail == "posted 2 times: J1, J9"


def test_i3_same_id_different_payload_kept_silently():
    s = good()
    s.events.append(Event("e1", "finance.ar.InvoiceIssued.v1", "X", "finance.x.events.v1", 1, 9, "other"))
    found = only(checks.check_posted_once(s), "I3")
    assert "2 different payloads" in found[0].detail
    s.effects["e1"]["dead_letters"] = [{"id": 3, "error": "payload differs", "replayed": False}]
    assert checks.check_posted_once(s) == []
    assert checks.check_effects(s) == []  # the first posted, the conflicting copy dead-lettered: one effect each


def test_i4_period_balance_off():
    s = good()
    pb = next(b for b in s.period_balances if b["account"] == "6001")
    pb["credit"] = "999.00"
    found = only(checks.check_period_balances(s), "I4")
    assert found[0].subject == "account 6001 2026-11" and "0.00/999.00 != lines 0.00/1000.00" in found[0].detail


def test_i4_missing_period_balance_row():
    s = good()
    s.period_balances = [b for b in s.period_balances if b["account"] != "1405"]
    assert only(checks.check_period_balances(s), "I4")[0].subject == "account 1405 2026-11"


def test_i4_counterparty_balance_off_or_missing():
    s = good()
    s.counterparty_balances[1]["credit"] = "700.00"
    found = only(checks.check_period_balances(s), "I4")
    assert [b.subject for b in found] == ["account 220201 S1 CNY 2026-11"]
    assert "0.00/700.00 (CNY -765.00) != lines 0.00/765.00 (CNY -765.00)" in found[0].detail
    s = good()
    s.counterparty_balances = s.counterparty_balances[1:]
    assert [b.subject for b in only(checks.check_period_balances(s), "I4")] == ["account 1122 C001 CNY 2026-11"]


def test_i4_counterparty_balance_under_another_counterparty_or_currency():
    s = good()
    s.counterparty_balances[0]["counterparty"] = "C002"  # the right total, on the wrong customer
    assert [b.subject for b in only(checks.check_period_balances(s), "I4")] == [
        "account 1122 C001 CNY 2026-11", "account 1122 C002 CNY 2026-11"]
    s = good()
    s.lines[0].update(txn_currency="USD", txn_amount="160.00")  # the line is in USD, the row says CNY
    assert {b.subject for b in only(checks.check_period_balances(s), "I4")} == {
        "account 1122 C001 CNY 2026-11", "account 1122 C001 USD 2026-11",
        "account 1122 C001 CNY all months", "account 1122 C001 USD all months"}


def test_i4_counterparty_total_off():
    s = good()
    s.counterparty_totals[0]["debit"] = "1129.00"
    found = only(checks.check_period_balances(s), "I4")
    assert [b.subject for b in found] == ["account 1122 C001 CNY all months"]
    assert "total per counterparty 1129.00/0.00 (CNY 1130.00) != lines 1130.00/0.00" in found[0].detail


def test_i4_a_ledger_without_counterparty_balances_is_checked_on_period_balances_alone():
    s = good()
    s.counterparty_balances = s.counterparty_totals = None
    assert checks.check_period_balances(s) == []


def test_i5_lag_not_drained():
    assert checks.check_lag({"gl-posting": {"finance.ar.events.v1[0]": 0}}) == []
    found = only(checks.check_lag({"gl-posting": {"finance.ar.events.v1[0]": 3}}), "I5")
    assert found[0].subject == "group gl-posting finance.ar.events.v1[0]"


def test_i6_journal_posted_into_a_closed_period():
    s = good()
    s.journals.append(journal("j5", "J5", "10.00", period="2026-10", posted_at="2026-11-02T00:00:00+00:00"))
    found = only(checks.check_closed_periods(s), "I6")
    assert found[0].subject == "journal J5"


def test_i6_reopened_period_and_closing_journal_are_allowed():
    s = good()
    s.periods["audit"].append({"period": "2026-10", "action": "reopened", "at": "2026-11-03T00:00:00+00:00"})
    s.journals.append(journal("j5", "J5", "10.00", period="2026-10", posted_at="2026-11-04T00:00:00+00:00"))
    s.journals.append(journal("j6", "J6", "10.00", period="2026-10", posted_at="2026-11-02T00:00:00+00:00",
                              kind="closing"))
    assert checks.check_closed_periods(s) == []


@pytest.mark.parametrize("breaker,subject", [
    (lambda s: s.ar_ageing["customers"][0].update(net="1000.00"), "customer C001 CNY"),
    (lambda s: s.receivables.append({"account": "1122", "customer": "C002", "currency": "USD", "balance": "5.00",
                                     "functional_balance": "35.00"}), "customer C002 USD"),
    (lambda s: s.ap_ageing["suppliers"][0].update(total="565.00"), "supplier S1 CNY"),
    (lambda s: s.valuation["lines"].append({"item": "P2", "warehouse": "W1", "quantity": "1", "value": "20.00"}),
     "inventory (1405)"),
    (lambda s: s.budget_actuals[0].update(amount="150.00"), "budget ADMIN/OFFICE/2026-11"),
    (lambda s: s.budget_report["rows"][0].update(actual="0.00"), "budget ADMIN/OFFICE/2026-11 report"),
    (lambda s: s.bank["ledger"].append({"account": "1002", "currency": "CNY", "balance": "12.00"}), "bank 1002 CNY"),
])
def test_i7_each_sub_ledger_disagreeing_with_its_control_account(breaker, subject):
    s = good()
    breaker(s)
    found = only(checks.run_checks(s), "I7")
    assert subject in [b.subject for b in found], found


def test_i7_what_ap_owes_employees_is_in_other_payables_beside_what_is_no_suppliers():
    """An expense claim of 1,100.00 owed to employee E-LI: AP's ageing lists it, the ledger
    keeps it on other payables 2241 for E-LI. 2241 also holds a bank suspense of 77.70 with no
    supplier, which is not AP's and is left out."""
    s = good()
    s.ap_ageing["suppliers"].append({"supplier": "E-LI", "currency": "CNY", "total": "1100.00"})
    s.payables += [{"account": "2241", "supplier": "E-LI", "currency": "CNY", "balance": "-1100.00",
                    "functional_balance": "-1100.00"},
                   {"account": "2241", "supplier": "", "currency": "CNY", "balance": "-77.70",
                    "functional_balance": "-77.70"}]
    assert checks.check_payables(s) == []
    s.payables[-2]["balance"] = "-1000.00"  # 100.00 of the claim never reached the ledger
    found = only(checks.check_payables(s), "I7")
    assert [(b.subject, b.detail) for b in found] == [
        ("supplier E-LI CNY", "AP open items vs payables: sub-ledger 1100.00 != ledger 1000.00 (difference 100.00)")]
    s.payables[-2]["balance"] = "-1100.00"
    s.payables.append({"account": "220201", "supplier": "", "currency": "CNY", "balance": "-5.00",
                       "functional_balance": "-5.00"})  # on trade payables, a line without a supplier is a breach
    assert [b.subject for b in checks.check_payables(s)] == ["supplier (none) CNY"]


def test_i7_stock_purchase_actual_must_name_an_ap_invoice_journal():
    s = good()
    s.budget_actuals.append({"cost_centre": "ADMIN", "budget_item": "OFFICE", "period": "2026-11",
                             "journal_id": "j1", "account": "", "amount": "1.00"})
    s.budget_report["rows"][0]["actual"] = "201.00"
    found = only(checks.check_budget(s), "I7")
    assert "not an approved AP invoice's" in found[0].detail
    s.budget_actuals[-1]["journal_id"] = "j3"
    assert checks.check_budget(s) == []
    s.budget_actuals[-1]["journal_id"] = "nowhere"
    assert "does not have" in checks.check_budget(s)[0].detail


def test_unread_services_are_reported_not_run_never_passed():
    s = copy.deepcopy(good())
    s.ar_ageing = s.valuation = s.bank = s.events = None
    assert checks.not_run(s) == ["I2 (topics not read)", "I7 receivables", "I7 inventory", "I7 bank"]


def parked_invoice(s: Snapshot, eid: str, customer: str, gross: str, net: str, tax: str, *, dead: bool = False):
    """An invoice AR issued (so its ageing counts it) whose event the ledger parked (or, `dead`,
    dead-lettered): read from the topic with its payload, no journal."""
    from finance.ar.v1 import events_pb2 as ar

    payload = invoice(gross, net, tax)
    payload.customer_code, payload.document_number = customer, f"INV-{eid}"
    s.events.append(Event(eid, "finance.ar.InvoiceIssued.v1", "X", "finance.ar.events.v1", 0, 9, "d", payload))
    s.effects[eid] = {"event_id": eid, "handled": not dead, "journals": [], "dead_letters": [
        {"id": 3, "error": "PermanentError: bad", "replayed": False}] if dead else [],
        "parked": None if dead else {"reason": "period 2026-11 of company X is closed", "resolved": False}}
    assert isinstance(payload, ar.InvoiceIssued)


def with_party_dimension(rules: list[dict], role: str, party: str, path: str) -> PostingRules:
    return PostingRules([{**r, "lines": [{**ln, "dimensions": {party: path}} if ln["account"] == role else ln
                                         for ln in r["lines"]]} for r in rules])


def test_i7_a_parked_invoice_is_a_reconciling_item_not_a_breach():
    """The stop-23 finding: AR counts two invoices whose events the ledger parked (a closed
    period, a blocked account), so AR exceeds receivables by exactly their 678.00. That is
    explained, named invoice by invoice, and no breach; a difference the parked invoices do
    not explain stays a breach, and says what was not posted."""
    s = good()
    s.rules = with_party_dimension(INVOICE_RULES, "receivables", "customer", "customer_code")
    parked_invoice(s, "e8", "C001", "565.00", "500.00", "65.00")
    parked_invoice(s, "e9", "C001", "113.00", "100.00", "13.00", dead=True)
    s.ar_ageing["customers"][0]["net"] = "1808.00"  # 1,130.00 posted + 678.00 not
    assert checks.run_checks(s, ["I2", "I7"]) == []
    assert [(b.subject, b.detail) for b in s.explained] == [(
        "customer C001 CNY", "AR open items - credit vs receivables: sub-ledger 1808.00 != ledger 1130.00 "
        "(difference 678.00), explained by 2 event(s) not posted: InvoiceIssued INV-e8 565.00 (parked: period "
        "2026-11 of company X is closed); InvoiceIssued INV-e9 113.00 (dead-lettered: PermanentError: bad)")]
    s = good()
    s.rules = with_party_dimension(INVOICE_RULES, "receivables", "customer", "customer_code")
    parked_invoice(s, "e8", "C001", "565.00", "500.00", "65.00")
    s.ar_ageing["customers"][0]["net"] = "1700.00"
    found = only(checks.check_receivables(s), "I7")
    assert found[0].detail.endswith("not yet posted: 1 event(s) not posted: InvoiceIssued INV-e8 565.00 (parked: "
                                    "period 2026-11 of company X is closed) (565.00), which does not explain it")
    assert s.explained == []


def test_i7_a_resolved_parking_or_an_unread_topic_explains_nothing():
    s = good()
    s.rules = with_party_dimension(INVOICE_RULES, "receivables", "customer", "customer_code")
    parked_invoice(s, "e8", "C001", "565.00", "500.00", "65.00")
    s.effects["e8"]["parked"]["resolved"] = True  # decided, yet no journal: the difference is a breach
    s.ar_ageing["customers"][0]["net"] = "1695.00"
    assert [b.subject for b in checks.check_receivables(s)] == ["customer C001 CNY"]
    s.effects["e8"]["parked"]["resolved"] = False
    s.events = None  # the topics were not read: the payloads are unknown
    assert [b.subject for b in checks.check_receivables(s)] == ["customer C001 CNY"]


def test_i7_a_parked_supplier_invoice_explains_payables_by_its_supplier():
    from finance.ap.v1 import events_pb2 as ap
    from fincore import dates, money

    s = good()
    rules = [rule("finance.ap.InvoiceApproved.v1", "ap.invoice", [("debit", "grni", "net_total", None),
                                                                   ("credit", "payables", "gross_total", None)])]
    rules[0]["lines"][1]["account_by"] = {"field": "supplier_group", "map": {"EMPLOYEE": "other_payables"}}
    s.rules = with_party_dimension(rules, "payables", "supplier", "supplier_code")
    import datetime as dt

    m = lambda v: money.to_proto(Decimal(v), "CNY")  # noqa: E731
    payload = ap.InvoiceApproved(company_id="X", document_number="PI-7", supplier_code="S1", currency="CNY",
                                 occurrence_date=dates.to_proto(dt.date(2026, 11, 20)), net_total=m("100.00"),
                                 gross_total=m("113.00"))
    s.events.append(Event("e7", "finance.ap.InvoiceApproved.v1", "X", "finance.ap.events.v1", 0, 7, "d", payload))
    s.effects["e7"] = {"event_id": "e7", "handled": True, "journals": [], "dead_letters": [],
                       "parked": {"reason": "account 220201 is blocked", "resolved": False}}
    s.ap_ageing["suppliers"][0]["total"] = "878.00"
    assert checks.check_payables(s) == []
    assert "explained by 1 event(s) not posted: InvoiceApproved PI-7 113.00" in s.explained[0].detail
