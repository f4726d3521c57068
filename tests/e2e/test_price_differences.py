"""Purchase price differences at actual cost (issue 9.3): a supplier invoice priced above the
receipt re-costs the stock still on hand from the invoice date, the share of the goods
already issued goes to cost of sales, and nothing stays in the clearing account. The
valuation equals the ledger's inventory account afterwards."""

import time
import uuid
from decimal import Decimal

import pytest
from finance.ap.v1 import events_pb2 as ap
from fincore import dates, money

pytestmark = pytest.mark.e2e


def ap_invoice(company: str, number: str, on: str, po: str, item: str, qty: int, received: str, invoiced: str):
    """AP's InvoiceApproved for a stock invoice, as AP's three-way match builds it: net at the
    invoice price, price_variance = (invoice - receipt price) x quantity, VAT 13 %."""
    m = lambda v: money.to_proto(Decimal(v), "CNY")  # noqa: E731
    net = Decimal(invoiced) * qty
    pv = (Decimal(invoiced) - Decimal(received)) * qty
    tax = (net * Decimal("0.13")).quantize(Decimal("0.01"))
    import datetime as dt

    return ap.InvoiceApproved(
        company_id=company, document_number=number, occurrence_date=dates.to_proto(dt.date.fromisoformat(on)),
        invoice_id=str(uuid.uuid4()), supplier_code="S1", kind=ap.INVOICE_KIND_STOCK, currency="CNY",
        purchase_order_ref=po, net_total=m(net), tax_total=m(tax), gross_total=m(net + tax),
        due_date=dates.to_proto(dt.date(2026, 12, 31)),
        lines=[ap.PayableLine(line_no=1, item_code=item, net=m(net), price_variance=m(pv), tax_code="VAT13",
                              tax=m(tax))])


def test_price_difference_recosts_stock_on_hand_and_the_issued_share_goes_to_cost_of_sales(suite):
    h = suite.http
    company = suite.new_company("PPV")
    # MA is goods for resale (CAS 1405 库存商品), FF a raw material (1403 原材料).
    for code, method, category in (("MA", "moving_average", "MERCHANDISE"), ("FF", "fifo", "RAW_MATERIAL")):
        assert h.post(f"{suite.inv_url}/v1/items", json={"company_id": company, "code": code, "name": code,
                                                         "costing_method": method,
                                                         "category": category}).status_code == 201
    assert h.post(f"{suite.inv_url}/v1/warehouses", json={"company_id": company, "code": "W",
                                                          "name": "W"}).status_code == 201

    def move(kind, date, item, qty, ref="", cost=None):
        line = {"item": item, "quantity": qty} | ({"unit_cost": cost} if cost else {})
        r = h.post(f"{suite.inv_url}/v1/{kind}", json={"company_id": company, "movement_date": date, "warehouse": "W",
                                                        "partner": "S1", "reference": ref, "lines": [line]})
        assert r.status_code == 201, r.text
        return r.json()

    # Moving average: receive 10 @ 50.00, issue 4, invoice at 52.00 on 5 November.
    move("receipts", "2026-11-02", "MA", "10", "PO-1", "50.00")
    move("issues", "2026-11-03", "MA", "4")
    # FIFO, and an issue after the invoice date: receive 10 @ 50.00, issue 4 on the 3rd and
    # 2 on the 8th, invoice at 52.00 dated the 5th.
    move("receipts", "2026-11-02", "FF", "10", "PO-2", "50.00")
    move("issues", "2026-11-03", "FF", "4")
    late = move("issues", "2026-11-08", "FF", "2")
    assert late["total_cost"] == "100.00"
    suite.publish(ap_invoice(company, "PI-2026-000001", "2026-11-05", "PO-1", "MA", 10, "50.00", "52.00"),
                  ap_invoice(company, "PI-2026-000002", "2026-11-05", "PO-2", "FF", 10, "50.00", "52.00"))

    # Hand computation, each item: the AP invoice debits GRNI 500.00 (520.00 - 20.00), the
    # clearing account 20.00 and input VAT 67.60. On 5 November 6 of the 10 units are on hand:
    # 20.00 x 6/10 = 12.00 goes to the stock, 8.00 (the 4 issued) to cost of sales, and the
    # clearing account is credited 20.00.
    # MA: stock 6 x 50 + 12 = 312.00 (52.00 a unit).
    # FF: the issue of the 8th is re-costed at 52.00: 104.00, a CostAdjusted of +4.00;
    # stock 4 x 52 = 208.00.
    # Journals: 2 receipts, 3 issues, 2 invoices, 2 allocations, 1 cost adjustment.
    suite.wait_journals(company, 10)
    deadline = time.monotonic() + 60
    while True:
        tb = {x["account"]: Decimal(x["debit_balance"]) - Decimal(x["credit_balance"])
              for x in suite.trial_balance(company, "2026-11-30")["lines"]}
        if (tb.get("1405"), tb.get("1403")) == (Decimal("312.00"), Decimal("208.00")) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    val = h.get(f"{suite.inv_url}/v1/valuation", params={"company": company, "as_of": "2026-11-30"}).json()
    by_item = {x["item"]: (x["quantity"], x["value"]) for x in val["lines"]}
    assert by_item == {"MA": ("6", "312.00"), "FF": ("4", "208.00")}
    # Valuation = the inventory accounts, each item on its category's account.
    assert (tb["1405"], tb["1403"]) == (Decimal("312.00"), Decimal("208.00"))
    assert tb["1405"] + tb["1403"] == Decimal(val["total_value"]) == Decimal("520.00")
    assert tb["6401"] == (200 + 8) + (200 + 100 + 8 + 4)  # cost of sales: issues + issued shares + re-costing
    assert tb.get("1401", Decimal(0)) == 0  # the clearing account is cleared
    assert "1404" not in tb  # nothing in the planned-cost variance account
    assert tb.get("220202", Decimal(0)) == 0  # GRNI: 1,000.00 received, 1,000.00 cleared
    assert tb["220201"] == Decimal("-1175.20")  # payables: 2 x 587.60
    # AP never had the two invoices (published straight to the topic): checked after the test.
    suite.expect_breach("I7", company, "supplier S1 CNY", "AP's InvoiceApproved published straight to the topic: "
                        "AP never had the invoices", detail="sub-ledger 0 != ledger 1175.20 ")
    # The re-costed average carries on: 2 more MA units leave at 52.00.
    assert move("issues", "2026-11-09", "MA", "2")["total_cost"] == "104.00"
    # A count finds one raw-material unit missing: 52.00 off 1403, not 1405.
    counted = [{"item": "FF", "counted_quantity": "3"}, {"item": "MA", "counted_quantity": "4"}]
    r = h.post(f"{suite.inv_url}/v1/counts", json={"company_id": company, "movement_date": "2026-11-10",
                                                    "warehouse": "W", "lines": counted})
    assert r.status_code == 201 and r.json()["total_cost"] == "52.00", r.text
    suite.wait_journals(company, 12)
    tb = {x["account"]: Decimal(x["debit_balance"]) - Decimal(x["credit_balance"])
          for x in suite.trial_balance(company, "2026-11-30")["lines"]}
    val = h.get(f"{suite.inv_url}/v1/valuation", params={"company": company, "as_of": "2026-11-30"}).json()
    assert (tb["1405"], tb["1403"], tb["1901"]) == (Decimal("208.00"), Decimal("156.00"), Decimal("52.00"))
    assert tb["1405"] + tb["1403"] == Decimal(val["total_value"])
    # The re-costing is visible as its own inventory document, dated on the invoice.
    journals = suite.journals(company)
    pd = [j for j in journals if j["source"]["event_type"] == "finance.inventory.PriceDifferenceAllocated.v1"]
    assert sorted(j["source"]["document"] for j in pd) == ["PD-2026-000001", "PD-2026-000002"]
