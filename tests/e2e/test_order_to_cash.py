# ruff: noqa: E501
"""The user's example, end to end with no manual entry: a customer with a credit limit, two
orders (the second refused by the credit check), purchases at different prices, two partial
shipments of a moving-average and a FIFO item, invoices issued from the shipments, a partial
and a full receipt, a return of one unit. The books equal the figures computed by hand."""

import time
from decimal import Decimal

import pytest

pytestmark = pytest.mark.e2e


def test_order_to_cash_posts_itself(suite):
    h = suite.http
    company = suite.new_company("O2C")
    assert h.put(f"{suite.ar_url}/v1/customers/K1", json={"company_id": company, "code": "K1", "name": "Acme",
                                                          "credit_limit": "20000.00"}).status_code == 200
    for code, method in (("MA", "moving_average"), ("FF", "fifo")):
        assert h.post(f"{suite.inv_url}/v1/items", json={"company_id": company, "code": code, "name": code,
                                                         "costing_method": method}).status_code == 201
    h.post(f"{suite.inv_url}/v1/warehouses", json={"company_id": company, "code": "W", "name": "W"})

    def move(kind, date, lines, ref=""):
        r = h.post(f"{suite.inv_url}/v1/{kind}", json={"company_id": company, "movement_date": date,
                                                        "warehouse": "W", "partner": "K1", "reference": ref,
                                                        "lines": lines})
        assert r.status_code == 201, r.text
        return r.json()

    move("receipts", "2026-11-02", [{"item": "MA", "quantity": "10", "unit_cost": "100.00"},
                                    {"item": "FF", "quantity": "10", "unit_cost": "200.00"}])
    move("receipts", "2026-11-03", [{"item": "MA", "quantity": "10", "unit_cost": "130.00"},
                                    {"item": "FF", "quantity": "10", "unit_cost": "260.00"}])

    def so(crm, lines):
        return h.post(f"{suite.ar_url}/v1/sales-orders", json={
            "company_id": company, "crm_order_id": crm, "customer_code": "K1", "order_date": "2026-11-04",
            "lines": [{"item_code": i, "description": i, "quantity": q, "unit_price": p, "tax_code": "VAT13"}
                      for i, q, p in lines]})

    a = so("CRM-A", [("MA", "8", "300.00"), ("FF", "6", "500.00")])  # 5,400 + 702 VAT = 6,102
    assert a.status_code == 201 and a.json()["amount"] == "6102.00"
    b = so("CRM-B", [("MA", "50", "300.00")])  # 16,950 > 20,000 - 6,102
    assert b.status_code == 422 and b.json()["available"] == "13898.00"

    gi1 = move("issues", "2026-11-05", [{"item": "MA", "quantity": "5"}, {"item": "FF", "quantity": "4"}], "CRM-A")
    move("issues", "2026-11-06", [{"item": "MA", "quantity": "3"}, {"item": "FF", "quantity": "2"}], "CRM-A")
    # Moving average (10 x 100 + 10 x 130) / 20 = 115.00; FIFO takes the 200.00 layer first.
    assert [ln["cost"] for ln in gi1["lines"]] == ["575.00", "800.00"]

    def invoices():
        return h.get(f"{suite.ar_url}/v1/invoices", params={"company": company}).json()["items"]

    deadline = time.monotonic() + 60
    while len(invoices()) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    invs = sorted(invoices(), key=lambda i: i["issue_date"])
    assert [(i["net_total"], i["tax_total"], i["gross_total"]) for i in invs] == [
        ("3500.00", "455.00", "3955.00"), ("1900.00", "247.00", "2147.00")]
    assert all(i["sales_order_ref"] == "CRM-A" for i in invs)
    ageing = h.get(f"{suite.ar_url}/v1/ageing", params={"company": company, "as_of": "2026-11-30"}).json()
    assert ageing["total"]["current"] == "6102.00" and ageing["total"]["total"] == "6102.00"
    late = h.get(f"{suite.ar_url}/v1/ageing", params={"company": company, "as_of": "2027-01-20"}).json()
    assert late["total"]["31-60"] == "6102.00"  # due 5 and 6 December: 46 and 45 days late
    r1 = h.post(f"{suite.ar_url}/v1/receipts", json={"company_id": company, "customer_code": "K1",
                                                      "receipt_date": "2026-11-20", "amount": "2000.00"}).json()
    assert r1["applications"][0]["amount"] == "2000.00" and r1["unapplied"] == "0.00"
    r2 = h.post(f"{suite.ar_url}/v1/receipts", json={"company_id": company, "customer_code": "K1",
                                                      "receipt_date": "2026-11-25", "amount": "4102.00"}).json()
    assert [a["amount"] for a in r2["applications"]] == ["1955.00", "2147.00"]
    move("returns", "2026-11-26", [{"item": "FF", "quantity": "1",
                                    "returns_movement_id": gi1["lines"][1]["movement_id"]}], "CRM-A")

    # The return becomes a RETURN credit memo at the order's price (1 x 500 + 65 VAT); the
    # invoice was already paid, so the customer now holds 565.00 of credit.
    suite.wait_journals(company, 10)
    revenue, cogs = Decimal("5400.00") - 500, Decimal(575 + 800 + 345 + 400 - 200)
    inc = h.get(f"{suite.gl_url}/v1/statements/income-statement",
                params={"company": company, "from": "2026-11-01", "to": "2026-11-30"}).json()
    assert Decimal(inc["revenue"]["total"]) == revenue
    assert Decimal(inc["expenses"]["total"]) == cogs
    assert Decimal(inc["net_income"]) == revenue - cogs == Decimal("2980.00")
    bs = h.get(f"{suite.gl_url}/v1/statements/balance-sheet", params={"company": company, "as_of": "2026-11-30"}).json()
    assets = {x["line"]: Decimal(x["amount"]) for x in bs["assets"]["lines"]}
    inventory = Decimal(1000 + 2000 + 1300 + 2600 - 575 - 800 - 345 - 400 + 200)
    assert assets == {"1002": Decimal("6102.00"), "1405": inventory}
    # The customer's 565.00 of credit is an advance from the customer (2203), not a negative receivable.
    liabilities = {x["line"]: Decimal(x["amount"]) for x in bs["liabilities"]["lines"]}
    assert liabilities == {"220202": Decimal("6900.00"), "vat_payable": Decimal("637.00"), "2203": Decimal("565.00")}
    assert bs["balanced"]
    val = h.get(f"{suite.inv_url}/v1/valuation", params={"company": company, "as_of": "2026-11-30"}).json()
    assert Decimal(val["total_value"]) == inventory
    # The customer's 565.00 of credit shows wherever its position does: the ageing (nothing
    # open, 565.00 credit, net -565.00 = the receivables account), the credit position
    # (exposure = 0 open + 0 reserved - 565 credit = -565; available = 20,000 + 565) and the
    # reconciliation.
    ageing = h.get(f"{suite.ar_url}/v1/ageing", params={"company": company, "as_of": "2026-11-30"}).json()
    assert (ageing["total"]["total"], ageing["total"]["credit"], ageing["total"]["net"]) == ("0.00", "565.00", "-565.00")
    assert ageing["customers"] == [{"customer": "K1", "currency": "CNY", "current": "0.00", "1-30": "0.00", "31-60": "0.00",
                                    "61-90": "0.00", "90+": "0.00", "total": "0.00", "credit": "565.00",
                                    "net": "-565.00"}]
    info = h.get(f"{suite.ar_url}/v1/customers/K1", params={"company": company}).json()
    assert (info["open_invoices"], info["reserved"], info["credit"]) == ("0.00", "0.00", "565.00")
    assert info["exposure"] == "-565.00" and info["available"] == "20565.00"
    rec = h.get(f"{suite.ar_url}/v1/reconciliation", params={"company": company}).json()
    # Per order line: MA 8 ordered, 5 + 3 shipped and invoiced; FF 6 ordered, 4 + 2 shipped
    # and invoiced, 1 returned.
    assert rec["orders"] == [{"order": "CRM-A", "customer": "K1", "ordered": "6102.00", "shipments": 2, "returns": 1,
                              "invoiced": "6102.00", "credited": "565.00", "paid": "6102.00", "outstanding": "0.00",
                              "lines": [{"line_no": 1, "item": "MA", "ordered": "8", "shipped": "8", "invoiced": "8",
                                         "returned": "0"},
                                        {"line_no": 2, "item": "FF", "ordered": "6", "shipped": "6", "invoiced": "6",
                                         "returned": "1"}],
                              "mismatches": []}]
    assert rec["customers"] == [{"customer": "K1", "outstanding": "0.00", "unapplied_cash": "0.00",
                                 "unapplied_credit_memos": "565.00", "credit": "565.00", "exposure": "-565.00",
                                 "mismatches": ["credit held: 565.00 of credit memos not applied (refund or apply it)"]}]
    # An overpayment is held as unapplied cash and shows as "paid not invoiced".
    over = h.post(f"{suite.ar_url}/v1/receipts", json={"company_id": company, "customer_code": "K1",
                                                        "receipt_date": "2026-11-27", "amount": "100.00"}).json()
    assert over["unapplied"] == "100.00" and over["applications"] == []
    rec = h.get(f"{suite.ar_url}/v1/reconciliation", params={"company": company, "customer": "K1"}).json()
    assert rec["customers"][0]["mismatches"] == [
        "paid not invoiced: 100.00 unapplied cash", "credit held: 565.00 of credit memos not applied (refund or apply it)"]
    assert rec["customers"][0]["credit"] == "665.00"
    # The customer's credit (100.00 unapplied cash + 565.00 of the return's credit memo) is refunded.
    refund = {"company_id": company, "customer_code": "K1", "refund_date": "2026-11-28"}
    assert h.post(f"{suite.ar_url}/v1/refunds", json=refund | {"amount": "665.01"}).status_code == 422
    assert h.post(f"{suite.ar_url}/v1/refunds", json=refund | {"amount": "665.00"}).status_code == 201
    assert h.post(f"{suite.ar_url}/v1/refunds", json=refund | {"amount": "0.01"}).status_code == 422
    suite.wait_journals(company, 12)
    tb = {x["account"]: x for x in suite.trial_balance(company, "2026-11-30")["lines"]}
    assert tb["1122"]["debit_balance"] == tb["1122"]["credit_balance"] == "0.00"
    assert tb["1002"]["debit_balance"] == str(Decimal("6102.00") + 100 - 665)
    rec = h.get(f"{suite.ar_url}/v1/reconciliation", params={"company": company, "customer": "K1"}).json()
    assert rec["customers"][0]["mismatches"] == []

    # Each sub-ledger equals its control account (issue 9): AR's open items net of the
    # customer's credit = receivables; inventory's valuation = the inventory account.
    ageing = h.get(f"{suite.ar_url}/v1/ageing", params={"company": company, "as_of": "2026-11-30"}).json()
    tb = {x["account"]: x for x in suite.trial_balance(company, "2026-11-30")["lines"]}
    receivables = Decimal(tb["1122"]["debit_balance"]) - Decimal(tb["1122"]["credit_balance"])
    assert Decimal(ageing["total"]["net"]) == receivables == 0
    val = h.get(f"{suite.inv_url}/v1/valuation", params={"company": company, "as_of": "2026-11-30"}).json()
    stock = Decimal(tb["1405"]["debit_balance"]) - Decimal(tb["1405"]["credit_balance"])
    assert Decimal(val["total_value"]) == stock == inventory


def test_credit_memos_price_adjustment_and_cancellation(suite):
    h = suite.http
    company = suite.new_company("CM")
    inv = suite.post_invoice(company, 3)
    url = f"{suite.ar_url}/v1/credit-memos"
    adj = h.post(url, json={"invoice_id": inv["id"], "reason": "PRICE_ADJUSTMENT", "memo_date": inv["issue_date"],
                            "lines": [{"description": "discount", "quantity": "1", "unit_price": "10.00",
                                       "tax_code": "VAT13"}]})
    assert adj.status_code == 201 and adj.json()["gross_total"] == "11.30"
    assert h.post(url, json={"invoice_id": inv["id"], "reason": "CANCELLATION",
                             "memo_date": inv["issue_date"]}).status_code == 422  # partly credited already
    too_much = h.post(url, json={"invoice_id": inv["id"], "reason": "PRICE_ADJUSTMENT", "memo_date": inv["issue_date"],
                                 "lines": [{"description": "x", "quantity": "1", "unit_price": "999999",
                                            "tax_code": "VAT13"}]})
    assert too_much.status_code == 422
    inv2 = suite.post_invoice(company, 4)
    cancel = h.post(url, json={"invoice_id": inv2["id"], "reason": "CANCELLATION", "memo_date": inv2["issue_date"]})
    assert cancel.status_code == 201 and cancel.json()["gross_total"] == inv2["gross_total"]
    after = h.get(f"{suite.ar_url}/v1/invoices/{inv2['id']}").json()
    assert after["status"] == "cancelled" and after["outstanding"] == "0.00"
    suite.wait_journals(company, 4)
    tb = {x["account"]: x for x in suite.trial_balance(company)["lines"]}
    expected = Decimal(inv["gross_total"]) - Decimal("11.30")
    assert Decimal(tb["1122"]["debit_balance"]) == expected


def test_bad_debt_provision_by_ageing_and_write_off(suite):
    h = suite.http
    company = suite.new_company("BAD")
    invs = [suite.post_invoice(company, i) for i in (1, 2, 3)]  # issued 2-4 Nov, due 2-4 Dec
    rates = {"current": "0.01", "1-30": "0.05", "31-60": "0.2", "61-90": "0.5", "90+": "1"}
    p1 = h.post(f"{suite.ar_url}/v1/bad-debt-provisions", json={"company_id": company, "as_of": "2026-11-30",
                                                                "rates": rates})
    gross = sum(Decimal(i["gross_total"]) for i in invs)
    assert p1.status_code == 200 and Decimal(p1.json()["allowance"]) == money_q(gross * Decimal("0.01"))
    again = h.post(f"{suite.ar_url}/v1/bad-debt-provisions", json={"company_id": company, "as_of": "2026-11-30",
                                                                   "rates": rates}).json()
    assert again["change"] == "0.00"  # running it twice posts nothing more
    p2 = h.post(f"{suite.ar_url}/v1/bad-debt-provisions", json={"company_id": company, "as_of": "2027-02-15",
                                                                "rates": rates}).json()  # 73-75 days late
    assert Decimal(p2["allowance"]) == money_q(gross * Decimal("0.5"))
    wo = h.post(f"{suite.ar_url}/v1/write-offs", json={"invoice_id": invs[0]["id"], "write_off_date": "2027-02-16",
                                                       "reason": "customer insolvent"})
    assert wo.status_code == 201 and wo.json()["amount"] == invs[0]["gross_total"]
    assert h.post(f"{suite.ar_url}/v1/write-offs", json={"invoice_id": invs[0]["id"], "write_off_date": "2027-02-16",
                                                         "reason": "again"}).status_code == 422
    deadline = time.monotonic() + 60
    while suite.trial_balance(company, "2027-02-28")["journals"] < 3 + 2 + 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    tb = {x["account"]: x for x in suite.trial_balance(company, "2027-02-28")["lines"]}
    assert Decimal(tb["1231"]["credit_balance"]) == money_q(gross * Decimal("0.5")) - Decimal(invs[0]["gross_total"])
    assert Decimal(tb["6702"]["debit_balance"]) == money_q(gross * Decimal("0.5"))
    assert Decimal(tb["1122"]["debit_balance"]) == gross - Decimal(invs[0]["gross_total"])


def money_q(v: Decimal) -> Decimal:
    from decimal import ROUND_HALF_UP

    return v.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)  # commercial rounding, as the books use


def test_a_return_read_before_its_shipment_waits_for_it(suite):
    """Inventory's return and the shipment it returns have different keys (partitions): AR can
    read the return first. Published straight to the topic in that order (at cost 0.00, so
    the GL posts nothing for the movements and the inventory account stays at the valuation's
    0.00), the return waits for its shipment and is credited when the shipment is invoiced:
    order CRM-R sells MA at 15.00 + VAT13; shipment of 2 = invoice 30.00 + 3.90 = 33.90; the
    return of 1 = credit memo 15.00 + 1.95 = 16.95; receivables 33.90 - 16.95 = 16.95."""
    from finance.common.v1 import types_pb2
    from finance.inventory.v1 import events_pb2 as inv

    h = suite.http
    company = suite.new_company("ORD")
    assert h.put(f"{suite.ar_url}/v1/customers/K1", json={"company_id": company, "code": "K1", "name": "Acme",
                                                          "credit_limit": "1000.00"}).status_code == 200
    so = h.post(f"{suite.ar_url}/v1/sales-orders", json={
        "company_id": company, "crm_order_id": "CRM-R", "customer_code": "K1", "order_date": "2026-11-04",
        "lines": [{"item_code": "MA", "description": "MA", "quantity": "4", "unit_price": "15.00",
                   "tax_code": "VAT13"}]})
    assert so.status_code == 201, so.text
    zero = types_pb2.Money(currency_code="CNY", units=0, nanos=0)

    def line(qty):
        return inv.MovementLine(line_no=1, item_code="MA", warehouse="W", quantity=qty, total_cost=zero)

    def day(d):
        return types_pb2.Date(year=2026, month=11, day=d)

    shipment = f"gi-{company}"
    suite.publish(inv.GoodsReturned(company_id=company, document_number="RT-1", occurrence_date=day(12),
                                    movement_id=f"rt-{company}", sales_order_ref="CRM-R", customer_code="K1",
                                    original_movement_id=shipment, lines=[line("1")], total_cost=zero))
    deadline = time.monotonic() + 60
    while not suite.sql("ar", "SELECT awaiting FROM awaiting_event WHERE company_id = %s", (company,)):
        assert time.monotonic() < deadline, "AR never read the return"
        time.sleep(0.2)
    assert suite.sql("ar", "SELECT awaiting FROM awaiting_event WHERE company_id = %s",
                     (company,)) == [(f"shipment:{shipment}",)]
    assert suite.sql("ar", "SELECT count(*) FROM dead_letter WHERE company_id = %s", (company,)) == [(0,)]

    suite.publish(inv.GoodsIssued(company_id=company, document_number="GI-1", occurrence_date=day(10),
                                  movement_id=shipment, sales_order_ref="CRM-R", customer_code="K1",
                                  lines=[line("2")], total_cost=zero))
    suite.wait_journals(company, 2)  # the invoice and the credit memo
    invoices = h.get(f"{suite.ar_url}/v1/invoices", params={"company": company}).json()["items"]
    assert [(i["gross_total"], i["outstanding"]) for i in invoices] == [("33.90", "16.95")]
    memos = suite.sql("ar", "SELECT reason, net_total, tax_total, gross_total FROM credit_memo WHERE company_id = %s",
                      (company,))
    assert memos == [("RETURN", Decimal("15.00"), Decimal("1.95"), Decimal("16.95"))]
    assert suite.sql("ar", "SELECT awaiting, resolution FROM awaiting_event WHERE company_id = %s",
                     (company,)) == [(None, f"applied when shipment:{shipment} arrived")]
    ageing = h.get(f"{suite.ar_url}/v1/ageing", params={"company": company, "as_of": "2026-11-30"}).json()
    tb = {x["account"]: x for x in suite.trial_balance(company, "2026-11-30")["lines"]}
    assert ageing["total"]["net"] == tb["1122"]["debit_balance"] == "16.95"
