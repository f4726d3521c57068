"""Currencies end to end: amounts in each currency's ISO 4217 minor unit (JPY 0 decimals,
KWD 3) from the API through the ledger, and ISO 4217 codes checked at every door."""

import time
import uuid

import pytest

pytestmark = pytest.mark.e2e


def ok(r, status=(200, 201)):
    assert r.status_code in ((status,) if isinstance(status, int) else status), r.text
    return r.json()


def wait_for(check, what: str, suite, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached after {timeout}s\n{suite.logs()}")
        time.sleep(0.3)
    return value


def customer(suite, company: str, currency: str, limit: str) -> str:
    code = f"K{uuid.uuid4().hex[:6]}"
    r = suite.http.put(f"{suite.ar_url}/v1/customers/{code}", json={
        "company_id": company, "code": code, "name": "Kunde", "currency": currency, "credit_limit": limit})
    assert ok(r)["credit_limit"] == limit
    return code


@pytest.mark.parametrize("currency, limit, unit_price, expected", [
    # JPY has no minor unit. 3 x 1234 = 3702 net; VAT 13 % = 481.26 -> 481 (half up); gross 4183.
    ("JPY", "1000000", "1234", {"unit_price": "1234", "net": "3702", "tax": "481", "gross": "4183",
                                "available": "995817"}),
    # KWD has 3 decimals. 3 x 10.125 = 30.375 net; VAT 13 % = 3.94875 -> 3.949; gross 34.324.
    ("KWD", "1000.125", "10.125", {"unit_price": "10.125", "net": "30.375", "tax": "3.949", "gross": "34.324",
                                   "available": "965.801"}),
])
def test_amounts_round_trip_in_the_currencys_minor_unit(suite, currency, limit, unit_price, expected):
    h = suite.http
    company = suite.new_company(f"CCY{currency}", currency=currency)
    assert ok(h.get(f"{suite.gl_url}/v1/companies/{company}"))["functional_currency"] == currency
    cust = customer(suite, company, currency, limit)
    # An amount with more decimals than the currency has is refused, not rounded.
    too_fine = "100.5" if currency == "JPY" else "1.0005"
    r = h.put(f"{suite.ar_url}/v1/customers/{cust}", json={
        "company_id": company, "code": cust, "name": "Kunde", "currency": currency, "credit_limit": too_fine})
    assert r.status_code == 422 and f"{currency} amounts have" in r.json()["detail"], r.text

    inv = ok(h.post(f"{suite.ar_url}/v1/invoices", json={
        "company_id": company, "customer_code": cust, "currency": currency, "issue_date": "2026-11-10",
        "lines": [{"description": "Pump", "quantity": "3", "unit_price": unit_price, "tax_code": "VAT13"}]}), 201)
    assert (inv["net_total"], inv["tax_total"], inv["gross_total"], inv["outstanding"]) == \
        (expected["net"], expected["tax"], expected["gross"], expected["gross"])
    assert (inv["lines"][0]["unit_price"], inv["lines"][0]["net"], inv["lines"][0]["tax"]) == \
        (expected["unit_price"], expected["net"], expected["tax"])
    # The credit position: limit - open invoice (1,000,000 - 4,183; 1,000.125 - 34.324).
    info = ok(h.get(f"{suite.ar_url}/v1/customers/{cust}", params={"company": company}))
    assert (info["credit_limit"], info["exposure"], info["available"]) == (limit, expected["gross"],
                                                                          expected["available"])
    # The ledger posts and prints the same figures in the company's currency.
    suite.wait_journals(company, 1)
    journal = ok(h.get(f"{suite.gl_url}/v1/journals/{suite.journals(company)[0]['id']}"))
    assert journal["total_debit"] == journal["total_credit"] == expected["gross"]
    assert sorted((ln["debit"], ln["credit"]) for ln in journal["lines"]) == sorted([
        (expected["gross"], "0" if currency == "JPY" else "0.000"),
        ("0" if currency == "JPY" else "0.000", expected["net"]),
        ("0" if currency == "JPY" else "0.000", expected["tax"])])
    tb = suite.trial_balance(company)
    assert tb["totals"]["debit_balance"] == tb["totals"]["credit_balance"] == expected["gross"]
    # A receipt of the whole amount closes the invoice, in minor units.
    rec = ok(h.post(f"{suite.ar_url}/v1/receipts", json={
        "company_id": company, "customer_code": cust, "receipt_date": "2026-11-20", "amount": expected["gross"]}), 201)
    assert (rec["currency"], rec["amount"], rec["unapplied"]) == \
        (currency, expected["gross"], "0" if currency == "JPY" else "0.000")
    r = h.post(f"{suite.ar_url}/v1/receipts", json={
        "company_id": company, "customer_code": cust, "receipt_date": "2026-11-20", "amount": too_fine})
    assert r.status_code == 422 and f"{currency} amounts have" in r.json()["detail"], r.text


def test_unknown_currency_codes_are_refused_at_every_door(suite):
    """"ZZZ" is shaped like an ISO 4217 code but is none; XAU (gold) has no minor unit."""
    h = suite.http
    company = suite.new_company("ZZZ")
    for code in ("ZZZ", "XAU"):
        doors = {
            "GL company": h.post(f"{suite.gl_url}/v1/companies", json={
                "id": f"Z-{uuid.uuid4().hex[:8]}", "name": "Z", "functional_currency": code}),
            "GL exchange rate": h.put(f"{suite.gl_url}/v1/companies/{company}/exchange-rates", json=[
                {"currency": code, "rate_date": "2026-11-01", "rate": "7.1"}]),
            "AR customer": h.put(f"{suite.ar_url}/v1/customers/Z1", json={
                "company_id": company, "code": "Z1", "name": "Z", "currency": code}),
            "AP supplier": h.put(f"{suite.ap_url}/v1/suppliers/Z1", json={
                "company_id": company, "name": "Z", "currency": code}),
            "budget version": h.post(f"{suite.budget_url}/v1/budget-versions", json={
                "company_id": company, "code": "FY", "currency": code}),
        }
        for door, r in doors.items():
            assert r.status_code == 422, (door, code, r.text)
            assert r.headers["content-type"].startswith("application/problem+json"), (door, r.headers)
            assert code in r.text, (door, r.text)
    # Nothing was created: the rate table, the customer and the supplier are still empty.
    assert ok(h.get(f"{suite.gl_url}/v1/companies/{company}/exchange-rates")) == []
    assert h.get(f"{suite.ar_url}/v1/customers/Z1", params={"company": company}).status_code == 404
    assert ok(h.get(f"{suite.budget_url}/v1/budget-versions", params={"company": company})) == []
