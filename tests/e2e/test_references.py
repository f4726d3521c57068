"""References between documents are checked for company, kind and quantity, and what a
source service accepts the ledger can post (issue 10, points 2 and 3). Refusals are
problem+json 422 that name the client's documents."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

pytestmark = pytest.mark.e2e


def setup(suite, prefix: str) -> str:
    return suite.new_stock_company(prefix, {"MA": "moving_average", "FF": "fifo"}, ("W", "W"))


def post(suite, kind: str, company: str, date: str, lines: list, client=None, **extra):
    return (client or suite.http).post(f"{suite.inv_url}/v1/{kind}", json={
        "company_id": company, "movement_date": date, "warehouse": "W", "lines": lines, **extra})


def ok(r) -> dict:
    assert r.status_code in (200, 201), r.text
    return r.json()


def refused(r, *words: str) -> str:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    detail = r.json()["detail"]
    for w in words:
        assert w in detail, detail
    return detail


def test_returns_name_an_issue_of_the_same_company_and_item_and_never_return_more(suite):
    a, b = setup(suite, "REFA"), setup(suite, "REFB")
    gr_a = ok(post(suite, "receipts", a, "2026-11-02", [{"item": "FF", "quantity": "1000", "unit_cost": "10.00"},
                                                        {"item": "MA", "quantity": "10", "unit_cost": "7.00"}]))
    ok(post(suite, "receipts", b, "2026-11-02", [{"item": "FF", "quantity": "10", "unit_cost": "99.00"}]))
    gi_b = ok(post(suite, "issues", b, "2026-11-03", [{"item": "FF", "quantity": "5"}]))
    gi_a = ok(post(suite, "issues", a, "2026-11-03", [{"item": "FF", "quantity": "4"},
                                                      {"item": "MA", "quantity": "2"}]))

    # Company A names company B's issue: by its movement id or by its number, refused alike,
    # and the refusal says nothing of B's document.
    refused(post(suite, "returns", a, "2026-11-04",
                 [{"item": "FF", "quantity": "1", "returns_movement_id": gi_b["lines"][0]["movement_id"]}]),
            "line 1", "not a document line of FF in company " + a)
    refused(post(suite, "returns", a, "2026-11-04",
                 [{"item": "FF", "quantity": "1", "returns_document": "GI-2026-999999"}]), "GI-2026-999999")
    # A return naming a receipt (of 1,000 units) is not a customer return of anything.
    refused(post(suite, "returns", a, "2026-11-04",
                 [{"item": "FF", "quantity": "1000", "returns_movement_id": gr_a["lines"][0]["movement_id"]}]),
            f"{gr_a['number']} line 1 is not an issue of FF")
    # The wrong item of the right issue.
    refused(post(suite, "returns", a, "2026-11-04",
                 [{"item": "MA", "quantity": "1", "returns_movement_id": gi_a["lines"][0]["movement_id"]}]),
            "is not an issue of MA")
    # Before its issue.
    refused(post(suite, "returns", a, "2026-11-02", [{"item": "FF", "quantity": "1",
                                                      "returns_document": gi_a["number"]}]), "cannot predate")

    # 4 issued: 3 back by the client's document number, then 2 more is one too many.
    r1 = ok(post(suite, "returns", a, "2026-11-05", [{"item": "FF", "quantity": "3",
                                                      "returns_document": gi_a["number"]}]))
    assert r1["total_cost"] == "30.00"  # at the issue's cost, 10.00 a unit
    refused(post(suite, "returns", a, "2026-11-05", [{"item": "FF", "quantity": "2",
                                                      "returns_document": gi_a["number"]}]),
            f"returning 2 FF of {gi_a['number']} line 1, which moved 4 of which 3 are already returned")
    # Two lines of one document count together.
    refused(post(suite, "returns", a, "2026-11-05", [
        {"item": "MA", "quantity": "1", "returns_document": gi_a["number"]},
        {"item": "MA", "quantity": "1.5", "returns_document": gi_a["number"]}]), "line 2", "1 is already returned")

    # The last unit of FF, asked for by four clients at once: one return is accepted.
    def one(_):
        with suite.client() as c:
            return post(suite, "returns", a, "2026-11-06", [{"item": "FF", "quantity": "1",
                                                             "returns_document": gi_a["number"]}], client=c)

    with ThreadPoolExecutor(4) as pool:
        codes = sorted(r.status_code for r in pool.map(one, range(4)))
    assert codes == [201, 422, 422, 422], codes

    # Returns to the supplier name a receipt the same way.
    refused(post(suite, "supplier-returns", a, "2026-11-07",
                 [{"item": "MA", "quantity": "1", "returns_document": gi_a["number"]}]), "is not a receipt of MA")
    ok(post(suite, "supplier-returns", a, "2026-11-07", [{"item": "MA", "quantity": "6",
                                                          "returns_document": gr_a["number"]}]))
    refused(post(suite, "supplier-returns", a, "2026-11-07", [{"item": "MA", "quantity": "5",
                                                               "returns_document": gr_a["number"]}]),
            "moved 10 of which 6 are already returned")
    # An issue names no document it returns.
    refused(post(suite, "issues", a, "2026-11-07", [{"item": "MA", "quantity": "1",
                                                     "returns_document": gr_a["number"]}]), "only a return")


def test_inventory_refuses_what_the_ledger_cannot_post_and_never_dead_letters(suite):
    company = setup(suite, "LIMIT")
    # 1 x 0.0000000001: more decimals than a unit cost has.
    r = post(suite, "receipts", company, "2026-11-02", [{"item": "MA", "quantity": "1",
                                                         "unit_cost": "0.0000000001"}])
    assert r.status_code == 422 and r.json()["errors"][0]["loc"][-1] == "unit_cost"
    # 1 x 0.000001 = 0.000001, 0.00 at the minor unit: refused with the rule.
    refused(post(suite, "receipts", company, "2026-11-02", [{"item": "MA", "quantity": "1",
                                                             "unit_cost": "0.000001"}]), "minor unit")
    refused(post(suite, "receipts", company, "2026-11-02", [{"item": "MA", "quantity": "3", "unit_cost": "0"}]),
            "is 0.00")
    # 3 x 0.003 = 0.009 -> 0.01: the smallest receipt the ledger can post.
    ok(post(suite, "receipts", company, "2026-11-02", [{"item": "MA", "quantity": "3", "unit_cost": "0.003"}]))
    # An issue of one unit costs 0.003 -> 0.00: a real movement without a journal. The GL
    # records the event and posts nothing; it must not dead-letter it.
    tiny = ok(post(suite, "issues", company, "2026-11-03", [{"item": "MA", "quantity": "1"}]))
    assert tiny["total_cost"] == "0.00"
    last = ok(post(suite, "issues", company, "2026-11-04", [{"item": "MA", "quantity": "2"}]))
    assert last["total_cost"] == "0.01"  # the last units take the value left
    event_id = suite.sql("inventory", "SELECT event_id FROM outbox WHERE msg_key = %s", (tiny["id"],))[0][0]
    deadline = time.monotonic() + 60
    while not suite.sql("gl", "SELECT 1 FROM inbox WHERE event_id = %s", (event_id,)):
        assert time.monotonic() < deadline, "the GL never consumed the zero-cost issue"
        time.sleep(0.2)
    assert not suite.sql("gl", "SELECT id FROM dead_letter WHERE event_id = %s", (event_id,))
    suite.wait_journals(company, 2)  # the receipt and the last issue
    tb = {x["account"]: x for x in suite.trial_balance(company)["lines"]}
    assert tb["1405"]["debit_balance"] == tb["1405"]["credit_balance"] == "0.00"


def test_ar_references_customers_orders_and_invoices_of_its_company(suite):
    h = suite.http
    company = suite.new_company("ARREF")
    other = suite.new_company("ARREF2")
    # An invoice for a customer AR does not know would escape credit control.
    body = suite.invoice_body(company, 1) | {"customer_code": "NOBODY"}
    refused(h.post(f"{suite.ar_url}/v1/invoices", json=body), "no customer 'NOBODY'")
    refused(h.post(f"{suite.ar_url}/v1/receipts", json={"company_id": company, "customer_code": "NOBODY",
                                                         "receipt_date": "2026-11-20", "amount": "1.00"}),
            "no customer")

    order = {"company_id": company, "crm_order_id": "SO-1", "customer_code": "C001", "order_date": "2026-11-02",
             "lines": [{"item_code": "P1", "description": "Pump", "quantity": "5", "unit_price": "100.00",
                        "tax_code": "VAT13"}]}
    assert h.put(f"{suite.ar_url}/v1/customers/C001", json={"company_id": company, "code": "C001", "name": "One",
                                                            "credit_limit": "100000.00"}).status_code == 200
    assert h.post(f"{suite.ar_url}/v1/sales-orders", json=order).status_code == 201

    def invoice(qty: str, customer="C001", item="P1", comp=company, ref="SO-1"):
        return h.post(f"{suite.ar_url}/v1/invoices", json={
            "company_id": comp, "customer_code": customer, "currency": "CNY", "issue_date": "2026-11-03",
            "sales_order_ref": ref, "lines": [{"description": "Pump", "item_code": item, "quantity": qty,
                                               "unit_price": "100.00", "tax_code": "VAT13"}]})

    refused(invoice("1", customer="C002"), "SO-1 is for customer C001, not C002")
    refused(invoice("1", item="P9"), "no line for item P9")
    refused(invoice("1", comp=other), "no accepted sales order 'SO-1'")
    first = ok(invoice("3"))
    refused(invoice("3"), "invoicing 3 of item P1, but 2 of the 5 ordered are left to invoice")
    ok(invoice("2"))

    # A write-off leaves no receivable: a credit memo against it would make credit of nothing.
    wo = h.post(f"{suite.ar_url}/v1/write-offs", json={"invoice_id": first["id"], "write_off_date": "2026-11-20",
                                                       "reason": "insolvent"})
    assert wo.status_code == 201, wo.text
    refused(h.post(f"{suite.ar_url}/v1/credit-memos", json={
        "invoice_id": first["id"], "reason": "PRICE_ADJUSTMENT", "memo_date": "2026-11-21",
        "lines": [{"description": "x", "quantity": "1", "unit_price": "1.00", "tax_code": "VAT13"}]}),
        f"{first['number']} was written off")

    # A receipt names open invoices of its customer, each once.
    inv = suite.post_invoice(company, 2)  # customer C002
    app = {"invoice_id": inv["id"], "amount": "1.00"}
    refused(h.post(f"{suite.ar_url}/v1/receipts", json={
        "company_id": company, "customer_code": "C002", "receipt_date": "2026-11-20", "amount": "2.00",
        "applications": [app, app]}), f"{inv['number']} is named twice")
    refused(h.post(f"{suite.ar_url}/v1/receipts", json={
        "company_id": company, "customer_code": "C003", "receipt_date": "2026-11-20", "amount": "2.00",
        "applications": [app]}), "is not an open invoice of C003")
