"""A customer return read before the shipment it returns (different Kafka keys, so different
partitions: no order between them). AR's inbox consumer handles inventory's events on a fresh
database (PostgreSQL and embedded SQLite): the return waits for its shipment and is credited in the transaction
that invoices it; the usual order is unchanged; a return that exceeds its shipment is still
refused (dead letter with the reason), without harming the shipment.

Known answers: order CRM-1 sells MA-1 at 15.00 + VAT13. Shipment S1 ships 2 units: invoice
net 30.00, VAT 3.90, gross 33.90. A return of 1 unit: credit memo net 15.00, VAT 1.95,
gross 16.95; the invoice then owes 33.90 - 16.95 = 16.95.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from decimal import Decimal as D

import pytest
import sqlalchemy as sa
from aiokafka import ConsumerRecord
from ar.adapters.tables import CreditMemo, Customer, Invoice, SalesOrder
from ar.bootstrap import MIGRATIONS
from ar.service.shipments import CONSUMER, ShipmentInvoicer
from ar.settings import ARSettings
from finance.inventory.v1 import events_pb2 as inv
from fincore import dates, money
from fincore.awaiting import AwaitingEvent
from fincore.db import Database, migrate
from fincore.events import encode_record, new_envelope
from fincore.inbox import InboxConsumer
from fincore.tables import DeadLetter, utcnow
from fincore.testing.rowlocks import scratch_url

pytestmark = pytest.mark.integration

DAY = dates.to_proto(dt.date(2026, 11, 20))
CO = "C1"


@pytest.fixture(params=["postgresql", "sqlite"])
def pg_url(request, tmp_path):
    """A fresh database (PostgreSQL, dropped afterwards; or embedded SQLite)."""
    with scratch_url(request.param, tmp_path, "t_arret") as url:
        yield url


def _line(qty: str) -> inv.MovementLine:
    return inv.MovementLine(line_no=1, item_code="MA-1", item_category="MERCHANDISE", warehouse="W1", quantity=qty,
                            total_cost=money.to_proto(D("10.00") * D(qty), "CNY"))


def shipment(movement_id: str, qty: str) -> inv.GoodsIssued:
    return inv.GoodsIssued(company_id=CO, document_number=f"GI-{movement_id}", occurrence_date=DAY,
                           movement_id=movement_id, sales_order_ref="CRM-1", customer_code="K02", lines=[_line(qty)])


def customer_return(movement_id: str, original: str, qty: str) -> inv.GoodsReturned:
    return inv.GoodsReturned(company_id=CO, document_number=f"RT-{movement_id}", occurrence_date=DAY,
                             movement_id=movement_id, sales_order_ref="CRM-1", customer_code="K02",
                             original_movement_id=original, lines=[_line(qty)])


def _record(env, offset: int) -> ConsumerRecord:
    key, value, headers = encode_record(env)
    return ConsumerRecord(topic="finance.inventory.events.v1", partition=0, offset=offset, timestamp=0,
                          timestamp_type=0, key=key, value=value, checksum=None, serialized_key_size=len(key),
                          serialized_value_size=len(value), headers=headers)


class Books:
    """AR on a fresh database with customer K02 and its order CRM-1 (4 x MA-1 at 15.00) accepted."""

    def __init__(self, url: str) -> None:
        migrate(MIGRATIONS, url)
        self.db = Database(url)
        self.consumer = InboxConsumer(self.db, ARSettings(database_url=url), name=CONSUMER,
                                      topics=["finance.inventory.events.v1"], handler=ShipmentInvoicer())
        self.offset = 0

    async def order(self) -> None:
        async with self.db.transaction() as s:
            s.add(Customer(company_id=CO, code="K02", name="K02", customer_group="DOMESTIC", currency="CNY",
                           payment_terms_days=30, credit_limit=D("100000"), credit_policy="block",
                           intercompany_partner="", updated_at=utcnow()))
            s.add(SalesOrder(id=str(uuid.uuid4()), company_id=CO, crm_order_id="CRM-1", customer_code="K02",
                             currency="CNY", order_date=dt.date(2026, 11, 1),
                             expected_delivery_date=dt.date(2026, 11, 1),
                             amount=D("67.80"), status="accepted",
                             decision={}, created_at=utcnow(),
                             lines=[{"item_code": "MA-1", "description": "Widget", "quantity": "4",
                                     "unit_price": "15.00", "tax_code": "VAT13"}]))

    async def deliver(self, *envs) -> None:
        """One poll: these records in this order, in one transaction (as the consumer reads them)."""
        recs = []
        for env in envs:
            recs.append((_record(env, self.offset), env))
            self.offset += 1
        await self.consumer._apply(recs)

    async def state(self) -> dict:
        async with self.db.sessions() as s:
            invoices = (await s.execute(sa.select(Invoice).order_by(Invoice.number))).scalars().all()
            memos = (await s.execute(sa.select(CreditMemo))).scalars().all()
            waiting = (await s.execute(sa.select(AwaitingEvent))).scalars().all()
            dead = (await s.execute(sa.select(DeadLetter))).scalars().all()
            return {"invoices": [(i.gross_total, i.paid_amount, i.gross_total - i.paid_amount) for i in invoices],
                    "memos": [(m.invoice_id == invoices[0].id, m.net_total, m.tax_total, m.gross_total, m.reason)
                              for m in memos],
                    "waiting": [(w.awaiting, w.resolution) for w in waiting],
                    "dead": [d.error for d in dead]}


def test_a_return_read_before_its_shipment_waits_and_is_credited_once(pg_url):
    async def go():
        b = Books(pg_url)
        await b.order()
        ret = new_envelope(customer_return("R1", "S1", "1"), source="inventory")
        ship = new_envelope(shipment("S1", "2"), source="inventory")
        await b.deliver(ret)  # read first: no invoice yet, it waits for shipment S1
        parked = await b.state()
        await b.deliver(ret)  # a redelivered copy: a duplicate, not a second wait
        await b.deliver(ship)  # the shipment: invoiced, and the return credited in that transaction
        await b.deliver(ship, ret)  # both again (a rebalance): nothing more
        done = await b.state()
        await b.db.dispose()
        return parked, done

    parked, done = asyncio.run(go())
    assert parked["invoices"] == [] and parked["memos"] == [] and parked["dead"] == []
    assert parked["waiting"] == [("shipment:S1", None)]
    # invoice 33.90, credit memo 16.95 against it (net 15.00 + VAT 1.95): 16.95 left open
    assert done["invoices"] == [(D("33.90"), D("16.95"), D("16.95"))]
    assert done["memos"] == [(True, D("15.00"), D("1.95"), D("16.95"), "RETURN")]
    assert done["waiting"] == [(None, "applied when shipment:S1 arrived")]
    assert done["dead"] == []


def test_a_return_after_its_shipment_is_credited_at_once(pg_url):
    async def go():
        b = Books(pg_url)
        await b.order()
        await b.deliver(new_envelope(shipment("S1", "2"), source="inventory"),
                        new_envelope(customer_return("R1", "S1", "1"), source="inventory"))
        out = await b.state()
        await b.db.dispose()
        return out

    out = asyncio.run(go())
    assert out["invoices"] == [(D("33.90"), D("16.95"), D("16.95"))]
    assert out["memos"] == [(True, D("15.00"), D("1.95"), D("16.95"), "RETURN")]
    assert out["waiting"] == [] and out["dead"] == []


def test_a_return_exceeding_its_shipment_is_refused_once_the_shipment_is_here(pg_url):
    async def go():
        b = Books(pg_url)
        await b.order()
        # 3 returned of a shipment of 2: waits (the shipment is not here), then is refused
        await b.deliver(new_envelope(customer_return("R1", "S1", "3"), source="inventory"))
        await b.deliver(new_envelope(shipment("S1", "2"), source="inventory"))
        late = await b.state()
        # after the shipment, the same return of 3 is refused at once (a PermanentError)
        refused = None
        try:
            await b.deliver(new_envelope(customer_return("R2", "S1", "3"), source="inventory"))
        except Exception as exc:  # noqa: BLE001 - what the consumer dead-letters
            refused = f"{type(exc).__name__}: {exc}"
        async with b.db.sessions() as s:
            inbox = (await s.execute(sa.text("SELECT event_id FROM inbox"))).scalars().all()
        await b.db.dispose()
        return late, refused, len(inbox)

    late, refused, inbox = asyncio.run(go())
    # the shipment is invoiced (33.90 open), no credit memo
    assert late["invoices"] == [(D("33.90"), D("0.00"), D("33.90"))] and late["memos"] == []
    assert len(late["dead"]) == 1 and "has 3 of MA-1 left to return" in late["dead"][0]
    assert "after waiting for shipment:S1" in late["dead"][0]
    assert late["waiting"][0][0] is None and late["waiting"][0][1].startswith("refused: return RT-R1")
    assert inbox == 1  # the shipment's; the refused return can be replayed from its dead letter
    assert refused is not None and "PermanentError" in refused and "its shipment S1 is invoiced" in refused
