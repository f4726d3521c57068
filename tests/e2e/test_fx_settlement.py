# ruff: noqa: E501
"""Realised exchange differences end to end: a EUR document booked at one rate and settled
at another is relieved at its carrying amount, the difference is a realised gain or loss
on 660302 (CAS finance costs), and the settled document is 0.00 in both currencies in the
ledger, so the next revaluation finds nothing to revalue. Books in CNY; hand computations
in the comments."""

import datetime as dt
import json
import time
from decimal import Decimal

import pytest

pytestmark = pytest.mark.e2e

RATES = [("2026-12-01", "7.80"), ("2026-12-20", "7.75"), ("2026-12-25", "7.85"), ("2026-12-31", "7.70"),
         ("2027-01-10", "7.75"), ("2027-01-15", "7.90")]


def fx_company(suite, prefix: str) -> str:
    company = suite.new_company(prefix)
    r = suite.http.put(f"{suite.gl_url}/v1/companies/{company}/exchange-rates",
                       json=[{"currency": "EUR", "rate_date": d, "rate": r} for d, r in RATES])
    assert r.status_code == 200, r.text
    return company


def eur_customer(suite, company: str, code: str) -> None:
    r = suite.http.put(f"{suite.ar_url}/v1/customers/{code}", json={
        "company_id": company, "code": code, "name": code, "currency": "EUR", "credit_limit": "1000000.00"})
    assert r.status_code == 200, r.text


def eur_invoice(suite, company: str, customer: str, amount: str, on: str) -> dict:
    r = suite.http.post(f"{suite.ar_url}/v1/invoices", json={
        "company_id": company, "customer_code": customer, "currency": "EUR", "issue_date": on,
        "lines": [{"description": "Service", "quantity": "1", "unit_price": amount, "tax_code": "VAT0"}]})
    assert r.status_code == 201, r.text
    return r.json()


def post(suite, path: str, body: dict) -> dict:
    r = suite.http.post(f"{suite.ar_url}/v1/{path}", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def journal_of(suite, company: str, document: str, n: int = 1) -> list[tuple[str, str, str]]:
    """The lines (account, debit, credit) of the journal made from a source document, once posted."""
    deadline = time.monotonic() + 120
    while True:
        js = [j for j in suite.journals(company) if j["source"]["document"] == document]
        if len(js) >= n or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert len(js) == n, f"{document}: {len(js)} journals\n{suite.logs()}"
    lines = suite.http.get(f"{suite.gl_url}/v1/journals/{js[0]['id']}").json()["lines"]
    return [(x["account"], x["debit"], x["credit"]) for x in lines]


def open_items(suite, company: str) -> dict[str, tuple[Decimal, Decimal]]:
    """Every document's balance in the ledger: (transaction currency, functional)."""
    rows = suite.sql("gl", "SELECT open_item, sum(txn_amount), sum(debit - credit) FROM journal_line "
                           "WHERE company_id = %s AND open_item <> '' GROUP BY open_item", (company,))
    return {ref: (Decimal(t), Decimal(f)) for ref, t, f in rows}


def control_balances(suite, company: str) -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
    """Control-account balance per counterparty, in EUR and in CNY, all postings included."""
    rows = suite.sql("gl", "SELECT account_code, customer || supplier, sum(txn_amount), sum(debit - credit) "
                           "FROM journal_line WHERE company_id = %s AND account_code IN ('1122', '220201') "
                           "GROUP BY 1, 2", (company,))
    return {(a, cp): (Decimal(t), Decimal(f)) for a, cp, t, f in rows}


def income(suite, company: str, start: str, end: str, account: str = "660302") -> Decimal:
    """What an account did to profit over a range (a gain positive)."""
    rows = suite.sql("gl", "SELECT coalesce(sum(credit - debit), 0) FROM journal_line WHERE company_id = %s "
                           "AND account_code = %s AND posting_date BETWEEN %s AND %s", (company, account, start, end))
    return Decimal(rows[0][0])


def revalued_accounts(suite, company: str, period: str) -> dict[str, Decimal]:
    """Run the period-end revaluation; what it changed per balance-sheet account."""
    r = suite.http.post(f"{suite.gl_url}/v1/companies/{company}/periods/{period}/revalue")
    assert r.status_code == 200, r.text
    if r.json()["journal"] is None:
        return {}
    out: dict[str, Decimal] = {}
    for x in suite.http.get(f"{suite.gl_url}/v1/journals/{r.json()['journal']}").json()["lines"]:
        if not x["account"].startswith("6"):
            out[x["account"]] = out.get(x["account"], Decimal(0)) + Decimal(x["debit"]) - Decimal(x["credit"])
    return out


def test_ar_receipts_realise_a_loss_and_a_gain(suite):
    company = fx_company(suite, "FXR")
    eur_customer(suite, company, "EU-A")
    eur_customer(suite, company, "EU-B")
    a = eur_invoice(suite, company, "EU-A", "2000.00", "2026-12-05")  # 2,000 x 7.80 = 15,600.00
    b = eur_invoice(suite, company, "EU-B", "1000.00", "2026-12-06")  # 1,000 x 7.80 = 7,800.00
    assert journal_of(suite, company, a["number"])[0] == ("1122", "15600.00", "0.00")
    journal_of(suite, company, b["number"])

    # The example: paid in full at 7.75 = 15,500.00. The receivable is relieved at
    # its booked 15,600.00 and 100.00 is a realised loss in finance costs (660302), not 6061.
    ra = post(suite, "receipts", {"company_id": company, "customer_code": "EU-A", "receipt_date": "2026-12-20",
                                  "amount": "2000.00"})
    assert journal_of(suite, company, ra["number"]) == [
        ("1002", "15500.00", "0.00"), ("1122", "0.00", "15600.00"), ("660302", "100.00", "0.00")]
    # EU-B pays in two parts. 400 EUR at 7.85 = 3,140.00 relieves 7,800 x 400/1,000 = 3,120.00:
    # gain 20.00. The rest, 600 EUR at 7.75 (01-10) = 4,650.00, relieves the remaining 4,680.00: loss 30.00.
    rb1 = post(suite, "receipts", {"company_id": company, "customer_code": "EU-B", "receipt_date": "2026-12-25",
                                   "amount": "400.00"})
    rb2 = post(suite, "receipts", {"company_id": company, "customer_code": "EU-B", "receipt_date": "2027-01-10",
                                   "amount": "600.00"})
    assert journal_of(suite, company, rb1["number"]) == [
        ("1002", "3140.00", "0.00"), ("1122", "0.00", "3120.00"), ("660302", "0.00", "20.00")]
    assert journal_of(suite, company, rb2["number"]) == [
        ("1002", "4650.00", "0.00"), ("1122", "0.00", "4680.00"), ("660302", "30.00", "0.00")]

    # Settled documents and customers are 0.00 in EUR and in CNY; total realised:
    # -100 + 20 - 30 = -110.00 = (7.75 - 7.80) x 2,000 + (7.85 - 7.80) x 400 + (7.75 - 7.80) x 600.
    assert open_items(suite, company) == {a["id"]: (0, 0), b["id"]: (0, 0)}
    assert set(control_balances(suite, company).values()) == {(0, 0)}
    assert income(suite, company, "2026-12-01", "2027-01-31") == Decimal("-110.00")
    # Nothing left on the receivables for a revaluation to find (the EUR bank balance is
    # revalued: 3,000 EUR received for 23,290.00, at 7.90 = 23,700.00).
    assert revalued_accounts(suite, company, "2027-01") == {"1002": Decimal("410.00")}


def test_ap_payments_realise_a_loss_and_a_gain_with_a_discount(suite):
    from finance.ap.v1 import events_pb2 as ap
    from finance.common.v1 import types_pb2
    from fincore import dates, money

    company = fx_company(suite, "FXP")

    def eur(v):
        return money.to_proto(Decimal(v), "EUR")

    def d(s):
        return dates.to_proto(__import__("datetime").date.fromisoformat(s))

    def invoice(doc, inv_id, amount, on):
        return ap.InvoiceApproved(company_id=company, document_number=doc, occurrence_date=d(on), invoice_id=inv_id,
                                  supplier_code="EU-S", kind=ap.INVOICE_KIND_EXPENSE, currency="EUR",
                                  gross_total=eur(amount), net_total=eur(amount),
                                  lines=[ap.PayableLine(net=eur(amount),
                                                        dimensions=types_pb2.Dimensions(cost_centre="ADMIN"))])

    # PI-1 1,000 EUR and PI-2 500 EUR, both booked at 7.80: payables 7,800.00 and 3,900.00.
    suite.publish(invoice("PI-1", "pi1", "1000.00", "2026-12-05"), invoice("PI-2", "pi2", "500.00", "2026-12-06"))
    assert journal_of(suite, company, "PI-1")[-1] == ("220201", "0.00", "7800.00")
    journal_of(suite, company, "PI-2")
    # PI-1 paid on 12-25 at 7.85 = 7,850.00 for a payable booked at 7,800.00: loss 50.00.
    # PI-2 paid on 01-10 at 7.75: 490 EUR + 10 EUR discount. The payment relieves
    # 3,900 x 490/500 = 3,822.00, the discount the remaining 78.00; bank 490 x 7.75 = 3,797.50,
    # discount income 10 x 7.75 = 77.50; gain 3,900 - 3,797.50 - 77.50 = 25.00.
    suite.publish(
        ap.PaymentMade(company_id=company, document_number="PAY-1", occurrence_date=d("2026-12-25"),
                       supplier_code="EU-S", amount=eur("1000.00"),
                       applications=[ap.PaymentApplication(invoice_id="pi1", amount=eur("1000.00"))]),
        ap.PaymentMade(company_id=company, document_number="PAY-2", occurrence_date=d("2027-01-10"),
                       supplier_code="EU-S", amount=eur("490.00"),
                       applications=[ap.PaymentApplication(invoice_id="pi2", amount=eur("490.00"),
                                                           discount=eur("10.00"))]))
    assert journal_of(suite, company, "PAY-1") == [
        ("220201", "7800.00", "0.00"), ("1002", "0.00", "7850.00"), ("660302", "50.00", "0.00")]
    assert journal_of(suite, company, "PAY-2") == [
        ("220201", "3822.00", "0.00"), ("220201", "78.00", "0.00"), ("6603", "0.00", "77.50"),
        ("1002", "0.00", "3797.50"), ("660302", "0.00", "25.00")]
    assert open_items(suite, company) == {"pi1": (0, 0), "pi2": (0, 0)}
    assert control_balances(suite, company) == {("220201", "EU-S"): (0, 0)}
    assert income(suite, company, "2026-12-01", "2027-01-31") == Decimal("-25.00")  # -50 + 25


def test_credit_memo_write_off_and_refund_realise_at_the_carrying_amount(suite):
    company = fx_company(suite, "FXC")
    eur_customer(suite, company, "EU-C")
    x = eur_invoice(suite, company, "EU-C", "1000.00", "2026-12-05")  # 7,800.00
    y = eur_invoice(suite, company, "EU-C", "500.00", "2026-12-06")  # 3,900.00
    journal_of(suite, company, x["number"])
    journal_of(suite, company, y["number"])

    # A 100 EUR price adjustment on X at 7.75: revenue -775.00; X relieved by
    # 7,800 x 100/1,000 = 780.00; realised loss 5.00.
    mx = post(suite, "credit-memos", {"invoice_id": x["id"], "reason": "PRICE_ADJUSTMENT", "memo_date": "2026-12-20",
                                      "lines": [{"description": "Adj", "quantity": "1", "unit_price": "100.00",
                                                 "tax_code": "VAT0"}]})
    assert journal_of(suite, company, mx["number"]) == [
        ("6001", "775.00", "0.00"), ("1122", "0.00", "780.00"), ("660302", "5.00", "0.00")]
    # X's remaining 900 EUR written off at 7.85: allowance 7,065.00, X relieved of its
    # remaining 7,020.00, realised gain 45.00.
    wo = post(suite, "write-offs", {"invoice_id": x["id"], "write_off_date": "2026-12-25", "reason": "insolvent"})
    assert journal_of(suite, company, wo["number"]) == [
        ("1231", "7065.00", "0.00"), ("1122", "0.00", "7020.00"), ("660302", "0.00", "45.00")]
    # 800 EUR received at 7.85 = 6,280.00: Y relieved at 3,900.00, 300 EUR unapplied cash
    # opened at 2,355.00; realised gain 6,280 - 3,900 - 2,355 = 25.00.
    rc = post(suite, "receipts", {"company_id": company, "customer_code": "EU-C", "receipt_date": "2026-12-25",
                                  "amount": "800.00"})
    assert rc["unapplied"] == "300.00"
    assert journal_of(suite, company, rc["number"]) == [
        ("1002", "6280.00", "0.00"), ("1122", "0.00", "3900.00"), ("1122", "0.00", "2355.00"),
        ("660302", "0.00", "25.00")]
    # A 50 EUR memo on the paid Y at 7.70 is customer credit: 385.00, no exchange difference yet.
    my = post(suite, "credit-memos", {"invoice_id": y["id"], "reason": "PRICE_ADJUSTMENT", "memo_date": "2026-12-31",
                                      "lines": [{"description": "Adj", "quantity": "1", "unit_price": "50.00",
                                                 "tax_code": "VAT0"}]})
    assert my["applied"] == "0.00"
    assert journal_of(suite, company, my["number"]) == [("6001", "385.00", "0.00"), ("1122", "0.00", "385.00")]
    # Refund of the whole credit, 350 EUR at 7.90 = 2,765.00: relieves the unapplied cash
    # (2,355.00) and the memo's credit (385.00) = 2,740.00; realised loss 25.00.
    rf = post(suite, "refunds", {"company_id": company, "customer_code": "EU-C", "refund_date": "2027-01-15",
                                 "amount": "350.00"})
    assert journal_of(suite, company, rf["number"]) == [
        ("1122", "2355.00", "0.00"), ("1122", "385.00", "0.00"), ("1002", "0.00", "2765.00"),
        ("660302", "25.00", "0.00")]

    # Every document and the customer: 0.00 in EUR and in CNY. Realised: -5 + 45 + 25 - 25 = 40.00.
    assert set(open_items(suite, company).values()) == {(0, 0)} and len(open_items(suite, company)) == 4
    assert control_balances(suite, company) == {("1122", "EU-C"): (0, 0)}
    assert income(suite, company, "2026-12-01", "2027-01-31") == Decimal("40.00")


def test_revaluation_then_settlement_counts_each_difference_once(suite):
    company = fx_company(suite, "FXV")
    eur_customer(suite, company, "EU-R")
    eur_customer(suite, company, "EU-S")
    r_inv = eur_invoice(suite, company, "EU-R", "2000.00", "2026-12-05")  # 15,600.00
    s_inv = eur_invoice(suite, company, "EU-S", "1000.00", "2026-12-05")  # 7,800.00
    journal_of(suite, company, r_inv["number"])
    journal_of(suite, company, s_inv["number"])

    # December closes at 7.70: EU-R 2,000 x 7.70 = 15,400.00 (-200.00), EU-S 7,700.00 (-100.00):
    # an unrealised loss of 300.00 on 12-31, reversed on 01-01.
    assert revalued_accounts(suite, company, "2026-12") == {"1122": Decimal("-300.00")}

    # EU-R pays next month, 01-10 at 7.75 = 15,500.00. After the reversal its carrying amount
    # is the booked 15,600.00: realised loss 100.00. Over both months the P&L effect is
    # (7.75 - 7.80) x 2,000 = -100.00 = -200 unrealised (Dec) + 200 reversed - 100 realised (Jan).
    rr = post(suite, "receipts", {"company_id": company, "customer_code": "EU-R", "receipt_date": "2027-01-10",
                                  "amount": "2000.00"})
    assert journal_of(suite, company, rr["number"]) == [
        ("1002", "15500.00", "0.00"), ("1122", "0.00", "15600.00"), ("660302", "100.00", "0.00")]

    # EU-S pays on 12-31, after December was revalued, at 7.70 = 7,700.00: relieved at the
    # booked 7,800.00 (realised loss 100.00), and the December revaluation of EU-S (-100.00)
    # is now stale. The ledger revalues December again in the receipt's transaction, which
    # takes it back (+100.00 on 12-31, reversed 01-01), so December counts
    # (7.70 - 7.80) x 1,000 = -100.00 for EU-S once, not twice.
    rs = post(suite, "receipts", {"company_id": company, "customer_code": "EU-S", "receipt_date": "2026-12-31",
                                  "amount": "1000.00"})
    assert journal_of(suite, company, rs["number"]) == [
        ("1002", "7700.00", "0.00"), ("1122", "0.00", "7800.00"), ("660302", "100.00", "0.00")]
    revaluations = suite.sql(
        "gl", "SELECT j.posted_by, sum(l.debit - l.credit) FROM journal j JOIN journal_line l ON l.journal_id = j.id "
              "WHERE j.company_id = %s AND j.kind = 'revaluation' AND l.account_code = '1122' "
              "GROUP BY j.id, j.posted_by, j.number ORDER BY j.number", (company,))
    assert [(by, Decimal(v)) for by, v in revaluations] == [("e2e", Decimal("-300.00")),
                                                            ("gl-posting", Decimal("100.00"))]
    assert revalued_accounts(suite, company, "2026-12") == {}  # nothing stale is left

    # December: -300 unrealised + 100 taken back - 100 realised (EU-S) = -300.00
    #   = EU-R unrealised (7.70 - 7.80) x 2,000 + EU-S realised (7.70 - 7.80) x 1,000.
    # January: +300 reversed - 100 taken back reversed - 100 realised (EU-R) = +100.00.
    # In total -200.00 = EU-R -100.00 + EU-S -100.00, each difference once.
    assert income(suite, company, "2026-12-01", "2026-12-31") == Decimal("-300.00")
    assert income(suite, company, "2027-01-01", "2027-01-31") == Decimal("100.00")
    bal = control_balances(suite, company)
    assert bal == {("1122", "EU-R"): (0, 0), ("1122", "EU-S"): (0, 0)}
    assert set(open_items(suite, company).values()) == {(0, 0)}
    # January's revaluation finds no receivable to revalue (only the EUR bank balance).
    assert "1122" not in revalued_accounts(suite, company, "2027-01")


def test_a_receipt_read_before_its_invoice_waits_for_it_and_realises_the_difference(suite):
    import uuid

    from finance.ar.v1 import events_pb2 as ar
    from fincore import dates, money

    company = fx_company(suite, "FXW")
    inv_id, rc_id = f"inv-{uuid.uuid4().hex[:8]}", f"rc-{uuid.uuid4().hex[:8]}"

    def eur(v: str):
        return money.to_proto(Decimal(v), "EUR")

    invoice = ar.InvoiceIssued(company_id=company, document_number="W-INV-1", invoice_id=inv_id,
                               customer_code="EU-W", currency="EUR", gross_total=eur("2000.00"),
                               occurrence_date=dates.to_proto(dt.date(2026, 12, 5)),
                               lines=[ar.InvoiceLine(net=eur("2000.00"))])
    receipt = ar.PaymentReceived(company_id=company, document_number="W-RC-1", receipt_id=rc_id,
                                 customer_code="EU-W", amount=eur("2000.00"), unapplied=eur("0"),
                                 occurrence_date=dates.to_proto(dt.date(2026, 12, 20)),
                                 applications=[ar.ReceiptApplication(invoice_id=inv_id, amount=eur("2000.00"))])
    suite.publish(receipt)  # the receipt first: its invoice has not reached the ledger

    def parked(include_resolved: bool = False) -> list[dict]:
        r = suite.http.get(f"{suite.gl_url}/v1/parked-events",
                           params={"company": company, "include_resolved": include_resolved})
        assert r.status_code == 200, r.text
        return r.json()

    deadline = time.monotonic() + 120
    while not (waiting := parked()) and time.monotonic() < deadline:
        time.sleep(0.25)
    assert [(p["document"], p["reason"].split(":")[0]) for p in waiting] == [("W-RC-1", f"awaiting-document {inv_id}")]
    assert [j for j in suite.journals(company) if j["source"]["document"] == "W-RC-1"] == []

    suite.publish(invoice)
    # The invoice at 7.80 = 15,600.00; the receipt at 7.75 = 15,500.00 relieves it at its booked
    # 15,600.00 and realises a 100.00 loss, as if it had come after the invoice.
    assert journal_of(suite, company, "W-INV-1")[0] == ("1122", "15600.00", "0.00")
    assert journal_of(suite, company, "W-RC-1") == [
        ("1002", "15500.00", "0.00"), ("1122", "0.00", "15600.00"), ("660302", "100.00", "0.00")]
    assert open_items(suite, company)[inv_id] == (Decimal(0), Decimal(0))
    assert parked() == []
    assert [(p["document"], p["resolved_by"]) for p in parked(include_resolved=True)] == [("W-RC-1", "gl-posting")]


def test_bad_debt_allowance_adds_currencies_at_the_ledgers_rate(suite):
    """The allowance is one functional-currency account: each currency's ageing x the bucket
    rates, translated at the ledger's rate of the provision date, then added; a write-off uses
    the allowance at the rate of its own date, as the GL posts it."""
    company = suite.new_company("BDFX")
    r = suite.http.put(f"{suite.gl_url}/v1/companies/{company}/exchange-rates", json=[
        {"currency": "EUR", "rate_date": d, "rate": v}
        for d, v in (("2026-12-01", "7.80"), ("2026-12-31", "7.70"), ("2027-02-01", "7.90"))])
    assert r.status_code == 200, r.text
    eur_customer(suite, company, "EU-D")
    cny = post(suite, "invoices", {"company_id": company, "customer_code": "C001", "currency": "CNY",
                                   "issue_date": "2026-12-01", "due_date": "2026-12-31",
                                   "lines": [{"description": "Service", "quantity": "1", "unit_price": "1000.00",
                                              "tax_code": "VAT0"}]})
    eur = post(suite, "invoices", {"company_id": company, "customer_code": "EU-D", "currency": "EUR",
                                   "issue_date": "2026-12-01", "due_date": "2026-12-31",
                                   "lines": [{"description": "Service", "quantity": "1", "unit_price": "1000.00",
                                              "tax_code": "VAT0"}]})
    journal_of(suite, company, cny["number"])
    assert journal_of(suite, company, eur["number"])[0] == ("1122", "7800.00", "0.00")  # 1,000 EUR x 7.80
    rates = {"current": "0.01", "1-30": "0.05", "31-60": "0.2", "61-90": "0.5", "90+": "1"}

    def provide(as_of: str) -> dict:
        # AR converts with its copy of the ledger's rates (ExchangeRatesSet): until it has them,
        # a provision is refused (422 rate-unavailable) and changes nothing.
        deadline = time.monotonic() + 120
        while True:
            r = suite.http.post(f"{suite.ar_url}/v1/bad-debt-provisions",
                                json={"company_id": company, "as_of": as_of, "rates": rates})
            if r.status_code == 200 or time.monotonic() > deadline:
                break
            assert r.status_code == 422 and r.json()["type"].endswith("rate-unavailable"), r.text
            time.sleep(0.25)
        assert r.status_code == 200, r.text
        return r.json()

    # 12-31: both current, 1%: CNY 10.00, and EUR 10.00 x 7.70 (rate of 12-31) = 77.00: 87.00 CNY
    # (adding the buckets across currencies gave 20.00).
    p1 = provide("2026-12-31")
    assert (p1["currency"], p1["allowance"], p1["change"]) == ("CNY", "87.00", "87.00")
    assert p1["required_by_currency"] == {
        "CNY": {"required": "10.00", "in_functional": "10.00"},
        "EUR": {"required": "10.00", "in_functional": "77.00", "rate": "7.7", "rate_date": "2026-12-31"}}
    # 02-15: 46 days late, 20%: CNY 200.00 + EUR 200.00 x 7.90 = 1,580.00 -> 1,780.00 (change 1,693.00).
    p2 = provide("2027-02-15")
    assert (p2["allowance"], p2["change"]) == ("1780.00", "1693.00")
    # 02-16: the EUR invoice written off: the GL debits the allowance 1,000 x 7.90 = 7,900.00 and
    # relieves the receivable at its booked 7,800.00 (realised gain 100.00).
    wo = post(suite, "write-offs", {"invoice_id": eur["id"], "write_off_date": "2027-02-16", "reason": "insolvent"})
    assert journal_of(suite, company, wo["number"]) == [
        ("1231", "7900.00", "0.00"), ("1122", "0.00", "7800.00"), ("660302", "0.00", "100.00")]
    # 02-28: CNY 59 days late, 20% = 200.00. Held: 87 + 1,693 - 7,900 = -6,120.00; change 6,320.00.
    p3 = provide("2027-02-28")
    assert (p3["allowance"], p3["change"]) == ("200.00", "6320.00")
    for p in (p1, p2, p3):
        journal_of(suite, company, p["number"])
    # The ledger agrees: 1231 credit 87 + 1,693 + 6,320 - 7,900 = 200.00; impairment 8,100.00;
    # receivables: the CNY invoice only, the EUR customer 0.00 in both currencies.
    tb = {x["account"]: x for x in suite.trial_balance(company, "2027-02-28")["lines"]}
    assert tb["1231"]["credit_balance"] == "200.00"
    assert tb["6702"]["debit_balance"] == "8100.00"
    assert control_balances(suite, company) == {("1122", "C001"): (Decimal(0), Decimal("1000.00")),
                                                ("1122", "EU-D"): (Decimal(0), Decimal(0))}


def test_documents_booked_before_open_items_are_relieved_at_their_carrying_amount(suite):
    """An AR invoice and a part payment of November (rules without open items: the receivable
    is not tagged by document), then the rest paid in December: the ledger derives the
    invoice's open item from the posted journals (never edited), so the December receipt
    relieves what the invoice carries and realises the difference. The same for an AP invoice
    of November paid in December, after the operator's command derived its item."""
    from finance.ap.v1 import events_pb2 as ap
    from finance.common.v1 import types_pb2
    from fincore import dates, money

    company = suite.new_company("FXL")
    r = suite.http.put(f"{suite.gl_url}/v1/companies/{company}/exchange-rates", json=[
        {"currency": "EUR", "rate_date": d, "rate": v}
        for d, v in (("2026-11-01", "7.80"), ("2026-11-29", "7.70"), ("2026-12-20", "7.75"))])
    assert r.status_code == 200, r.text
    eur_customer(suite, company, "EU-L")
    inv = eur_invoice(suite, company, "EU-L", "2000.00", "2026-11-28")
    # November's rule: 2,000 x 7.80 = 15,600.00 on 1122, no open item on the line.
    assert journal_of(suite, company, inv["number"])[0] == ("1122", "15600.00", "0.00")
    # 500 EUR on 11-29 at 7.70 = 3,850.00 in and out of 1122 (no exchange difference then).
    part = post(suite, "receipts", {"company_id": company, "customer_code": "EU-L", "receipt_date": "2026-11-29",
                                    "amount": "500.00"})
    assert journal_of(suite, company, part["number"]) == [("1002", "3850.00", "0.00"), ("1122", "0.00", "3850.00")]
    # December: 1,500 EUR at 7.75 = 11,625.00 relieves what the invoice carries, 15,600 - 3,850
    # = 11,750.00; loss 125.00 = (7.70 - 7.80) x 500 + (7.75 - 7.80) x 1,500.
    rest = post(suite, "receipts", {"company_id": company, "customer_code": "EU-L", "receipt_date": "2026-12-20",
                                    "amount": "1500.00"})
    assert journal_of(suite, company, rest["number"]) == [
        ("1002", "11625.00", "0.00"), ("1122", "0.00", "11750.00"), ("660302", "125.00", "0.00")]
    assert control_balances(suite, company) == {("1122", "EU-L"): (Decimal(0), Decimal(0))}
    r = suite.http.get(f"{suite.gl_url}/v1/open-items", params={"company": company, "document": inv["id"]})
    assert r.status_code == 200, r.text
    assert r.json() == [{"document": inv["id"], "currency": "EUR", "open": "0.00", "carrying_amount": "0.00",
                         "includes_legacy": True}]

    # AP: an expense invoice of 11-20, 1,000 EUR at 7.80 = 7,800.00 payable (untagged).
    def eur(v):
        return money.to_proto(Decimal(v), "EUR")

    def d(s):
        return dates.to_proto(dt.date.fromisoformat(s))

    suite.publish(ap.InvoiceApproved(
        company_id=company, document_number="PI-L1", occurrence_date=d("2026-11-20"), invoice_id="pil1",
        supplier_code="EU-S", kind=ap.INVOICE_KIND_EXPENSE, currency="EUR", gross_total=eur("1000.00"),
        net_total=eur("1000.00"), lines=[ap.PayableLine(net=eur("1000.00"),
                                                        dimensions=types_pb2.Dimensions(cost_centre="ADMIN"))]))
    assert journal_of(suite, company, "PI-L1")[-1] == ("220201", "0.00", "7800.00")
    # A journal posted now by an older rule has its parts derived as it is written; the operator's
    # command (for journals posted before this release) finds nothing left and skips nothing.
    first = suite.http.post(f"{suite.gl_url}/v1/companies/{company}/legacy-open-items")
    again = suite.http.post(f"{suite.gl_url}/v1/companies/{company}/legacy-open-items")
    assert first.status_code == again.status_code == 200, (first.text, again.text)
    assert first.json()["skipped"] == [] and again.json()["parts_derived"] == 0
    r = suite.http.get(f"{suite.gl_url}/v1/open-items", params={"company": company, "document": "pil1"})
    assert r.json() == [{"document": "pil1", "currency": "EUR", "open": "-1000.00", "carrying_amount": "-7800.00",
                         "includes_legacy": True}]
    # Paid on 12-20 at 7.75 = 7,750.00: the payable is relieved at its 7,800.00, gain 50.00.
    suite.publish(ap.PaymentMade(company_id=company, document_number="PAY-L1", occurrence_date=d("2026-12-20"),
                                 supplier_code="EU-S", amount=eur("1000.00"),
                                 applications=[ap.PaymentApplication(invoice_id="pil1", amount=eur("1000.00"))]))
    assert journal_of(suite, company, "PAY-L1") == [
        ("220201", "7800.00", "0.00"), ("1002", "0.00", "7750.00"), ("660302", "0.00", "50.00")]
    assert control_balances(suite, company) == {("1122", "EU-L"): (Decimal(0), Decimal(0)),
                                                ("220201", "EU-S"): (Decimal(0), Decimal(0))}
    assert income(suite, company, "2026-11-01", "2026-12-31") == Decimal("-75.00")  # -125 + 50


def test_operators_decide_a_settlement_whose_document_never_comes(suite):
    """A receipt that waits for an invoice that never comes: listed with its age (API, CLI,
    metric), posted at the payment-date rate by an operator with a reason (audited; the same
    decision again changes nothing); another sent to the dead letters and replayed once its
    invoice is published, which posts it at the invoice's carrying amount."""
    import uuid

    import httpx
    from click.testing import CliRunner
    from finance.ar.v1 import events_pb2 as ar
    from fincore import dates, money
    from gl.__main__ import cli

    company = fx_company(suite, "FXO")

    def eur(v: str):
        return money.to_proto(Decimal(v), "EUR")

    def receipt(doc: str, invoice_id: str):
        return ar.PaymentReceived(company_id=company, document_number=doc, receipt_id=f"rc-{uuid.uuid4().hex[:8]}",
                                  customer_code="EU-O", amount=eur("2000.00"), unapplied=eur("0"),
                                  occurrence_date=dates.to_proto(dt.date(2026, 12, 20)),
                                  applications=[ar.ReceiptApplication(invoice_id=invoice_id,
                                                                      amount=eur("2000.00"))])

    inv_id = f"inv-{uuid.uuid4().hex[:8]}"
    suite.publish(receipt("O-RC-1", f"never-{uuid.uuid4().hex[:8]}"), receipt("O-RC-2", inv_id))

    def waiting() -> list[dict]:
        r = suite.http.get(f"{suite.gl_url}/v1/admin/awaiting-documents", params={"company": company})
        assert r.status_code == 200, r.text
        return r.json()

    deadline = time.monotonic() + 120
    while len(rows := waiting()) < 2 and time.monotonic() < deadline:
        time.sleep(0.25)
    assert sorted(x["document"] for x in rows) == ["O-RC-1", "O-RC-2"] and all(x["age_seconds"] >= 0 for x in rows)
    ids = {x["document"]: x["event_id"] for x in rows}
    # The age is a metric (the relay samples it): an alert fires when it grows too old.
    deadline = time.monotonic() + 120
    while f'gl_awaiting_document_oldest_age_seconds{{company="{company}"}}' not in \
            httpx.get(f"{suite.gl_relay.metrics_url}/metrics", timeout=10).text and time.monotonic() < deadline:
        time.sleep(0.5)
    assert f'gl_awaiting_document_oldest_age_seconds{{company="{company}"}}' in \
        httpx.get(f"{suite.gl_relay.metrics_url}/metrics", timeout=10).text
    # Only the suite's operators decide (scope ops:admin).
    from fincore.auth import mint_token
    from fincore.settings import ServiceSettings

    clerk = mint_token(ServiceSettings(), subject="clerk", scopes=["gl:read", "gl:post", "gl:admin", "admin"],
                       companies=[company])
    r = httpx.post(f"{suite.gl_url}/v1/admin/awaiting-documents/{ids['O-RC-1']}/decide",
                   json={"action": "post", "reason": "x"}, headers={"Authorization": f"Bearer {clerk}"})
    assert r.status_code == 403, r.text
    cli_args = ["--url", suite.gl_url, "--token", suite.token]
    listed = CliRunner().invoke(cli, ["awaiting", "list", "--company", company, *cli_args])
    assert listed.exit_code == 0 and "O-RC-1" in listed.output and "O-RC-2" in listed.output, listed.output

    # O-RC-1: its invoice was never issued. Posted at the payment-date rate: 2,000 x 7.75 =
    # 15,500.00 on both sides, no exchange difference; the journal says why and who decided.
    body = {"action": "post", "reason": "invoice cancelled upstream, never published"}
    r = suite.http.post(f"{suite.gl_url}/v1/admin/awaiting-documents/{ids['O-RC-1']}/decide", json=body)
    assert r.status_code == 200, r.text
    decided = r.json()
    assert (decided["action"], decided["decided_by"], decided["reason"]) == ("posted", "e2e", body["reason"])
    j = suite.http.get(f"{suite.gl_url}/v1/journals/{decided['journal_id']}").json()
    assert [(x["account"], x["debit"], x["credit"]) for x in j["lines"]] == [
        ("1002", "15500.00", "0.00"), ("1122", "0.00", "15500.00")]
    assert "valued at the payment-date rate (e2e: invoice cancelled upstream" in j["description"]
    again = suite.http.post(f"{suite.gl_url}/v1/admin/awaiting-documents/{ids['O-RC-1']}/decide", json=body)
    assert again.status_code == 200 and again.json() == decided  # nothing new
    other = suite.http.post(f"{suite.gl_url}/v1/admin/awaiting-documents/{ids['O-RC-1']}/decide",
                            json={"action": "dead-letter", "reason": "changed my mind"})
    assert other.status_code == 409, other.text
    assert len([x for x in suite.journals(company) if x["source"]["document"] == "O-RC-1"]) == 1

    # O-RC-2 goes to the dead letters (CLI), then its invoice is published and the dead letter
    # replayed: 15,600.00 relieved for 15,500.00 received, a realised loss of 100.00.
    out = CliRunner().invoke(cli, ["awaiting", "decide", ids["O-RC-2"], "--dead-letter", "--reason",
                                   "invoice not published yet", *cli_args])
    assert out.exit_code == 0, out.output
    dead_id = json.loads(out.output)["dead_letter_id"]
    dls = suite.http.get(f"{suite.gl_url}/v1/admin/dead-letters", params={"company": company}).json()
    assert [(x["id"], x["event_id"]) for x in dls] == [(dead_id, ids["O-RC-2"])]
    assert waiting() == []
    suite.publish(ar.InvoiceIssued(company_id=company, document_number="O-INV-2", invoice_id=inv_id,
                                   customer_code="EU-O", currency="EUR", gross_total=eur("2000.00"),
                                   occurrence_date=dates.to_proto(dt.date(2026, 12, 5)),
                                   lines=[ar.InvoiceLine(net=eur("2000.00"))]))
    journal_of(suite, company, "O-INV-2")
    r = suite.http.post(f"{suite.gl_url}/v1/admin/dead-letters/{dead_id}/replay")
    assert r.status_code == 200, r.text
    assert journal_of(suite, company, "O-RC-2") == [
        ("1002", "15500.00", "0.00"), ("1122", "0.00", "15600.00"), ("660302", "100.00", "0.00")]
    audit = suite.http.get(f"{suite.gl_url}/v1/admin/awaiting-documents/decisions", params={"company": company})
    assert [(x["document"], x["action"]) for x in audit.json()] == [("O-RC-2", "dead_lettered"), ("O-RC-1", "posted")]
    deadline = time.monotonic() + 120
    while f'gl_awaiting_document_oldest_age_seconds{{company="{company}"}}' in \
            httpx.get(f"{suite.gl_relay.metrics_url}/metrics", timeout=10).text and time.monotonic() < deadline:
        time.sleep(0.5)
    assert f'gl_awaiting_document_oldest_age_seconds{{company="{company}"}}' not in \
        httpx.get(f"{suite.gl_relay.metrics_url}/metrics", timeout=10).text
    # The money of O-RC-1 goes back to the payer: its journal is reversed (posted journals are
    # never edited), and EU-O is 0.00 in EUR and CNY again, as its (empty) sub-ledger says.
    r = suite.http.post(f"{suite.gl_url}/v1/journals/{decided['journal_id']}/reverse",
                        json={"posting_date": "2026-12-21", "reason": "receipt returned to the payer"})
    assert r.status_code in (200, 201), r.text
    assert control_balances(suite, company) == {("1122", "EU-O"): (Decimal(0), Decimal(0))}
