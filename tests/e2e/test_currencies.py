"""Currencies end to end: amounts in each currency's ISO 4217 minor unit (JPY 0 decimals,
KWD 3) from the API through the ledger, and ISO 4217 codes checked at every door."""

import asyncio
import time
import uuid
from decimal import Decimal as D

import grpc
import pytest
from finance.budget.v1 import budget_service_pb2 as bpb
from finance.budget.v1 import budget_service_pb2_grpc as bpb_grpc
from finance.credit.v1 import credit_service_pb2 as cpb
from finance.credit.v1 import credit_service_pb2_grpc as cpb_grpc
from fincore import money

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
    # The ageing (due in 30 days: current) in the customer's currency.
    ageing = ok(h.get(f"{suite.ar_url}/v1/ageing", params={"company": company, "as_of": "2026-11-10"}))
    assert (ageing["customers"][0]["current"], ageing["total"]["total"]) == (expected["gross"], expected["gross"])
    assert list(ageing["totals_by_currency"]) == [currency]
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


def grpc_call(suite, port: int, stub_cls, method: str, request):
    """One authenticated gRPC call -> (response, None) or (None, (code, details))."""

    async def call():
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
            try:
                return await getattr(stub_cls(ch), method)(
                    request, metadata=(("authorization", f"Bearer {suite.token}"),), timeout=30), None
            except grpc.aio.AioRpcError as exc:
                return None, (exc.code(), exc.details())

    return asyncio.run(call())


def test_credit_and_budget_checks_convert_at_the_ledgers_rate_of_the_day(suite):
    """A CNY company with a USD rate of 7.10 in its ledger: AR and the budget service get the
    rate from the GL's ExchangeRatesSet event and compare USD amounts with CNY limits in CNY."""
    h = suite.http
    company = suite.new_company("FXCHK")
    ok(h.put(f"{suite.gl_url}/v1/companies/{company}/exchange-rates",
             json=[{"currency": "USD", "rate_date": "2026-11-01", "rate": "7.10"}]))
    for service in ("ar", "budget"):  # both keep their copy from the GL's event
        wait_for(lambda s=service: suite.sql(s, "SELECT rate FROM ledger_rate WHERE company_id = %s", (company,)),
                 f"the USD rate in {service}", suite)
    cust = customer(suite, company, "CNY", "100000.00")
    usd = lambda v: money.to_proto(D(v), "USD")  # noqa: E731

    # USD 99,000 x 7.10 = CNY 702,900.00 against a CNY 100,000.00 limit: refused, nothing reserved.
    d, err = grpc_call(suite, suite.ar_grpc_port, cpb_grpc.CreditServiceStub, "ReserveCredit", cpb.ReserveCreditRequest(
        company_id=company, customer_code=cust, amount=usd("99000"), order_ref="CRM-USD-1"))
    assert err is None and not d.approved, err
    assert money.from_proto(d.amount) == D("702900.00") and d.amount.currency_code == "CNY"
    assert (money.from_proto(d.conversion.original), d.conversion.original.currency_code, d.conversion.rate) == \
        (D("99000.00"), "USD", "7.1")
    assert (money.from_proto(d.limit), money.from_proto(d.exposure), money.from_proto(d.available)) == \
        (D("100000.00"), D("0.00"), D("100000.00"))
    assert "over the credit limit by 602900.00" in d.reason  # 702,900.00 - 100,000.00
    # USD 10,000 -> CNY 71,000.00: approved, and the exposure rises by the converted amount.
    d, err = grpc_call(suite, suite.ar_grpc_port, cpb_grpc.CreditServiceStub, "ReserveCredit", cpb.ReserveCreditRequest(
        company_id=company, customer_code=cust, amount=usd("10000"), order_ref="CRM-USD-2"))
    assert err is None and d.approved, (err, d)
    assert (money.from_proto(d.amount), money.from_proto(d.exposure), money.from_proto(d.available)) == \
        (D("71000.00"), D("71000.00"), D("29000.00"))
    info = ok(h.get(f"{suite.ar_url}/v1/customers/{cust}", params={"company": company}))
    assert (info["exposure"], info["available"]) == ("71000.00", "29000.00")
    assert suite.sql("ar", "SELECT amount, original_amount, original_currency, rate FROM credit_reservation "
                           "WHERE company_id = %s", (company,)) == [(D("71000.0000"), D("10000.0000"), "USD",
                                                                     D("7.1000000000"))]
    # A REST sales order in USD: 2,000.00 + 13 % VAT = USD 2,260.00 = CNY 16,046.00 fits the 29,000.00 left;
    # a second of USD 4,520.00 = CNY 32,092.00 does not fit the 12,954.00 left after it.
    so = ok(h.post(f"{suite.ar_url}/v1/sales-orders", json={
        "company_id": company, "crm_order_id": "CRM-USD-3", "customer_code": cust, "order_date": "2026-11-10",
        "currency": "USD", "lines": [{"description": "Pump", "quantity": "1", "unit_price": "2000.00",
                                      "tax_code": "VAT13"}]}), 201)
    assert (so["currency"], so["amount"], so["credit"]["amount"], so["credit"]["exposure"]) == \
        ("USD", "2260.00", "16046.00", "87046.00")
    r = h.post(f"{suite.ar_url}/v1/sales-orders", json={
        "company_id": company, "crm_order_id": "CRM-USD-4", "customer_code": cust, "order_date": "2026-11-10",
        "currency": "USD", "lines": [{"description": "Pump", "quantity": "2", "unit_price": "2000.00",
                                      "tax_code": "VAT13"}]})
    assert r.status_code == 422 and r.json()["type"].endswith("/credit-refused"), r.text
    assert (r.json()["available"], r.json()["order_amount"]) == ("12954.00", "4520.00")
    # A currency the ledger has no rate for: refused with the pair and the day, nothing reserved.
    d, err = grpc_call(suite, suite.ar_grpc_port, cpb_grpc.CreditServiceStub, "CheckCredit", cpb.CheckCreditRequest(
        company_id=company, customer_code=cust, amount=money.to_proto(D("10.00"), "EUR")))
    assert err[0] == grpc.StatusCode.FAILED_PRECONDITION and "EUR/CNY" in err[1], err
    r = h.post(f"{suite.ar_url}/v1/sales-orders", json={
        "company_id": company, "crm_order_id": "CRM-EUR-1", "customer_code": cust, "order_date": "2026-11-10",
        "currency": "EUR", "lines": [{"description": "Pump", "quantity": "1", "unit_price": "1.00",
                                      "tax_code": "VAT13"}]})
    assert r.status_code == 422 and r.json()["type"].endswith("/rate-unavailable"), r.text
    assert (r.json()["from_currency"], r.json()["to_currency"]) == ("EUR", "CNY")
    assert ok(h.get(f"{suite.ar_url}/v1/customers/{cust}", params={"company": company}))["exposure"] == "87046.00"

    # The budget: a CNY 100,000.00 block line; USD requisitions through AP.
    b = suite.budget_url
    ok(h.put(f"{b}/v1/budget-items/IT", json={"company_id": company, "name": "IT", "accounts": ["6602"]}))
    v = ok(h.post(f"{b}/v1/budget-versions", json={"company_id": company, "code": "FY", "currency": "CNY"}), 201)
    ok(h.post(f"{b}/v1/budget-versions/{v['id']}/lines", json={"lines": [
        {"cost_centre": "IT", "budget_item": "IT", "period": "2026-11", "amount": "100000.00"}]}))
    ok(h.post(f"{b}/v1/budget-versions/{v['id']}/approve"))

    def requisition(currency: str, price: str):
        return h.post(f"{suite.ap_url}/v1/requisitions", json={
            "company_id": company, "request_date": "2026-11-02", "currency": currency,
            "lines": [{"description": "Laptops", "quantity": "1", "unit_price": price, "cost_centre": "IT",
                       "budget_item": "IT"}]})

    # USD 15,000.00 x 7.10 = CNY 106,500.00 > 100,000.00: refused with the converted numbers.
    r = requisition("USD", "15000.00")
    assert r.status_code == 422 and r.json()["type"].endswith("/budget-refused"), r.text
    (d,) = r.json()["budget"]
    assert (d["requested"], d["budget"], d["available"]) == ("106500.00", "100000.00", "100000.00")
    assert d["conversion"] == {"original_amount": "15000.00", "original_currency": "USD", "rate": "7.1",
                               "rate_date": "2026-11-01"}
    assert "over budget by 6500.00" in d["reason"]
    # USD 10,000.00 -> CNY 71,000.00 reserved, with the original amount and the rate.
    req = ok(requisition("USD", "10000.00"), 201)
    assert req["budget"][0]["reserved"] == "71000.00" and req["budget"][0]["available"] == "29000.00"
    (res,) = ok(h.get(f"{b}/v1/reservations", params={"company": company}))
    assert (res["currency"], res["reserved"], res["conversion"]) == ("CNY", "71000.00", {
        "original_amount": "10000.00", "original_currency": "USD", "rate": "7.1", "rate_date": "2026-11-01"})
    # gRPC CheckBudget in EUR (no rate): FAILED_PRECONDITION naming the pair.
    d, err = grpc_call(suite, suite.budget_grpc_port, bpb_grpc.BudgetServiceStub, "CheckBudget", bpb.CheckBudgetRequest(
        company_id=company, cost_centre="IT", budget_item="IT", period="2026-11",
        amount=money.to_proto(D("10.00"), "EUR")))
    assert err[0] == grpc.StatusCode.FAILED_PRECONDITION and "EUR/CNY" in err[1], err
    r = requisition("EUR", "10.00")
    assert r.status_code == 422 and r.json()["type"].endswith("/rate-unavailable"), r.text
    assert ok(h.get(f"{b}/v1/reports/budget-vs-actual", params={"company": company}))["total"]["reserved"] == \
        "71000.00"
