# ruff: noqa: E501
"""The ledger as accountants use it: immutability, periods and parked events, manual journals
and reversals, statements against a hand-computed scenario, and hledger as an independent oracle."""

import datetime as dt
import shutil
import subprocess
import time
from decimal import Decimal

import psycopg
import pytest
from finance.ap.v1 import events_pb2 as ap
from finance.ar.v1 import events_pb2 as ar
from finance.cashmgmt.v1 import events_pb2 as cm
from finance.common.v1 import types_pb2
from finance.fixedassets.v1 import events_pb2 as fa
from finance.gl.v1 import events_pb2 as gl_events
from finance.inventory.v1 import events_pb2 as inv
from fincore import dates, money

pytestmark = pytest.mark.e2e


def M(v) -> types_pb2.Money:  # noqa: N802
    return money.to_proto(Decimal(str(v)), "CNY")


def wait_for(cond, what: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while True:
        got = cond()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def test_posted_journals_are_immutable_in_the_database(suite):
    company = suite.new_company("IMMUT")
    suite.post_invoice(company, 1)
    suite.wait_journals(company, 1)
    jid = suite.journals(company)[0]["id"]
    for stmt in ("UPDATE journal_line SET debit = debit + 1 WHERE journal_id = %s",
                 "DELETE FROM journal_line WHERE journal_id = %s",
                 "UPDATE journal SET description = 'edited' WHERE id = %s"):
        with pytest.raises(psycopg.errors.IntegrityConstraintViolation, match="immutable"):
            suite.sql("gl", stmt, (jid,))
    # An unbalanced journal written behind the API's back is refused at commit.
    with pytest.raises(psycopg.errors.CheckViolation, match="does not balance"):
        suite.sql("gl", """
            WITH j AS (INSERT INTO journal (id, company_id, number, posting_date, period, currency, description,
                         total_debit, total_credit, source_event_type, source_document, rule_id, rule_version,
                         trace_id, posted_at)
                       VALUES ('bad-1', %s, 'X-1', '2026-11-01', '2026-11', 'CNY', 'x', 10, 10, 'x', 'x', 'x', 1,
                               '', now()) RETURNING id)
            INSERT INTO journal_line (journal_id, line_no, company_id, posting_date, account_code, debit, credit,
                                      currency, memo)
            SELECT id, 1, %s, '2026-11-01', '1002', 10, 0, 'CNY', '' FROM j""", (company, company))
    assert suite.journal_count(company) == 1


def test_event_in_a_closed_period_is_parked_then_posted_after_a_decision(suite):
    company = suite.new_company("PERIOD")
    h = suite.http
    first = h.post(f"{suite.gl_url}/v1/companies/{company}/periods/2026-10/close", json={})
    assert first.status_code == 200 and first.json()["changed"]
    # Closing it again changes nothing: the same state, no second audit row (checked below),
    # no second PeriodClosed.
    again = h.post(f"{suite.gl_url}/v1/companies/{company}/periods/2026-10/close", json={"reason": "again"})
    assert again.status_code == 200
    a, b = first.json(), again.json()
    assert (b["status"], b["changed_by"], b["changed"]) == ("closed", "e2e", False)
    assert dt.datetime.fromisoformat(b["changed_at"]) == dt.datetime.fromisoformat(a["changed_at"])
    closed_events = [gl_events.PeriodClosed.FromString(bytes(p)) for (p,) in suite.sql(
        "gl", "SELECT payload FROM outbox WHERE ce_type = 'finance.gl.PeriodClosed.v1'")]
    assert [(e.period, e.closed_by) for e in closed_events if e.company_id == company] == [("2026-10", "e2e")]
    body = suite.invoice_body(company, 1) | {"issue_date": "2026-10-15"}
    inv1 = h.post(f"{suite.ar_url}/v1/invoices", json=body).json()
    inv2 = h.post(f"{suite.ar_url}/v1/invoices", json=body | {"customer_code": "C999"}).json()
    parked = wait_for(lambda: len(lst := h.get(f"{suite.gl_url}/v1/parked-events", params={"company": company})
                                   .json()) == 2 and lst, "2 parked events")
    assert {p["document"] for p in parked} == {inv1["number"], inv2["number"]}
    assert all("closed" in p["reason"] for p in parked)
    assert suite.journal_count(company) == 0  # never silently posted
    by_doc = {p["document"]: p["event_id"] for p in parked}

    # Still closed: posting in place is refused; re-dating backwards is refused.
    r = h.post(f"{suite.gl_url}/v1/parked-events/{by_doc[inv1['number']]}/post", json={})
    assert r.status_code == 409
    r = h.post(f"{suite.gl_url}/v1/parked-events/{by_doc[inv2['number']]}/post", json={"redate_to": "2026-09-30"})
    assert r.status_code == 422
    # Decision 1: re-date the second one into the first open period.
    r = h.post(f"{suite.gl_url}/v1/parked-events/{by_doc[inv2['number']]}/post", json={"redate_to": "2026-11-01"})
    assert r.status_code == 200 and r.json()["posting_date"] == "2026-11-01"
    # Decision 2: reopen October (a reason is required) and post the first in place.
    assert h.post(f"{suite.gl_url}/v1/companies/{company}/periods/2026-10/reopen", json={}).status_code == 422
    assert h.post(f"{suite.gl_url}/v1/companies/{company}/periods/2026-10/reopen",
                  json={"reason": "late invoice INV from sales"}).status_code == 200
    r = h.post(f"{suite.gl_url}/v1/parked-events/{by_doc[inv1['number']]}/post", json={})
    assert r.status_code == 200 and r.json()["posting_date"] == "2026-10-15"
    assert h.post(f"{suite.gl_url}/v1/parked-events/{by_doc[inv1['number']]}/post", json={}).status_code == 422
    assert h.get(f"{suite.gl_url}/v1/parked-events", params={"company": company}).json() == []
    resolved = h.get(f"{suite.gl_url}/v1/parked-events", params={"company": company, "include_resolved": True}).json()
    assert sorted(p["resolution"] for p in resolved) == ["posted after reopening", "re-dated to 2026-11-01"]
    periods = h.get(f"{suite.gl_url}/v1/companies/{company}/periods").json()
    assert [(a["action"], a["reason"]) for a in periods["audit"]] == [
        ("closed", "period end"), ("reopened", "late invoice INV from sales")]
    suite.assert_posted_exactly_once(company, [inv1, inv2])
    # The journal leads back to the stored event.
    j = suite.journals(company)[0]
    ev = h.get(f"{suite.gl_url}{j['source']['event']}").json()
    assert ev["type"] == "finance.ar.InvoiceIssued.v1" and ev["journal_id"] == j["id"] and not ev["parked"]
    assert ev["payload"]["document_number"] == j["source"]["document"]


def test_manual_journals_and_reversals(suite):
    company = suite.new_company("MANUAL")
    h = suite.http
    url = f"{suite.gl_url}/v1/manual-journals"
    base = {"company_id": company, "posting_date": "2026-11-03", "description": "Capital contribution"}
    good = [{"account": "1002", "debit": "50000.00", "cash_flow_item": "capital_contributed"},
            {"account": "4001", "credit": "50000.00"}]
    assert h.post(url, json=base | {"lines": [good[0], {"account": "4001", "credit": "49999.99"}]}).status_code == 422
    assert h.post(url, json=base | {"lines": [{"account": "1122", "debit": "1"}, {"account": "4001", "credit": "1"}]}
                  ).json()["detail"].endswith("takes sub-ledger postings only")
    assert h.post(url, json=base | {"lines": [{"account": "1002", "debit": "1"}, {"account": "4001", "credit": "1"}]}
                  ).status_code == 422  # cash line without a cash-flow item
    assert h.post(url, json=base | {"lines": [{"account": "6602", "debit": "1"}, {"account": "4001", "credit": "1"}]}
                  ).json()["detail"].endswith("needs cost_centre")
    assert h.post(url, json=base | {"lines": [{"account": "9999", "debit": "1"}, {"account": "4001", "credit": "1"}]}
                  ).status_code == 422
    assert h.post(url, json=base | {"lines": [{"account": "4001", "debit": "1.001"}, {"account": "4001", "credit": "1.001"}]}
                  ).json()["detail"] == "line 1: amounts finer than the CNY minor unit"
    assert h.post(url, json=base | {"lines": [{"account": "4001"}, *good]}).json()["detail"] == (
        "line 1: neither a debit nor a credit")
    assert h.post(url, json=base | {"lines": good, "post": "yes"}).status_code == 422  # strict booleans
    for day in ("0001-01-01", "9999-12-31"):  # outside the supported date range
        assert h.post(url, json=base | {"lines": good, "posting_date": day}).status_code == 422
    for period in ("0000-01", "9999-12"):
        assert h.post(f"{suite.gl_url}/v1/companies/{company}/periods/{period}/close", json={}).status_code == 422
        assert h.post(f"{suite.gl_url}/v1/companies/{company}/periods/{period}/revalue").status_code == 422
    # Duties are segregated: the author cannot post their own journal, at once or later.
    r = h.post(url, json=base | {"lines": good, "post": True})
    assert r.status_code == 403 and r.json()["type"].endswith("/segregation-of-duties")
    assert suite.journal_count(company) == 0

    draft = h.post(url, json=base | {"lines": good}).json()
    assert draft["status"] == "draft" and draft["journal_id"] is None and draft["drafted_by"] == "e2e"
    assert h.post(f"{url}/{draft['id']}/post").status_code == 403
    with suite.client("controller") as controller:
        posted = controller.post(f"{url}/{draft['id']}/post").json()
        assert posted["status"] == "posted"
        assert controller.post(f"{url}/{draft['id']}/post").status_code == 409
    j = h.get(f"{suite.gl_url}/v1/journals/{posted['journal_id']}").json()
    assert j["kind"] == "manual" and j["total_debit"] == "50000.00"
    assert (j["drafted_by"], j["posted_by"]) == ("e2e", "controller")
    mj = h.get(f"{url}/{draft['id']}").json()
    assert (mj["status"], mj["drafted_by"], mj["posted_by"], mj["journal_id"]) == ("posted", "e2e", "controller", j["id"])

    rev = h.post(f"{suite.gl_url}/v1/journals/{j['id']}/reverse",
                 json={"posting_date": "2026-11-04", "reason": "wrong amount"})
    assert rev.status_code == 201, rev.text
    assert h.post(f"{suite.gl_url}/v1/journals/{j['id']}/reverse",
                  json={"posting_date": "2026-11-04", "reason": "again"}).status_code == 422
    mirror = h.get(f"{suite.gl_url}/v1/journals/{rev.json()['journal_id']}").json()
    assert mirror["kind"] == "reversal" and mirror["reverses_journal_id"] == j["id"]
    assert [(ln["account"], ln["debit"], ln["credit"]) for ln in mirror["lines"]] == [
        ("1002", "0.00", "50000.00"), ("4001", "50000.00", "0.00")]
    assert h.get(f"{suite.gl_url}/v1/journals/{j['id']}").json()["reversed_by"] == mirror["id"]
    tb = suite.trial_balance(company)
    assert tb["balanced"] and tb["totals"]["debit_balance"] == "0.00" and tb["journals"] == 2

    # Posting into a closed period is refused.
    h.post(f"{suite.gl_url}/v1/companies/{company}/periods/2026-12/close", json={})
    late = h.post(url, json=base | {"posting_date": "2026-12-05", "lines": good}).json()
    with suite.client("controller") as controller:
        assert controller.post(f"{url}/{late['id']}/post").status_code == 409


def D(day: str):  # noqa: N802
    return dates.to_proto(dt.date.fromisoformat(day))


def scenario(c: str) -> list:
    """58 events of a trading company's November, with the amounts a bookkeeper would enter."""
    ev = []
    cc = types_pb2.Dimensions(cost_centre="ADMIN")
    for i in range(10):  # purchases: goods received at 10,000 each
        ev.append(inv.GoodsReceived(company_id=c, document_number=f"GR{i}", occurrence_date=D(f"2026-11-{i + 1:02d}"),
                                    movement_id=f"gr{i}", supplier_code="S1", total_cost=M(10000),
                                    lines=[inv.MovementLine(item_code="P", total_cost=M(10000))]))
    for i in range(10):  # supplier invoices: net 10,000 (+200 variance on the even ones), VAT 13%
        pv = 200 if i % 2 == 0 else 0
        net = 10000 + pv
        tax = Decimal(net) * Decimal("0.13")
        ev.append(ap.InvoiceApproved(company_id=c, document_number=f"AP{i}", occurrence_date=D(f"2026-11-{i + 2:02d}"),
                                     invoice_id=f"ap{i}", supplier_code="S1", kind=ap.INVOICE_KIND_STOCK,
                                     gross_total=M(net + tax),
                                     lines=[ap.PayableLine(net=M(net), price_variance=M(pv), tax=M(tax))]))
    for i in range(5):  # supplier payments
        ev.append(ap.PaymentMade(company_id=c, document_number=f"PAY{i}", occurrence_date=D(f"2026-11-{i + 12:02d}"),
                                 payment_id=f"pay{i}", supplier_code="S1", amount=M(11300)))
    for i in range(10):  # sales: net 20,000, VAT 2,600; cost of goods 8,000
        ev.append(ar.InvoiceIssued(company_id=c, document_number=f"INV{i}", occurrence_date=D(f"2026-11-{i + 5:02d}"),
                                   invoice_id=f"inv{i}", customer_code="K1", gross_total=M(22600),
                                   lines=[ar.InvoiceLine(net=M(20000), tax=M(2600))]))
        ev.append(inv.GoodsIssued(company_id=c, document_number=f"GI{i}", occurrence_date=D(f"2026-11-{i + 5:02d}"),
                                  movement_id=f"gi{i}", customer_code="K1", total_cost=M(8000),
                                  lines=[inv.MovementLine(item_code="P", total_cost=M(8000))]))
    for i in range(6):  # customer receipts
        ev.append(ar.PaymentReceived(company_id=c, document_number=f"RC{i}", occurrence_date=D(f"2026-11-{i + 15:02d}"),
                                     receipt_id=f"rc{i}", customer_code="K1", amount=M(22600)))
    for i in range(2):  # price adjustments
        ev.append(ar.CreditMemoIssued(company_id=c, document_number=f"CM{i}", occurrence_date=D(f"2026-11-{i + 20:02d}"),
                                      credit_memo_id=f"cm{i}", customer_code="K1", gross_total=M(1130),
                                      lines=[ar.InvoiceLine(net=M(1000), tax=M(130))]))
    ev.append(inv.GoodsReturned(company_id=c, document_number="GRT0", occurrence_date=D("2026-11-21"),
                                movement_id="grt0", customer_code="K1", total_cost=M(400),
                                lines=[inv.MovementLine(item_code="P", total_cost=M(400))]))
    ev += [cm.BankChargeRecorded(company_id=c, document_number=f"BC{i}", occurrence_date=D("2026-11-22"),
                                 bank_account="B1", amount=M(50)) for i in range(2)]
    ev.append(cm.InterestReceived(company_id=c, document_number="INT0", occurrence_date=D("2026-11-23"),
                                  bank_account="B1", amount=M(300)))
    ev.append(cm.InternalTransfer(company_id=c, document_number="TR0", occurrence_date=D("2026-11-23"),
                                  transfer_id="tr0", from_bank_account="B1", to_bank_account="B2", amount=M(5000)))
    ev.append(fa.AssetAcquired(company_id=c, document_number="FA1", occurrence_date=D("2026-11-02"), asset_id="A1",
                               supplier_code="S2", cost=M(36000)))
    ev.append(fa.AssetAcquired(company_id=c, document_number="FA2", occurrence_date=D("2026-11-02"), asset_id="A2",
                               supplier_code="S2", cost=M(12000)))
    ev += [fa.AssetDepreciated(company_id=c, document_number=f"DEP{i}", occurrence_date=D("2026-11-30"),
                               asset_id="A1", amount=M(1000), dimensions=cc) for i in range(3)]
    ev.append(fa.AssetDepreciated(company_id=c, document_number="DEP-A2", occurrence_date=D("2026-11-25"),
                                  asset_id="A2", amount=M(500), dimensions=cc))
    ev.append(fa.AssetDisposed(company_id=c, document_number="DSP-A2", occurrence_date=D("2026-11-28"), asset_id="A2",
                               cost=M(12000), accumulated_depreciation=M(500), proceeds=M(11000)))
    ev.append(ar.BadDebtProvisioned(company_id=c, document_number="BDP0", occurrence_date=D("2026-11-29"),
                                    provision_id="bdp0", amount=M(1000)))
    ev.append(ar.BadDebtWrittenOff(company_id=c, document_number="BDW0", occurrence_date=D("2026-11-29"),
                                   write_off_id="bdw0", invoice_id="inv9", customer_code="K1", amount=M(300)))
    ev.append(inv.StockAdjusted(company_id=c, document_number="ADJ0", occurrence_date=D("2026-11-30"),
                                movement_id="adj0", reason="count", value_change=M(-200)))
    ev.append(ap.InvoiceApproved(company_id=c, document_number="EXP0", occurrence_date=D("2026-11-26"),
                                 invoice_id="exp0", supplier_code="S3", kind=ap.INVOICE_KIND_EXPENSE,
                                 gross_total=M(2120), lines=[ap.PayableLine(net=M(2000), tax=M(120), dimensions=cc)]))
    return ev


def test_statements_equal_a_hand_computed_scenario_and_hledger_agrees(suite):
    company = suite.new_company("BOOKS")
    h = suite.http
    capital = {"company_id": company, "posting_date": "2026-11-01", "description": "Capital",
               "lines": [{"account": "1002", "debit": "300000.00", "cash_flow_item": "capital_contributed"},
                         {"account": "4001", "credit": "300000.00"}]}
    suite.manual_journal(capital)
    events = scenario(company)
    assert len(events) >= 50
    suite.publish(*events)
    suite.wait_journals(company, len(events) + 1, timeout=120)

    # By hand: every figure below is the arithmetic of the scenario's amounts.
    revenue = 10 * 20000 - 2 * 1000                    # 198,000
    finance_income_net = 300 - 2 * 50                  # 6603 is one CAS account: interest - charges = 200 (credit)
    cost_of_sales = 10 * 8000 - 400                    # 79,600
    depreciation_and_admin = 3 * 1000 + 500 + 2000     # 6602: 5,500
    impairment = 1000
    disposal_loss = 12000 - 500 - 11000                # 500
    net_income = revenue + finance_income_net - cost_of_sales - depreciation_and_admin - impairment - disposal_loss
    assert net_income == 111_600

    bank = 300000 + 6 * 22600 - 5 * 11300 - 2 * 50 + 300 + 11000     # transfer nets to zero within 1002
    receivables = 10 * 22600 - 6 * 22600 - 2 * 1130 - 300
    inventory = 10 * 10000 - 10 * 8000 + 400 - 200
    price_variance = 5 * 200
    fixed_assets = 36000 + 12000 - 12000
    acc_dep = 3 * 1000 + 500 - 500
    allowance = 1000 - 300
    input_vat = 5 * Decimal(10200 * 13) / 100 + 5 * 1300 + 120
    grni = 10 * 10000 - 10 * 10000
    payables = 5 * (10200 + 1326) + 5 * 11300 - 5 * 11300 + 36000 + 12000 + 2120
    output_vat = 10 * 2600 - 2 * 130
    pending_loss = 200
    assets = bank + receivables + inventory + price_variance + fixed_assets - acc_dep - allowance + pending_loss
    liabilities = payables + output_vat - input_vat + grni
    assert assets == liabilities + 300000 + net_income
    # The events went straight to the topics: AR, AP and inventory never had these documents,
    # so each sub-ledger is empty against the ledger's control account (checked after the test).
    why = "events published straight to the topics: the sub-ledger never had the documents"
    for subject, ledger in (("customer K1 CNY", receivables), ("supplier S1 CNY", 5 * (10200 + 1326)),
                            ("supplier S2 CNY", 36000 + 12000), ("supplier S3 CNY", 2120),
                            ("inventory (1405)", inventory)):
        suite.expect_breach("I7", company, subject, why, detail=f"sub-ledger 0 != ledger {ledger}.00")
    assert 5 * (10200 + 1326) + 36000 + 12000 + 2120 == payables

    tb = suite.trial_balance(company, "2026-11-30")
    assert tb["balanced"]
    bal = {ln["account"]: Decimal(ln["debit_balance"]) - Decimal(ln["credit_balance"]) for ln in tb["lines"]}
    assert bal["1002"] == bank and bal["1122"] == receivables and bal["1405"] == inventory
    assert bal["220201"] == -payables and bal["22210101"] == input_vat and bal["22210102"] == -output_vat
    assert bal.get("220202", 0) == grni and bal["1602"] == -acc_dep and bal["1231"] == -allowance

    bs = h.get(f"{suite.gl_url}/v1/statements/balance-sheet", params={"company": company, "as_of": "2026-11-30"}).json()
    assert bs["balanced"]
    assert Decimal(bs["assets"]["total"]) == assets
    assert Decimal(bs["liabilities"]["total"]) == liabilities
    assert Decimal(bs["equity"]["total"]) == 300000 + net_income

    is_ = h.get(f"{suite.gl_url}/v1/statements/income-statement",
                params={"company": company, "from": "2026-11-01", "to": "2026-11-30"}).json()
    assert Decimal(is_["net_income"]) == net_income
    # CAS: 6115 (disposal gains and losses) is a revenue account, 6603 (finance costs) an expense one.
    assert Decimal(is_["revenue"]["total"]) == revenue - disposal_loss
    assert Decimal(is_["expenses"]["total"]) == cost_of_sales + depreciation_and_admin + impairment - finance_income_net
    # Dimension filter: the ADMIN cost centre's expenses only.
    admin = h.get(f"{suite.gl_url}/v1/statements/income-statement",
                  params={"company": company, "from": "2026-11-01", "to": "2026-11-30", "cost_centre": "ADMIN"}).json()
    assert Decimal(admin["expenses"]["total"]) == depreciation_and_admin

    cf = h.get(f"{suite.gl_url}/v1/statements/cash-flow",
               params={"company": company, "from": "2026-11-01", "to": "2026-11-30"}).json()
    assert cf["reconciles"] and Decimal(cf["opening_cash"]) == 0 and Decimal(cf["closing_cash"]) == bank
    assert Decimal(cf["operating"]["net"]) == 6 * 22600 - 5 * 11300 - 2 * 50
    assert Decimal(cf["investing"]["net"]) == 300 + 11000
    assert Decimal(cf["financing"]["net"]) == 300000
    assert Decimal(cf["internal_transfers"]) == 0

    # Drill-down: statement line -> account ledger -> journal -> source event.
    rev_line = next(x for x in is_["revenue"]["lines"] if x["account"] == "6001")
    ledger = h.get(f"{suite.gl_url}{rev_line['drill_down']}").json()
    assert sum(Decimal(x["credit"]) - Decimal(x["debit"]) for x in ledger["lines"]) == revenue
    jr = h.get(f"{suite.gl_url}{ledger['lines'][0]['drill_down']}").json()
    ev = h.get(f"{suite.gl_url}{jr['source']['event']}").json()
    assert ev["type"].startswith("finance.ar.") and jr["source"]["service"] == "ar"

    # Every figure of every report links somewhere, and every link resolves.
    assert walk_drill_downs(suite, company, "2026-11-01", "2026-11-30") > 100

    # hledger, an independent implementation, reads our export and must agree account by account.
    if shutil.which("hledger") is None:
        if shutil.which("apt-get"):
            pytest.fail("hledger is not installed: run `make test-tools` (make test does)")
        pytest.skip("hledger not installed and no apt-get on this machine to install it")
    export = h.get(f"{suite.gl_url}/v1/export/hledger", params={"company": company})
    assert export.status_code == 200
    path = suite.log_dir / f"{company}.journal"
    path.write_text(export.text)
    out = subprocess.run(["hledger", "-f", str(path), "bal", "--flat", "--no-total", "-O", "csv",
                          "-e", "2026-12-01"], capture_output=True, text=True, check=True).stdout
    theirs = {}
    for row in out.splitlines()[1:]:
        name, amount = [x.strip('"') for x in row.split('","')]
        theirs[name.split(":")[-1]] = Decimal(amount.replace(" CNY", "").replace(",", "") or 0)
    ours = {k: v for k, v in bal.items() if v}
    assert {k: v for k, v in theirs.items() if v} == ours
    inc = subprocess.run(["hledger", "-f", str(path), "is", "-O", "csv", "--flat"], capture_output=True,
                         text=True, check=True).stdout
    net_row = [r for r in inc.splitlines() if r.lower().startswith('"net')][-1]
    assert Decimal(net_row.split('","')[-1].strip('"').replace(" CNY", "").replace(",", "")) == net_income
    bsh = subprocess.run(["hledger", "-f", str(path), "bs", "-O", "csv", "--flat"], capture_output=True,
                         text=True, check=True).stdout
    totals = [Decimal(r.split('","')[-1].strip('"').replace(" CNY", "").replace(",", ""))
              for r in bsh.splitlines() if r.lower().startswith(('"total', '"net'))]
    assert totals == [assets, liabilities, 300000 + net_income]  # assets, liabilities, net assets


REPORTS = ("/v1/trial-balance", "/v1/statements/", "/v1/ledger")


def drill_links(doc, report: bool):
    """Every link a response offers; in a report, every line must carry one."""
    if isinstance(doc, dict):
        for k, v in doc.items():
            if k == "drill_down" or (k == "event" and isinstance(v, str)):
                yield v
            elif k == "drill_downs":
                yield from v.values()
            elif k in ("lines", "sources") and report and isinstance(v, list):
                for line in v:
                    assert "drill_down" in line, f"a figure without a drill-down: {line}"
                    yield from drill_links(line, report)
            else:
                yield from drill_links(v, report)
    elif isinstance(doc, list):
        for x in doc:
            yield from drill_links(x, report)


def walk_drill_downs(suite, company: str, start: str, end: str) -> int:
    """Follow every drill-down of the TB, BS, IS, CF of [start, end] down to the source
    events (statement line -> ledger -> journal -> event); every link must answer 200."""
    todo = [f"/v1/trial-balance?company={company}&as_of={end}", f"/v1/trial-balance?company={company}&from={start}&as_of={end}",
            f"/v1/statements/balance-sheet?company={company}&as_of={end}",
            f"/v1/statements/income-statement?company={company}&from={start}&to={end}",
            f"/v1/statements/cash-flow?company={company}&from={start}&to={end}"]
    seen: set[str] = set()
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        r = suite.http.get(f"{suite.gl_url}{url}")
        assert r.status_code == 200, f"{url}: {r.status_code} {r.text[:300]}"
        todo += [u for u in drill_links(r.json(), url.startswith(REPORTS)) if u not in seen]
    return len(seen)


def test_balances_on_the_wrong_side_are_presented_where_they_belong(suite):
    company = suite.new_company("WRONG")
    h = suite.http
    cc = types_pb2.Dimensions(cost_centre="ADMIN")
    suite.publish(
        ar.InvoiceIssued(company_id=company, document_number="W-INV-1", occurrence_date=D("2026-11-02"),
                         invoice_id="w1", customer_code="K1", gross_total=M(1130),
                         lines=[ar.InvoiceLine(net=M(1000), tax=M(130))]),
        ar.InvoiceIssued(company_id=company, document_number="W-INV-2", occurrence_date=D("2026-11-03"),
                         invoice_id="w2", customer_code="K2", gross_total=M(565),
                         lines=[ar.InvoiceLine(net=M(500), tax=M(65))]),
        ar.PaymentReceived(company_id=company, document_number="W-RC-1", occurrence_date=D("2026-11-04"),
                           receipt_id="wr1", customer_code="K2", amount=M(1130)),
        ap.InvoiceApproved(company_id=company, document_number="W-EXP-1", occurrence_date=D("2026-11-05"),
                           invoice_id="wx1", supplier_code="S1", kind=ap.INVOICE_KIND_EXPENSE, gross_total=M(2260),
                           lines=[ap.PayableLine(net=M(2000), tax=M(260), dimensions=cc)]),
        ap.PaymentMade(company_id=company, document_number="W-PAY-1", occurrence_date=D("2026-11-06"),
                       payment_id="wp1", supplier_code="S2", amount=M(300)),
        ap.PaymentMade(company_id=company, document_number="W-PAY-2", occurrence_date=D("2026-11-07"),
                       payment_id="wp2", supplier_code="S1", amount=M(2260)))
    suite.wait_journals(company, 6)
    # By hand:
    #   receivables 1122: K1 owes 1,130.00; K2 invoiced 565.00, paid 1,130.00 -> 565.00 credit
    #   payables 220201: S1 invoiced 2,260.00 and paid 2,260.00 -> 0; S2 paid 300.00 with no invoice -> debit
    #   VAT: input 260.00 - output (130.00 + 65.00) = 65.00 debit
    #   bank 1002: 1,130.00 - 300.00 - 2,260.00 = -1,430.00 (overdrawn)
    #   profit: revenue 1,500.00 - admin expenses 2,000.00 = -500.00
    # AR and AP never had these documents (checked after the test): their sub-ledgers are empty
    # against K1 1,130.00, K2 -565.00 and S2 -300.00 (S1 nets to 0.00).
    why = "events published straight to the topics: the sub-ledger never had the documents"
    for subject, ledger in (("customer K1 CNY", "1130.00"), ("customer K2 CNY", "-565.00"),
                            ("supplier S2 CNY", "-300.00")):
        suite.expect_breach("I7", company, subject, why, detail=f"sub-ledger 0 != ledger {ledger} ")
    tb = {x["account"]: x for x in suite.trial_balance(company, "2026-11-30")["lines"]}
    assert tb["1122"]["debit_balance"] == "565.00" and tb["1002"]["credit_balance"] == "1430.00"  # the ledger as kept
    bs = h.get(f"{suite.gl_url}/v1/statements/balance-sheet", params={"company": company, "as_of": "2026-11-30"}).json()
    lines = {sec: {x["line"]: Decimal(x["amount"]) for x in bs[sec]["lines"]} for sec in ("assets", "liabilities", "equity")}
    assert lines["assets"] == {"1122": Decimal("1130.00"), "1123": Decimal("300.00"),
                               "other_current_assets": Decimal("65.00")}
    assert lines["liabilities"] == {"2001": Decimal("1430.00"), "2203": Decimal("565.00")}
    assert lines["equity"] == {"profit_not_yet_closed": Decimal("-500.00")}
    assert bs["balanced"] and bs["assets"]["total"] == "1495.00" and bs["liabilities"]["total"] == "1995.00"
    by_line = {x["line"]: x for sec in ("assets", "liabilities") for x in bs[sec]["lines"]}
    assert by_line["2203"]["name_en"] == "Advances from customers"
    # A source kept by customer is one figure per account (a ledger has thousands of customers);
    # its drill-down lists the customers the line presents, each with its ledger.
    assert by_line["2203"]["sources"] == [{"account": "1122", "by": "customer", "counterparties": 1, "amount": "565.00",
                                           "drill_down": ("/v1/statements/balance-sheet/counterparties?company="
                                                          f"{company}&as_of=2026-11-30&line=2203")}]
    assert [(x["account"], x["amount"]) for x in by_line["other_current_assets"]["sources"]] == [
        ("22210101", "260.00"), ("22210102", "-195.00")]
    customers = h.get(f"{suite.gl_url}{by_line['2203']['sources'][0]['drill_down']}").json()
    assert customers["amount"] == "565.00" and customers["total"] == 1 and customers["lines"] == [
        {"account": "1122", "customer": "K2", "amount": "565.00",
         "drill_down": f"/v1/ledger?company={company}&account=1122&to=2026-11-30&customer=K2"}]
    suppliers = h.get(f"{suite.gl_url}{by_line['1123']['sources'][0]['drill_down']}").json()
    assert [(x["supplier"], x["amount"]) for x in suppliers["lines"]] == [("S2", "300.00")]
    assert h.get(f"{suite.gl_url}/v1/statements/balance-sheet/counterparties",
                 params={"company": company, "as_of": "2026-11-30", "line": "1002"}).status_code == 422
    # A customer's drill-down adds up to its figure.
    k2 = h.get(f"{suite.gl_url}{customers['lines'][0]['drill_down']}").json()
    assert sum(Decimal(x["credit"]) - Decimal(x["debit"]) for x in k2["lines"]) == 565
    # The cash-flow lines drill down to the cash lines of their item.
    cf = h.get(f"{suite.gl_url}/v1/statements/cash-flow",
               params={"company": company, "from": "2026-11-01", "to": "2026-11-30"}).json()
    paid = next(x for x in cf["operating"]["lines"] if x["item"] == "supplier_payments")
    ledger = h.get(f"{suite.gl_url}{paid['drill_down']}").json()
    assert paid["amount"] == "-2560.00" and sum(Decimal(x["debit"]) - Decimal(x["credit"]) for x in ledger["lines"]) == -2560
    assert walk_drill_downs(suite, company, "2026-11-01", "2026-11-30") > 10


def test_year_end_close_is_a_procedure_that_carries_late_adjustments(suite):
    company = suite.new_company("YE")
    h = suite.http
    gl = suite.gl_url
    suite.manual_journal({"company_id": company, "posting_date": "2025-01-10", "description": "Capital",
                          "lines": [{"account": "1002", "debit": "10000.00", "cash_flow_item": "capital_contributed"},
                                    {"account": "4001", "credit": "10000.00"}]})
    cc = types_pb2.Dimensions(cost_centre="ADMIN")
    suite.publish(
        ar.InvoiceIssued(company_id=company, document_number="YE-INV-1", occurrence_date=D("2025-03-15"),
                         invoice_id="ye1", customer_code="K1", gross_total=M(1130),
                         lines=[ar.InvoiceLine(item_code="P", net=M(1000), tax=M(130))]),
        ap.InvoiceApproved(company_id=company, document_number="YE-EXP-1", occurrence_date=D("2025-06-10"),
                           invoice_id="yex1", supplier_code="S1", kind=ap.INVOICE_KIND_EXPENSE, gross_total=M(318),
                           lines=[ap.PayableLine(net=M(300), tax=M(18), dimensions=cc)]))
    suite.wait_journals(company, 3)
    # AR and AP never had these documents (nor YE-INV-2 below): checked after the test, their
    # sub-ledgers are empty against K1 1,130.00, K2 565.00 and S1 318.00.
    why = "events published straight to the topics: the sub-ledger never had the documents"
    for subject, ledger in (("customer K1 CNY", "1130.00"), ("customer K2 CNY", "565.00"),
                            ("supplier S1 CNY", "318.00")):
        suite.expect_breach("I7", company, subject, why, detail=f"sub-ledger 0 != ledger {ledger} ")
    close = f"{gl}/v1/companies/{company}/year-end-close"

    def income(year: int) -> Decimal:
        r = h.get(f"{gl}/v1/statements/income-statement", params={"company": company, "from": f"{year}-01-01",
                                                                   "to": f"{year}-12-31"})
        return Decimal(r.json()["net_income"])

    def balance_sheet(as_of: str) -> dict:
        bs = h.get(f"{gl}/v1/statements/balance-sheet", params={"company": company, "as_of": as_of}).json()
        assert bs["balanced"]
        return bs

    # Refused before the year has ended (today is in 2026), and nothing is closed.
    for year in (2026, 2027):
        r = h.post(close, json={"year": year})
        assert r.status_code == 422 and "has not ended" in r.json()["detail"]
    assert h.get(f"{gl}/v1/companies/{company}/periods").json()["periods"] == []

    # Run 1: profit 2025 = revenue 1,000 - admin expenses 300 = 700 to retained earnings; the
    # twelve months are closed by the procedure.
    r = h.post(close, json={"year": 2025})
    assert r.status_code == 200, r.text
    run1 = r.json()
    assert (run1["run"], run1["carried"], run1["retained_earnings"]) == (1, "700.00", "4104")
    assert run1["periods_closed"] == [f"2025-{m:02d}" for m in range(1, 13)]
    j1 = h.get(f"{gl}/v1/journals/{run1['journal_id']}").json()
    assert (j1["kind"], j1["posting_date"]) == ("closing", "2025-12-31")
    # Closed per dimension set, so dimension-filtered reports of later years start from zero too.
    assert [(x["account"], x["debit"], x["credit"], x["dimensions"]) for x in j1["lines"]] == [
        ("6001", "1000.00", "0.00", {"customer": "K1", "product": "P"}),
        ("6602", "0.00", "300.00", {"cost_centre": "ADMIN", "supplier": "S1"}),
        ("4104", "0.00", "700.00", {})]
    periods = h.get(f"{gl}/v1/companies/{company}/periods").json()
    assert {p["period"]: p["status"] for p in periods["periods"]} == {f"2025-{m:02d}": "closed" for m in range(1, 13)}
    # Nothing new: a second run carries nothing, posts nothing, audits nothing.
    again = h.post(close, json={"year": 2025}).json()
    assert (again["journal_id"], again["carried"], again["periods_closed"], again["run"]) == (None, "0.00", [], 1)
    assert income(2025) == 700
    tb = {x["account"]: x for x in suite.trial_balance(company, "2025-12-31")["lines"]}
    assert tb["6001"]["credit_balance"] == tb["6602"]["debit_balance"] == "0.00"
    assert tb["4104"]["credit_balance"] == "700.00"
    bs = balance_sheet("2025-12-31")
    assert Decimal(bs["equity"]["total"]) == 10000 + 700 and all(x["account"] for x in bs["equity"]["lines"])

    # The closing journal is not undone by a plain reversal.
    r = h.post(f"{gl}/v1/journals/{run1['journal_id']}/reverse", json={"posting_date": "2026-01-05", "reason": "x"})
    assert r.status_code == 422 and "year-end closing journal" in r.json()["detail"]
    # A reversal is dated on or after its journal, in an open period.
    capital = next(j for j in suite.journals(company) if j["kind"] == "manual")
    r = h.post(f"{gl}/v1/journals/{capital['id']}/reverse", json={"posting_date": "2025-01-09", "reason": "x"})
    assert r.status_code == 422 and "on or after its journal" in r.json()["detail"]
    r = h.post(f"{gl}/v1/journals/{capital['id']}/reverse", json={"posting_date": "2025-02-01", "reason": "x"})
    assert r.status_code == 409  # February 2025 is closed

    # A late invoice for December 2025 (net 500, VAT 65) is parked; December is reopened with
    # a reason and it posts in place. The year now has 500 of profit not yet closed.
    suite.publish(ar.InvoiceIssued(company_id=company, document_number="YE-INV-2", occurrence_date=D("2025-12-20"),
                                   invoice_id="ye2", customer_code="K2", gross_total=M(565),
                                   lines=[ar.InvoiceLine(item_code="P", net=M(500), tax=M(65))]))
    parked = wait_for(lambda: h.get(f"{gl}/v1/parked-events", params={"company": company}).json(), "the late invoice")
    assert h.post(f"{gl}/v1/companies/{company}/periods/2025-12/reopen",
                  json={"reason": "late invoice YE-INV-2"}).status_code == 200
    assert h.post(f"{gl}/v1/parked-events/{parked[0]['event_id']}/post", json={}).status_code == 200
    assert income(2025) == 700 + 500
    bs = balance_sheet("2025-12-31")
    unclosed = next(x for x in bs["equity"]["lines"] if not x["account"])
    assert Decimal(unclosed["amount"]) == 500
    # Its drill-down resolves to an income statement that adds up to exactly that figure.
    drill = h.get(f"{gl}{unclosed['drill_down']}")
    assert drill.status_code == 200 and Decimal(drill.json()["net_income"]) == 500

    # Run 2 carries exactly the late 500 and closes December again.
    run2 = h.post(close, json={"year": 2025}).json()
    assert (run2["run"], run2["carried"], run2["periods_closed"]) == (2, "500.00", ["2025-12"])
    assert h.get(f"{gl}/v1/journals/{run2['journal_id']}").json()["description"] == "Year-end close 2025 (run 2)"
    # No double count anywhere: the year's income statement is 1,200, retained earnings hold
    # 1,200, and the balance sheet (no profit left unclosed) agrees with both.
    assert income(2025) == 1200
    tb = {x["account"]: x for x in suite.trial_balance(company, "2025-12-31")["lines"]}
    assert tb["4104"]["credit_balance"] == "1200.00" and tb["6001"]["credit_balance"] == "0.00"
    bs = balance_sheet("2025-12-31")
    assert {x["account"]: Decimal(x["amount"]) for x in bs["equity"]["lines"]} == {"4001": 10000, "4104": 1200}
    # 2026 starts from zero profit.
    assert income(2026) == 0
    assert walk_drill_downs(suite, company, "2025-01-01", "2025-12-31") > 10
    audit = h.get(f"{gl}/v1/companies/{company}/periods").json()["audit"]
    assert [a["reason"].split(";")[0] for a in audit if a["action"] == "year_end_closed"] == [
        "run 1: profit 700.00 to 4104", "run 2: profit 500.00 to 4104"]


def test_rules_are_listed_dry_run_and_shadow_reposted_without_posting(suite):
    company = suite.new_company("RULES")
    h = suite.http
    invoices = [suite.post_invoice(company, i) for i in range(5)]
    suite.wait_journals(company, 5)
    rules = h.get(f"{suite.gl_url}/v1/rules").json()
    assert {"ar.invoice_issued", "ap.payment_made", "fixedassets.asset_disposed"} <= {r["id"] for r in rules}

    payload = {"company_id": company, "document_number": "X-1", "occurrence_date": {"year": 2026, "month": 11, "day": 9},
               "customer_code": "K", "gross_total": {"currency_code": "CNY", "units": 113},
               "lines": [{"net": {"currency_code": "CNY", "units": 100}, "tax": {"currency_code": "CNY", "units": 13}}]}
    dry = h.post(f"{suite.gl_url}/v1/rules/dry-run", json={"event_type": "finance.ar.InvoiceIssued.v1",
                                                            "payload": payload})
    assert dry.status_code == 200, dry.text
    assert dry.json()["rule"] == {"id": "ar.invoice_issued", "version": 1, "effective_from": "2000-01-01",
                                  "effective_to": "2026-11-30"}  # v2 (open items) from December
    # Versions of a rule cover consecutive dates; the dry run names the one in force.
    by_key = {(x["id"], x["version"]): x for x in rules}
    for rid in ("ap.payment_made", "ap.invoice_approved.expense"):
        assert (by_key[(rid, 1)]["effective_to"], by_key[(rid, 2)]["effective_from"]) == ("2026-10-31", "2026-11-01")
    pay = {"company_id": company, "document_number": "PAY-1", "supplier_code": "S",
           "amount": {"currency_code": "CNY", "units": 50}}
    for day, version in ((31, 1), (1, 2)):
        month = 10 if version == 1 else 11
        r = h.post(f"{suite.gl_url}/v1/rules/dry-run", json={"event_type": "finance.ap.PaymentMade.v1", "payload": pay | {
            "occurrence_date": {"year": 2026, "month": month, "day": day}}})
        assert (r.json()["rule"]["id"], r.json()["rule"]["version"]) == ("ap.payment_made", version)
    assert [(x["account"], x["debit"], x["credit"]) for x in dry.json()["lines"]] == [
        ("1122", "113.00", "0.00"), ("6001", "0.00", "100.00"), ("22210102", "0.00", "13.00")]  # CNY minor units
    bad = h.post(f"{suite.gl_url}/v1/rules/dry-run", json={"event_type": "finance.ar.Nope.v1", "payload": {}})
    assert bad.status_code == 422

    # Candidate v2 from 2026-11-03: revenue to 6051 instead of 6001.
    candidate = """
- id: ar.invoice_issued
  version: 2
  effective_from: 2026-11-03
  event: finance.ar.InvoiceIssued.v1
  lines:
    - {debit: receivables, amount: gross_total}
    - {credit: other_revenue, each: lines, amount: net}
    - {credit: output_vat, each: lines, amount: tax}
"""
    before = suite.trial_balance(company)
    r = h.post(f"{suite.gl_url}/v1/rules/shadow-repost",
               json={"company_id": company, "from": "2026-11-01", "to": "2026-11-30", "rules_yaml": candidate})
    assert r.status_code == 200, r.text
    out = r.json()
    moved = sum(Decimal(i["net_total"]) for i in invoices if i["issue_date"] >= "2026-11-03")
    assert moved > 0
    diffs = {d["account"]: Decimal(d["difference"]) for d in out["trial_balance_differences"]}
    assert diffs == {"6001": moved, "6051": -moved}
    assert out["rules_applied"] == {"ar.invoice_issued v1": 2, "ar.invoice_issued v2": 3}
    assert out["income_statement"]["posted_net_income"] == out["income_statement"]["candidate_net_income"]
    assert out["posted_anything"] is False and suite.trial_balance(company) == before
    bad_yaml = h.post(f"{suite.gl_url}/v1/rules/shadow-repost",
                      json={"company_id": company, "from": "2026-11-01", "to": "2026-11-30",
                            "rules_yaml": candidate.replace("other_revenue", "no_such_role")})
    assert bad_yaml.status_code == 422 and "no_such_role" in bad_yaml.json()["detail"]


def test_foreign_currency_at_the_rate_of_the_day_and_period_end_revaluation(suite):
    company = suite.new_company("FX")
    h = suite.http
    rates = [{"currency": "USD", "rate_date": "2026-11-01", "rate": "7.10"},
             {"currency": "USD", "rate_date": "2026-11-30", "rate": "7.20"}]
    assert h.put(f"{suite.gl_url}/v1/companies/{company}/exchange-rates", json=rates).status_code == 200

    def usd(v):
        return money.to_proto(Decimal(v), "USD")

    sale = ar.InvoiceIssued(company_id=company, document_number="FX-INV-1", occurrence_date=D("2026-11-05"),
                            invoice_id="fx1", customer_code="US-K", currency="USD", gross_total=usd("1130.00"),
                            lines=[ar.InvoiceLine(net=usd("1000.00"), tax=usd("130.00"))])
    eur = ar.InvoiceIssued(company_id=company, document_number="FX-INV-2", occurrence_date=D("2026-11-06"),
                           invoice_id="fx2", customer_code="EU-K", currency="EUR",
                           gross_total=money.to_proto(Decimal("100.00"), "EUR"),
                           lines=[ar.InvoiceLine(net=money.to_proto(Decimal("100.00"), "EUR"))])
    suite.publish(sale, eur)
    suite.wait_journals(company, 1)
    # AR never had these invoices (checked after the test): 1,130.00 USD and 100.00 EUR in the
    # ledger's receivables against an empty sub-ledger.
    why = "events published straight to the topics: AR never had the invoices"
    suite.expect_breach("I7", company, "customer US-K USD", why, detail="sub-ledger 0 != ledger 1130.00 ")
    suite.expect_breach("I7", company, "customer EU-K EUR", why, detail="sub-ledger 0 != ledger 100.00 ")
    # No EUR rate: parked with the reason, not dropped and not guessed.
    parked = wait_for(lambda: h.get(f"{suite.gl_url}/v1/parked-events", params={"company": company}).json(),
                      "the EUR invoice parked")
    assert len(parked) == 1 and "no exchange rate for EUR" in parked[0]["reason"]

    # Known answer: 1,130 USD at 7.10 = 8,023.00 CNY receivable; 7,100 revenue; 923 VAT.
    j = h.get(f"{suite.gl_url}/v1/journals/{suite.journals(company)[0]['id']}").json()
    assert [(x["account"], x["debit"], x["credit"], x["txn_currency"], x["txn_amount"]) for x in j["lines"]] == [
        ("1122", "8023.00", "0.00", "USD", "1130.00"), ("6001", "0.00", "7100.00", "USD", "-1000.00"),
        ("22210102", "0.00", "923.00", "USD", "-130.00")]

    assert h.put(f"{suite.gl_url}/v1/companies/{company}/exchange-rates",
                 json=[{"currency": "EUR", "rate_date": "2026-11-01", "rate": "7.8"}]).status_code == 200
    assert h.post(f"{suite.gl_url}/v1/parked-events/{parked[0]['event_id']}/post", json={}).status_code == 200

    # Revaluation at 7.20: 1,130 x 7.20 = 8,136.00 -> +113.00 unrealised gain; the EUR
    # receivable (100 at 7.8 = 780.00) has no November-end EUR rate newer than 7.8: no change.
    r = h.post(f"{suite.gl_url}/v1/companies/{company}/periods/2026-11/revalue")
    assert r.status_code == 200, r.text
    assert r.json()["gain_or_loss"] == "113.00"
    reval = h.get(f"{suite.gl_url}/v1/journals/{r.json()['journal']}").json()
    assert reval["kind"] == "revaluation" and reval["posting_date"] == "2026-11-30"
    assert [(x["account"], x["debit"], x["credit"]) for x in reval["lines"]] == [
        ("1122", "113.00", "0.00"), ("660302", "0.00", "113.00")]
    back = h.get(f"{suite.gl_url}/v1/journals/{r.json()['reversal']}").json()
    assert back["posting_date"] == "2026-12-01" and back["reverses_journal_id"] == reval["id"]
    nov = {x["account"]: x for x in suite.trial_balance(company, "2026-11-30")["lines"]}
    assert nov["1122"]["debit_balance"] == "8916.00" and nov["660302"]["credit_balance"] == "113.00"
    dec = {x["account"]: x for x in suite.trial_balance(company, "2026-12-31")["lines"]}
    assert dec["1122"]["debit_balance"] == "8803.00" and dec["660302"]["credit_balance"] == "0.00"


def test_blocked_account_parks_group_by_and_journal_posted_events(suite):
    import asyncio

    from aiokafka import AIOKafkaConsumer, TopicPartition
    from fincore.events import decode_record

    company = suite.new_company("BLOCK")
    h = suite.http
    assert h.post(f"{suite.gl_url}/v1/companies/{company}/accounts/6001/block").status_code == 200
    inv1 = suite.post_invoice(company, 1)
    parked = wait_for(lambda: h.get(f"{suite.gl_url}/v1/parked-events", params={"company": company}).json(),
                      "the invoice parked on a blocked account")
    assert parked[0]["reason"] == "account 6001 is blocked" and suite.journal_count(company) == 0
    assert h.post(f"{suite.gl_url}/v1/parked-events/{parked[0]['event_id']}/post", json={}).status_code == 422
    assert h.post(f"{suite.gl_url}/v1/companies/{company}/accounts/6001/unblock").status_code == 200
    assert h.post(f"{suite.gl_url}/v1/parked-events/{parked[0]['event_id']}/post", json={}).status_code == 200
    inv2 = suite.post_invoice(company, 2)
    suite.wait_journals(company, 2)
    suite.assert_posted_exactly_once(company, [inv1, inv2])

    tb = h.get(f"{suite.gl_url}/v1/trial-balance",
               params={"company": company, "as_of": "2026-12-31", "group_by": "customer"}).json()
    rec = next(x for x in tb["lines"] if x["account"] == "1122")
    assert {g["customer"]: g["balance"] for g in rec["by_customer"]} == {
        inv1["customer_code"]: inv1["gross_total"], inv2["customer_code"]: inv2["gross_total"]}
    assert h.get(f"{suite.gl_url}/v1/trial-balance", params={"company": company, "group_by": "colour"}).status_code == 422

    async def journal_posted() -> list:
        c = AIOKafkaConsumer(bootstrap_servers=suite.infra.bootstrap_servers, enable_auto_commit=False)
        await c.start()
        found = []
        try:
            c.assign([TopicPartition("finance.gl.events.v1", p) for p in c.partitions_for_topic("finance.gl.events.v1")])
            await c.seek_to_beginning()
            deadline = time.monotonic() + 30
            while len(found) < 2 and time.monotonic() < deadline:
                for recs in (await c.getmany(timeout_ms=500)).values():
                    for r in recs:
                        env = decode_record(r.topic, r.key, r.value, r.headers)
                        if env.type == "finance.gl.JournalPosted.v1" and env.payload.company_id == company:
                            found.append(env.payload)
        finally:
            await c.stop()
        return found

    posted = asyncio.run(journal_posted())
    assert sorted(p.source_document for p in posted) == sorted([inv1["number"], inv2["number"]])
    assert all(len(p.lines) >= 3 and p.rule_id == "ar.invoice_issued" for p in posted)
