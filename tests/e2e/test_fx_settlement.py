# ruff: noqa: E501
"""Realised exchange differences end to end: a EUR document booked at one rate and settled
at another is relieved at its carrying amount, the difference is a realised gain or loss
on 660302 (CAS finance costs), and the settled document is 0.00 in both currencies in the
ledger, so the next revaluation finds nothing to revalue. Books in CNY; hand computations
in the comments."""

import datetime as dt
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
