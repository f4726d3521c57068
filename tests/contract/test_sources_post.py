# ruff: noqa: E501
"""Contract: whatever a producing service accepts, the ledger posts or parks; it never
dead-letters (issue 10.3).

AR and inventory are driven through their HTTP APIs (in process, on embedded databases)
with the boundary inputs the APIs accept: the smallest amounts, the largest, the most
decimals, zero-tax lines, zero-cost issues, a foreign currency. Every event they commit to
their outbox then goes through the GL's rule book (`RuleBook.draft`, on every chart) and
must come out as a balanced journal the ledger can store, as "parked" (no exchange rate), as
"nothing to post" (every amount is zero), or be an event the ledger does not post (master
data). Anything else (an unbalanced or empty journal, a missing dimension, an amount finer
than the minor unit or beyond NUMERIC(20, 4)) is what the GL would dead-letter, and fails
here. AP's InvoiceApproved is built by AP's own event mapping from boundary rows; budget's
events are not posting events. A last test checks that every event type of the four
producers has a case here."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal

import httpx
import pytest
from ap.adapters.tables import Supplier, SupplierInvoice, SupplierInvoiceLine
from ap.service.invoices import approved_event
from ar.bootstrap import MIGRATIONS as AR_MIGRATIONS
from ar.bootstrap import create_app as ar_app
from ar.settings import ARSettings
from finance.ap.v1 import events_pb2 as ap_events
from fincore import dates, money
from fincore.auth import ALL_SCOPES, mint_token
from fincore.db import Database, migrate
from fincore.events.registry import registry
from fincore.rates import LedgerRate
from fincore.tables import OutboxRecord, utcnow
from finverify.rules import PostingRules
from gl.bootstrap import rulebook
from gl.domain.chart import load_chart
from gl.domain.rules import MissingRate, NothingToPost
from gl.entrypoints.http import rule_json
from inventory.bootstrap import MIGRATIONS as INV_MIGRATIONS
from inventory.bootstrap import create_app as inv_app
from inventory.service.price_differences import allocate_price_difference
from inventory.settings import InventorySettings

BOOK = rulebook()
# The checker's reading of the same rules, as GET /v1/rules serves them: what it says an event is
# due must be what the ledger does (I2 flags a posting event handled without a journal).
CHECKER = PostingRules(rule_json(r) for r in BOOK.rules)
CHARTS = [load_chart("cas"), load_chart("ifrs")]
RATES = {"USD": Decimal("7.1234"), "EUR": Decimal("7.8"), "JPY": Decimal("0.0473")}
STORABLE = Decimal(10) ** 16  # NUMERIC(20, 4): 16 integer digits
SEEN: set[str] = set()  # event types that went through the ledger in this module


def ledger_outcome(ce_type: str, msg, *, rates: dict | None = None) -> str:
    """What the GL's posting consumer would do with the event; raises on a dead letter. The
    invariant checker (finverify.rules) must say the same: a journal due, or nothing to post."""
    SEEN.add(ce_type)
    outcome = _ledger_outcome(ce_type, msg, rates=rates)
    due = CHECKER.due(ce_type, msg)
    assert due.journal == (outcome in ("posted", "parked")), (ce_type, outcome, due)
    return outcome


def _ledger_outcome(ce_type: str, msg, *, rates: dict | None = None) -> str:
    if ce_type not in BOOK.event_types:
        return "not posted (not a posting event)"
    outcomes = set()
    for chart in CHARTS:
        try:
            d = BOOK.draft(ce_type=ce_type, msg=msg, chart=chart, functional_currency="CNY",
                           rates=RATES if rates is None else rates)
        except MissingRate:
            outcomes.add("parked")
            continue
        except NothingToPost:
            outcomes.add("nothing to post")
            continue
        assert d.total_debit == d.total_credit > 0
        assert all(ln.debit < STORABLE and ln.credit < STORABLE for ln in d.lines), d
        outcomes.add("posted")
    assert len(outcomes) == 1, outcomes  # both charts agree
    return outcomes.pop()


async def outbox(db: Database, since: int) -> list[tuple[int, str, object]]:
    async with db.sessions() as s:
        rows = (await s.execute(OutboxRecord.__table__.select().where(OutboxRecord.id > since)
                                .order_by(OutboxRecord.id))).all()
    return [(r.id, r.ce_type, registry.by_type(r.ce_type).message_class.FromString(r.payload)) for r in rows]


class Producer:
    """A service's API in process on an embedded database; `call` returns the response and
    what the ledger does with each event that request produced."""

    def __init__(self, tmp_path, name: str, settings_cls, create_app, migrations) -> None:
        url = f"sqlite+aiosqlite:///{tmp_path / name}.db"
        migrate(migrations, url)
        settings = settings_cls(database_url=url)
        self.app = create_app(settings)
        self.db: Database = self.app.state.db
        token = mint_token(settings, subject="contract", scopes=ALL_SCOPES, companies=["*"])
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://svc",
                                        headers={"Authorization": f"Bearer {token}"})
        self.last = 0

    async def call(self, method: str, path: str, body: dict | None = None, **kw) -> tuple[httpx.Response, list]:
        r = await self.client.request(method, path, json=body, **kw)
        assert r.status_code < 500, (path, body, r.text)
        events = await outbox(self.db, self.last)
        if events:
            self.last = events[-1][0]
        if r.status_code >= 400:
            assert not events, f"{path} refused ({r.status_code}) but published {[e[1] for e in events]}"
        return r, [(t, ledger_outcome(t, m), m) for _, t, m in events]

    async def close(self) -> None:
        await self.client.aclose()
        await self.db.dispose()


def run(coro):
    return asyncio.run(coro)


def test_every_ar_event_the_api_accepts_posts_or_parks(tmp_path):
    async def go():
        ar = Producer(tmp_path, "ar", ARSettings, ar_app, AR_MIGRATIONS)
        try:
            outcomes: list[tuple[str, str]] = []

            async def call(method, path, body=None, expect=None):
                r, evs = await ar.call(method, path, body)
                if expect is not None:
                    assert r.status_code == expect, (path, body, r.text)
                outcomes.extend((t, o) for t, o, _ in evs)
                return r, evs

            for code, cur in (("K", "CNY"), ("KR", "CNY"), ("KU", "USD"), ("KJ", "JPY"), ("KX", "KWD")):
                await call("PUT", f"/v1/customers/{code}", {"company_id": "C", "code": code, "name": code,
                                                            "currency": cur, "credit_limit": "99999999999999"}, 200)

            def inv(lines, cur="CNY", cust="K", day="2026-11-02"):
                return {"company_id": "C", "customer_code": cust, "currency": cur, "issue_date": day,
                        "lines": [{"description": "x", "tax_code": t, "quantity": q, "unit_price": p, **extra}
                                  for q, p, t, extra in lines]}

            accepted = []
            cases = [
                inv([("1", "0.01", "VAT13", {})]),  # the smallest invoice: 0.01 net, 0.00 tax
                inv([("0.000001", "10000", "VAT13", {})]),  # 6 decimals of quantity -> 0.01
                inv([("3", "0.003333", "VAT6", {})]),  # 6 decimals of price -> 0.01
                inv([("1", "100", "VAT13", {}), ("1", "0", "EXEMPT", {})]),  # a zero line beside a real one
                inv([("1", "100", "VAT13", {"discount": "99.99"})]),  # discount to the last cent
                # Inputs have at most 15 significant digits (fincore.schemas: what both databases store
                # exactly). 1000 x 884,955,752,212.389 = net 884,955,752,212,389.00, tax 13 % =
                # 115,044,247,787,610.57, gross 999,999,999,999,999.57: under 10^15, accepted;
                # a tenth of a cent more per unit: net ...390.00, gross 1,000,000,000,000,000.70: refused.
                inv([("1000", "884955752212.389", "VAT13", {})]),
                inv([("1000", "884955752212.390", "VAT13", {})]),
                inv([("1", "0.001", "VAT13", {})]),  # rounds to 0.00: refused
                inv([("1", "12.34", "VAT13", {})], cur="USD", cust="KU"),  # foreign: converted at the rate
                inv([("1", "1", "VAT0", {})], cur="JPY", cust="KJ"),  # 1 JPY = 0.0473 CNY -> 0.05
                inv([("1", "0.001", "VAT0", {})], cur="KWD", cust="KX"),  # 0.001 KWD: 3 decimals
                inv([("1", "100", "VAT13", {})], cust="NOBODY"),  # unknown customer: refused
            ]
            for body in cases:
                r, _ = await call("POST", "/v1/invoices", body)
                if r.status_code == 201:
                    accepted.append(r.json())
            assert [a["gross_total"] for a in accepted] == [
                "0.01", "0.01", "0.01", "113.00", "0.01", "999999999999999.57", "13.94", "1", "0.001"]

            small, big = accepted[0], accepted[5]
            # Credit memos: the smallest price adjustment (of the largest invoice), a cancellation.
            await call("POST", "/v1/credit-memos", {"invoice_id": big["id"], "reason": "PRICE_ADJUSTMENT",
                                                    "memo_date": "2026-11-03", "lines": [
                                                        {"description": "x", "quantity": "1", "unit_price": "0.01",
                                                         "tax_code": "VAT13"}]}, 201)
            await call("POST", "/v1/credit-memos", {"invoice_id": accepted[3]["id"], "reason": "CANCELLATION",
                                                    "memo_date": "2026-11-03"}, 201)
            # Receipts: a cent applied, a large overpayment held unapplied, a refund of a cent.
            await call("POST", "/v1/receipts", {"company_id": "C", "customer_code": "K", "receipt_date": "2026-11-04",
                                                "amount": "0.01", "applications": [{"invoice_id": small["id"],
                                                                                    "amount": "0.01"}]}, 201)
            await call("POST", "/v1/receipts", {"company_id": "C", "customer_code": "KR", "receipt_date": "2026-11-04",
                                                "amount": "9999999999999.99"}, 201)  # 15 digits: exact
            await call("POST", "/v1/receipts", {"company_id": "C", "customer_code": "KR", "receipt_date": "2026-11-04",
                                                "amount": "999999999999999.99"}, 422)  # 17: not stored exactly
            await call("POST", "/v1/receipts", {"company_id": "C", "customer_code": "K", "receipt_date": "2026-11-04",
                                                "amount": "1000000000000000.00"}, 422)
            await call("POST", "/v1/receipts", {"company_id": "C", "customer_code": "KU", "receipt_date": "2026-11-04",
                                                "amount": "0.01"}, 201)
            await call("POST", "/v1/refunds", {"company_id": "C", "customer_code": "KR", "refund_date": "2026-11-05",
                                               "amount": "0.01"}, 201)
            # Bad debts: the allowance adds currencies at the ledger's rate; with none known here yet
            # it is refused (nothing published), with AR's copy of the rates it posts.
            await call("POST", "/v1/bad-debt-provisions", {"company_id": "C", "as_of": "2026-11-30",
                                                           "rates": {"current": "0.01"}}, 422)
            async with ar.db.transaction() as s:
                s.add_all([LedgerRate(company_id="C", currency=cur, rate_date=dt.date(2026, 11, 1),
                                      functional_currency="CNY", rate=rate, received_at=utcnow())
                           for cur, rate in {**RATES, "KWD": Decimal("23.1")}.items()])
            # An allowance of a fraction of a cent rounds to nothing (no event), one of 1 % posts.
            await call("POST", "/v1/bad-debt-provisions", {"company_id": "C", "as_of": "2026-11-30",
                                                           "rates": {"current": "0.0001"}}, 200)
            await call("POST", "/v1/bad-debt-provisions", {"company_id": "C", "as_of": "2026-11-30",
                                                           "rates": {"current": "0.01"}}, 200)
            await call("POST", "/v1/write-offs", {"invoice_id": accepted[1]["id"], "write_off_date": "2026-11-30",
                                                  "reason": "x"}, 201)
            # A customer's orders are master data for the ledger; no journal, no dead letter.
            await call("POST", "/v1/sales-orders", {"company_id": "C", "crm_order_id": "SO-1", "customer_code": "KR",
                                                    "order_date": "2026-11-01", "lines": [
                                                        {"description": "x", "quantity": "1", "unit_price": "1",
                                                         "tax_code": "VAT13"}]}, 201)
        finally:
            await ar.close()
        return outcomes

    outcomes = run(go())
    posted = {t for t, o in outcomes if o == "posted"}
    assert {t.split(".")[2] for t in posted} >= {"InvoiceIssued", "CreditMemoIssued", "PaymentReceived", "RefundPaid",
                                                 "BadDebtProvisioned", "BadDebtWrittenOff"}
    assert ("finance.ar.CustomerUpserted.v1", "not posted (not a posting event)") in outcomes


def test_foreign_currency_events_without_a_rate_are_parked():
    from finance.ar.v1 import events_pb2 as ar

    msg = ar.InvoiceIssued(company_id="C", document_number="INV-1", occurrence_date=dates.to_proto(dt.date(2026, 11, 2)),
                           customer_code="K", currency="USD", net_total=money.to_proto(Decimal("1"), "USD"),
                           tax_total=money.to_proto(Decimal("0"), "USD"), gross_total=money.to_proto(Decimal("1"), "USD"),
                           lines=[ar.InvoiceLine(net=money.to_proto(Decimal("1"), "USD"))])
    assert ledger_outcome("finance.ar.InvoiceIssued.v1", msg, rates={}) == "parked"


def test_every_inventory_event_the_api_accepts_posts_or_parks(tmp_path):
    async def go():
        inv = Producer(tmp_path, "inv", InventorySettings, inv_app, INV_MIGRATIONS)
        outcomes: list[tuple[str, str]] = []
        try:
            async def call(path, body, expect):
                r, evs = await inv.call("POST", path, body)
                assert r.status_code == expect, (path, body, r.text)
                outcomes.extend((t, o) for t, o, _ in evs)
                return r.json()

            for code, method, cur, cat in (("MA", "moving_average", "CNY", "GOODS"), ("FF", "fifo", "CNY", "GOODS"),
                                           ("JP", "moving_average", "JPY", "GOODS"),
                                           ("RM", "fifo", "CNY", "RAW_MATERIAL")):
                await call("/v1/items", {"company_id": "C", "code": code, "name": code, "costing_method": method,
                                         "currency": cur, "category": cat}, 201)
            for wh in ("W", "W2"):
                await call("/v1/warehouses", {"company_id": "C", "code": wh, "name": wh}, 201)

            def doc(day, lines, wh="W", **extra):
                return {"company_id": "C", "movement_date": day, "warehouse": wh, "lines": lines, **extra}

            # Receipts at the boundaries: the smallest value (3 x 0.003 -> 0.01), 6 decimals,
            # the largest line, and the refused ones (zero value, too many decimals, too large).
            await call("/v1/receipts", doc("2026-11-02", [{"item": "MA", "quantity": "3", "unit_cost": "0.003"}]), 201)
            gr = await call("/v1/receipts", doc("2026-11-02", [
                {"item": "FF", "quantity": "0.000001", "unit_cost": "10000"},
                {"item": "FF", "quantity": "99999999", "unit_cost": "10000000.000001"}]), 201)
            await call("/v1/receipts", doc("2026-11-02", [{"item": "JP", "quantity": "7", "unit_cost": "0.5"}]), 201)
            for bad in ({"item": "MA", "quantity": "1", "unit_cost": "0.000001"},
                        {"item": "MA", "quantity": "1", "unit_cost": "0"},
                        {"item": "MA", "quantity": "1", "unit_cost": "0.0000000001"},
                        {"item": "JP", "quantity": "1", "unit_cost": "0.4"},  # 0 JPY
                        {"item": "FF", "quantity": "100000000", "unit_cost": "10000000"}):
                await call("/v1/receipts", doc("2026-11-02", [bad]), 422)
            # Issues whose cost rounds to zero (a real movement without a journal), and one that
            # empties the stock and takes the value left.
            gi = await call("/v1/issues", doc("2026-11-03", [{"item": "MA", "quantity": "1"},
                                                            {"item": "FF", "quantity": "0.000001"}],
                                              reference="SO-1", partner="K"), 201)
            await call("/v1/issues", doc("2026-11-04", [{"item": "MA", "quantity": "2"}]), 201)
            gi2 = await call("/v1/issues", doc("2026-11-04", [{"item": "FF", "quantity": "2"}]), 201)
            await call("/v1/returns", doc("2026-11-05", [{"item": "FF", "quantity": "1",
                                                         "returns_document": gi2["number"]}], partner="K"), 201)
            await call("/v1/returns", doc("2026-11-05", [{"item": "MA", "quantity": "1",
                                                         "returns_document": gi["number"]}], partner="K"), 201)
            await call("/v1/supplier-returns", doc("2026-11-05", [{"item": "FF", "quantity": "1",
                                                                  "returns_document": gr["number"], "returns_line": 2}]),
                       201)
            # Counts: a gain at the stock's unit cost, a gain at zero cost (a zero-value event),
            # a loss, and a count that changes nothing.
            await call("/v1/receipts", doc("2026-11-05", [{"item": "RM", "quantity": "4", "unit_cost": "2.50"}]), 201)
            # A count of two categories: one StockAdjusted per category.
            await call("/v1/counts", doc("2026-11-06", [{"item": "FF", "counted_quantity": "99999999"},
                                                       {"item": "MA", "counted_quantity": "5"},
                                                       {"item": "RM", "counted_quantity": "3"}]), 201)
            await call("/v1/counts", doc("2026-11-06", [{"item": "JP", "counted_quantity": "0"}]), 201)
            await call("/v1/transfers", {"company_id": "C", "movement_date": "2026-11-07", "warehouse": "W",
                                         "to_warehouse": "W2", "lines": [{"item": "FF", "quantity": "0.000001"}]}, 201)
            # A backdated receipt re-costs the issues after it (CostAdjusted).
            await call("/v1/receipts", doc("2026-11-01", [{"item": "MA", "quantity": "1", "unit_cost": "5.55"}]), 201)
            # Price differences from AP's stock invoices (the consumer's use case): a cent up, a
            # cent down, the largest, and one dated before later issues (re-costs them too).
            await call("/v1/receipts", doc("2026-11-08", [{"item": "FF", "quantity": "3", "unit_cost": "1.00"}],
                                           reference="PO-9"), 201)
            await call("/v1/issues", doc("2026-11-10", [{"item": "FF", "quantity": "1"}]), 201)
            for day, diff in ((9, "0.01"), (9, "-0.01"), (11, "-2.99"), (9, "999999999999.99")):
                async with inv.db.transaction() as s:
                    await allocate_price_difference(
                        s, company="C", on=dt.date(2026, 11, day), supplier_invoice_id="i", supplier_invoice_number="PI-1",
                        purchase_order_ref="PO-9", item_code="FF", difference=Decimal(diff), currency="CNY")
                _, evs = await inv.call("GET", "/v1/valuation?company=C")
                outcomes.extend((t, o) for t, o, _ in evs)
        finally:
            await inv.close()
        return outcomes

    outcomes = run(go())
    kinds = {(t.split(".")[2], o) for t, o in outcomes}
    assert {k for k, o in kinds if o == "posted"} >= {"GoodsReceived", "GoodsIssued", "GoodsReturned",
                                                      "GoodsReturnedToSupplier", "StockAdjusted", "CostAdjusted",
                                                      "PriceDifferenceAllocated"}
    assert ("GoodsReturned", "nothing to post") in kinds  # the return of the unit that was issued at 0.00
    assert ("StockTransferred", "not posted (not a posting event)") in kinds


def _ap_invoice(kind: str, lines: list[dict], cur: str = "CNY") -> ap_events.InvoiceApproved:
    rows = [SupplierInvoiceLine(invoice_id="i", line_no=n, item_code=ln.get("item", ""), description="x",
                                quantity=Decimal(ln.get("qty", "1")), unit_price=Decimal(ln.get("price", "0")),
                                tax_code=ln.get("tax_code", "VAT13"), net=Decimal(ln["net"]), tax=Decimal(ln["tax"]),
                                grni_cleared=Decimal(ln["net"]) - Decimal(ln.get("pv", "0")),
                                price_variance=Decimal(ln.get("pv", "0")), cost_centre=ln.get("cc", ""),
                                budget_item="", expense_category=ln.get("cat", ""), budget_ref="")
            for n, ln in enumerate(lines, 1)]
    net = sum((r.net for r in rows), Decimal(0))
    tax = sum((r.tax for r in rows), Decimal(0))
    inv = SupplierInvoice(id="i", company_id="C", number="PI-1", kind=kind, supplier_code="S",
                          supplier_invoice_number="SI-1", invoice_date=dt.date(2026, 11, 10),
                          due_date=dt.date(2026, 12, 10), discount_pct=Decimal(0), currency=cur, net_total=net,
                          tax_total=tax, gross_total=net + tax, status="approved", reasons=[], budget=[],
                          settled=Decimal(0))
    sup = Supplier(company_id="C", code="S", name="S", supplier_group="", currency=cur, payment_terms="NET30",
                   iban="", bic="", intercompany_partner="")
    return approved_event(inv, sup, None, rows)


AP_CASES = [
    ("stock at the order's price", "stock", [{"item": "P", "net": "100.00", "tax": "13.00"}]),
    ("stock above the order's price", "stock", [{"item": "P", "net": "104.00", "tax": "13.52", "pv": "4.00"}]),
    ("stock below the order's price", "stock", [{"item": "P", "net": "96.00", "tax": "12.48", "pv": "-4.00"}]),
    ("stock, a cent, zero tax", "stock", [{"item": "P", "net": "0.01", "tax": "0.00", "tax_code": "VAT0"}]),
    ("stock, all variance (received at 0)", "stock", [{"item": "P", "net": "0.01", "tax": "0.00", "pv": "0.01"}]),
    ("stock, the largest", "stock", [{"item": "P", "net": "884955752212389.37", "tax": "115044247787610.62"}]),
    ("expense, a cent", "expense", [{"net": "0.01", "tax": "0.00", "cc": "CC1"}]),
    ("expense claim, selling", "expense_claim", [{"net": "10.00", "tax": "0.60", "cc": "CC1", "cat": "SELLING"}]),
]


@pytest.mark.parametrize("name, kind, lines", AP_CASES, ids=[c[0] for c in AP_CASES])
def test_every_ap_invoice_the_mapping_builds_posts(name, kind, lines):
    assert ledger_outcome("finance.ap.InvoiceApproved.v1", _ap_invoice(kind, lines)) == "posted"


@pytest.mark.parametrize("amount, discount", [("0.01", "0"), ("110.74", "2.26"), ("0.01", "999999999999999.98")])
def test_ap_payments_post(amount, discount):
    m = lambda v: money.to_proto(Decimal(v), "CNY")  # noqa: E731
    msg = ap_events.PaymentMade(company_id="C", document_number="PAY-1",
                                occurrence_date=dates.to_proto(dt.date(2026, 11, 20)), supplier_code="S",
                                amount=m(amount), applications=[ap_events.PaymentApplication(
                                    invoice_id="i", amount=m(amount), discount=m(discount))])
    assert ledger_outcome("finance.ap.PaymentMade.v1", msg) == "posted"


def test_master_data_and_budget_events_are_not_posting_events():
    for spec in registry.all():
        if spec.producer == "budget" or spec.ce_type.endswith(("Upserted.v1",)):
            assert ledger_outcome(spec.ce_type, spec.message_class()) == "not posted (not a posting event)"


def test_every_event_type_of_the_producers_has_a_case():
    """Runs last in this module (pytest keeps file order): each event type AR, AP, inventory
    and budget can publish went through the ledger in one of the tests above."""
    produced = {s.ce_type for s in registry.all() if s.producer in ("ar", "ap", "inventory", "budget")}
    assert produced - SEEN == set()
