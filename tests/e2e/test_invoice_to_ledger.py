"""An AR invoice becomes a balanced GL journal, exactly once, through the real broker."""

from decimal import Decimal

import pytest

pytestmark = pytest.mark.e2e


def test_200_invoices_make_200_journals_and_a_balanced_trial_balance(suite):
    company = suite.new_company()
    invoices = [suite.post_invoice(company, i) for i in range(200)]
    assert len({i["number"] for i in invoices}) == 200
    suite.wait_journals(company, 200)
    suite.assert_posted_exactly_once(company, invoices)
    tb = suite.trial_balance(company)
    assert tb["journals"] == 200
    # Drill-down: a journal names the event, the rule and the trace that made it.
    j = suite.journals(company)[0]
    detail = suite.http.get(f"{suite.gl_url}/v1/journals/{j['id']}").json()
    assert detail["source"]["event_type"] == "finance.ar.InvoiceIssued.v1"
    assert len(detail["source"]["event_id"]) == 36 and len(detail["source"]["trace_id"]) == 32
    assert detail["rule"] == {"id": "ar.invoice_issued", "version": 1}
    assert sum(Decimal(ln["debit"]) for ln in detail["lines"]) == Decimal(detail["total_credit"])


def test_bad_invoice_is_refused_and_changes_nothing(suite):
    company = suite.new_company()
    body = suite.invoice_body(company, 1)
    bad = [
        {**body, "lines": []},
        {**body, "currency": "usd"},
        {**body, "lines": [{**body["lines"][0], "tax_code": "VAT99"}]},
        {**body, "lines": [{**body["lines"][0], "quantity": "-1"}]},
        {**body, "issue_date": "2026-13-01"},
        {**body, "unexpected": 1},
    ]
    for b in bad:
        r = suite.http.post(f"{suite.ar_url}/v1/invoices", json=b)
        assert r.status_code == 422, (b, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["status"] == 422 and r.json()["detail"]
    r = suite.http.post(f"{suite.ar_url}/v1/invoices", json=body, headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
    listed = suite.http.get(f"{suite.ar_url}/v1/invoices", params={"company": company}).json()
    assert listed["total"] == 0
    # Same Idempotency-Key: the same invoice, once; with a different body: 409.
    first = suite.post_invoice(company, 7)
    again = suite.http.post(f"{suite.ar_url}/v1/invoices", json=suite.invoice_body(company, 7),
                            headers={"Idempotency-Key": f"{company}-7"})
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first["id"]
    other = suite.http.post(f"{suite.ar_url}/v1/invoices", json=suite.invoice_body(company, 8),
                            headers={"Idempotency-Key": f"{company}-7"})
    assert other.status_code == 409
    suite.wait_journals(company, 1)
    suite.assert_posted_exactly_once(company, [first])
