"""Inventory costing through the API, posted by the GL: the valuation report equals the
ledger's inventory account, also after backdated movements re-cost later issues."""

import random
from decimal import Decimal

import pytest

pytestmark = pytest.mark.e2e


def setup_company(suite, prefix: str) -> str:
    return suite.new_stock_company(prefix, {"MA-1": "moving_average", "FF-1": "fifo"}, ("WH1", "Main"))


def doc(suite, kind: str, company: str, date: str, lines: list, **extra) -> dict:
    r = suite.http.post(f"{suite.inv_url}/v1/{kind}", json={"company_id": company, "movement_date": date,
                                                             "warehouse": "WH1", "lines": lines, **extra})
    assert r.status_code in (200, 201), r.text
    return r.json()


def gl_balance(suite, company: str, account: str, as_of="2026-12-31") -> Decimal:
    lines = {x["account"]: x for x in suite.trial_balance(company, as_of)["lines"]}
    x = lines.get(account)
    return Decimal(x["debit_balance"]) - Decimal(x["credit_balance"]) if x else Decimal(0)


def valuation(suite, company: str, as_of="2026-12-31") -> dict:
    return suite.http.get(f"{suite.inv_url}/v1/valuation", params={"company": company, "as_of": as_of}).json()


def test_textbook_costing_and_the_ledger_agree_with_the_valuation(suite):
    company = setup_company(suite, "INV")
    receipts = [("2026-11-02", "10.00"), ("2026-11-03", "12.00")]
    for date, cost in receipts:
        doc(suite, "receipts", company, date, [{"item": "MA-1", "quantity": "100", "unit_cost": cost},
                                               {"item": "FF-1", "quantity": "100", "unit_cost": cost}],
            partner="S1", reference="PO-1")
    gi1 = doc(suite, "issues", company, "2026-11-10", [{"item": "MA-1", "quantity": "150"},
                                                       {"item": "FF-1", "quantity": "150"}], partner="K1")
    gi2 = doc(suite, "issues", company, "2026-11-11", [{"item": "MA-1", "quantity": "30"},
                                                       {"item": "FF-1", "quantity": "30"}], partner="K1")
    cost = {(ln["item"], d["number"]): Decimal(ln["cost"]) for d in (gi1, gi2) for ln in d["lines"]}
    # Textbook: moving average 11.00 throughout; FIFO 100 x 10 + 50 x 12, then 30 x 12.
    assert cost[("MA-1", gi1["number"])] == Decimal("1650.00") and cost[("MA-1", gi2["number"])] == Decimal("330.00")
    assert cost[("FF-1", gi1["number"])] == Decimal("1600.00") and cost[("FF-1", gi2["number"])] == Decimal("360.00")
    # A return of one unit of the first FIFO issue re-enters at its cost (1600 / 150).
    ret = doc(suite, "returns", company, "2026-11-12",
              [{"item": "FF-1", "quantity": "1", "returns_movement_id": gi1["lines"][1]["movement_id"]}], partner="K1")
    assert ret["total_cost"] == "10.67"
    # Refused: more than on hand; nothing is written.
    r = suite.http.post(f"{suite.inv_url}/v1/issues", json={"company_id": company, "movement_date": "2026-11-13",
                                                             "warehouse": "WH1", "lines": [{"item": "MA-1",
                                                                                            "quantity": "21"}]})
    assert r.status_code == 422 and "on hand" in r.json()["detail"]

    # Back to the supplier: 5 units of FF leave at FIFO cost (the 12.00 layer).
    rs = doc(suite, "supplier-returns", company, "2026-11-14", [{"item": "FF-1", "quantity": "5"}], partner="S1",
             reference="PO-1")
    assert rs["total_cost"] == "60.00"
    suite.wait_journals(company, 6)
    val = valuation(suite, company)
    assert val["total_value"] == str(Decimal("220.00") + Decimal("240.00") + Decimal("10.67") - 60)
    assert gl_balance(suite, company, "1405") == Decimal(val["total_value"])
    assert gl_balance(suite, company, "6401") == Decimal("1650.00") + 330 + 1600 + 360 - Decimal("10.67")
    assert gl_balance(suite, company, "220202") == -Decimal("4400.00") + 60


def test_backdated_movements_recost_later_issues_and_end_as_in_date_order(suite):
    """The same movements, recorded in date order for one company and in a shuffled order
    (receipts arriving late, backdated) for another, end with the same value and COGS, in
    the inventory service and in the ledger."""
    rnd = random.Random(11)
    movements = [("receipts", "2026-11-01", {"item": "MA-1", "quantity": "500", "unit_cost": "9.00"}),
                 ("receipts", "2026-11-01", {"item": "FF-1", "quantity": "500", "unit_cost": "9.00"})]
    for day in range(2, 29):
        for item in ("MA-1", "FF-1"):
            if day % 3 == 0:
                movements.append(("receipts", f"2026-11-{day:02d}",
                                  {"item": item, "quantity": str(rnd.randint(5, 40)),
                                   "unit_cost": f"{rnd.randint(800, 1400) / 100:.2f}"}))
            else:
                movements.append(("issues", f"2026-11-{day:02d}", {"item": item, "quantity": str(rnd.randint(1, 15))}))
    in_order = setup_company(suite, "ORD")
    for kind, date, line in movements:
        doc(suite, kind, in_order, date, [line])
    shuffled = setup_company(suite, "SHUF")
    late = movements[2:]
    rnd.shuffle(late)  # opening stock first, so every arrival order is feasible
    for kind, date, line in movements[:2] + late:
        doc(suite, kind, shuffled, date, [line])

    v1, v2 = valuation(suite, in_order), valuation(suite, shuffled)
    assert v1["lines"] == v2["lines"] and v1["total_value"] == v2["total_value"]
    n_docs = len(movements)
    suite.wait_journals(in_order, n_docs)
    suite.wait_journals(shuffled, n_docs)  # plus cost adjustments
    for company, v in ((in_order, v1), (shuffled, v2)):
        deadline_ok = False
        for _ in range(100):
            if gl_balance(suite, company, "1405") == Decimal(v["total_value"]):
                deadline_ok = True
                break
            import time

            time.sleep(0.2)
        assert deadline_ok, (company, gl_balance(suite, company, "1405"), v["total_value"])
    assert gl_balance(suite, in_order, "6401") == gl_balance(suite, shuffled, "6401")
    adjustments = suite.http.get(f"{suite.gl_url}/v1/journals",
                                 params={"company": shuffled, "limit": 1000}).json()["items"]
    assert any(j["source"]["event_type"] == "finance.inventory.CostAdjusted.v1" for j in adjustments)
    # As of a date in the middle, too: the ledger matches the valuation of that date.
    mid = "2026-11-15"
    assert gl_balance(suite, shuffled, "1405", mid) == Decimal(valuation(suite, shuffled, mid)["total_value"])


def test_transfers_move_value_between_warehouses_and_not_the_books(suite):
    company = setup_company(suite, "XFER")
    h = suite.http
    assert h.post(f"{suite.inv_url}/v1/warehouses", json={"company_id": company, "code": "WH2",
                                                          "name": "Second"}).status_code == 201
    doc(suite, "receipts", company, "2026-11-02", [{"item": "FF-1", "quantity": "10", "unit_cost": "3.00"},
                                                   {"item": "FF-1", "quantity": "10", "unit_cost": "4.00"}])
    r = h.post(f"{suite.inv_url}/v1/transfers", json={"company_id": company, "movement_date": "2026-11-05",
                                                       "warehouse": "WH1", "to_warehouse": "WH2",
                                                       "lines": [{"item": "FF-1", "quantity": "12"}]})
    assert r.status_code == 201, r.text
    assert r.json()["total_cost"] == "38.00"  # FIFO: 10 x 3 + 2 x 4, shown on both legs
    by_wh = {x["warehouse"]: x for x in valuation(suite, company)["lines"]}
    assert (by_wh["WH1"]["quantity"], by_wh["WH1"]["value"]) == ("8", "32.00")
    assert (by_wh["WH2"]["quantity"], by_wh["WH2"]["value"]) == ("12", "38.00")
    # An issue from the second warehouse is costed at the value that arrived there.
    gi = h.post(f"{suite.inv_url}/v1/issues", json={"company_id": company, "movement_date": "2026-11-06",
                                                     "warehouse": "WH2", "lines": [{"item": "FF-1", "quantity": "12"}]})
    gi = gi.json()
    assert gi["total_cost"] == "38.00"
    # A receipt dated before the transfer would re-cost it: refused with the reason.
    late = h.post(f"{suite.inv_url}/v1/receipts", json={"company_id": company, "movement_date": "2026-11-01",
                                                         "warehouse": "WH1",
                                                         "lines": [{"item": "FF-1", "quantity": "5",
                                                                    "unit_cost": "1"}]})
    assert late.status_code == 422 and "re-cost the transfer" in late.json()["detail"]
    suite.wait_journals(company, 2)  # the receipt and the issue; a transfer posts nothing
    assert gl_balance(suite, company, "1405") == Decimal(valuation(suite, company)["total_value"]) == Decimal("32.00")


def test_unit_costs_keep_price_precision_and_amounts_the_minor_unit(suite):
    """Unit costs travel at price precision (6 decimals), amounts at the currency's minor unit;
    the ledger posts the amounts, so it equals the valuation to the cent."""
    import time

    company = setup_company(suite, "PREC")
    # 10 x 3.333 = 33.330 -> 33.33 for each item; the unit cost stays 3.333 (rounded to the cent
    # it would read 3.33, and 10 x 3.33 = 33.30 is not what the stock cost).
    gr = doc(suite, "receipts", company, "2026-11-02", [{"item": "MA-1", "quantity": "10", "unit_cost": "3.333"},
                                                        {"item": "FF-1", "quantity": "10", "unit_cost": "3.333"}])
    assert [(x["unit_cost"], x["cost"]) for x in gr["lines"]] == [("3.333", "33.33"), ("3.333", "33.33")]
    # Issue 3 of each: moving average 3 x 33.33/10 = 9.999 -> 10.00; FIFO 3 x 3.333 = 9.999 -> 10.00.
    # Their unit cost is the issue's cost / quantity at price precision: 10.00 / 3 = 3.333333.
    gi = doc(suite, "issues", company, "2026-11-03", [{"item": "MA-1", "quantity": "3"},
                                                      {"item": "FF-1", "quantity": "3"}])
    assert [(x["unit_cost"], x["cost"]) for x in gi["lines"]] == [("3.333333", "10.00"), ("3.333333", "10.00")]
    # Issue the remaining 7: each takes what is left, 33.33 - 10.00 = 23.33 (unit 23.33 / 7 = 3.332857).
    last = doc(suite, "issues", company, "2026-11-04", [{"item": "MA-1", "quantity": "7"}])
    assert [(x["unit_cost"], x["cost"]) for x in last["lines"]] == [("3.332857", "23.33")]

    # The events carry the same: unit cost 3.333 (not 3.33), line cost 33.33.
    suite.wait_journals(company, 3)
    receipt_journal = next(j for j in suite.journals(company) if j["source"]["document"] == gr["number"])
    event = suite.http.get(f"{suite.gl_url}{receipt_journal['source']['event']}").json()
    assert [(x["unit_cost"]["units"], x["unit_cost"]["nanos"], x["total_cost"]["units"], x["total_cost"]["nanos"])
            for x in event["payload"]["lines"]] == [("3", 333000000, "33", 330000000)] * 2
    # Valuation: MA-1 0 units / 0.00, FF-1 7 units / 23.33; GL 1405 = 66.66 - 10.00 - 10.00 - 23.33 = 23.33.
    val = valuation(suite, company)
    assert [(x["item"], x["quantity"], x["value"]) for x in val["lines"]] == [("FF-1", "7", "23.33")]
    deadline = time.monotonic() + 60
    while gl_balance(suite, company, "1405") != Decimal("23.33") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert gl_balance(suite, company, "1405") == Decimal(val["total_value"]) == Decimal("23.33")
    assert gl_balance(suite, company, "6401") == Decimal("43.33")  # 10.00 + 10.00 + 23.33
