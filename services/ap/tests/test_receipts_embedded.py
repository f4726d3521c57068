"""AP keeps what was received on its orders from inventory's events (embedded database)."""

import asyncio
import datetime as dt
from decimal import Decimal as D

from ap.adapters.tables import GoodsReceipt, OrderLine, PurchaseOrder
from ap.bootstrap import MIGRATIONS
from ap.service.receipts import ReceiptRecorder
from finance.inventory.v1 import events_pb2 as inv
from fincore import dates, money
from fincore.db import Database, migrate
from fincore.events import new_envelope
from fincore.tables import utcnow


def test_receipts_and_returns_to_the_supplier_move_the_received_quantity(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'ap.db'}"
    migrate(MIGRATIONS, url)
    db = Database(url)

    def line(item, qty, cost):
        return inv.MovementLine(item_code=item, quantity=qty, total_cost=money.to_proto(D(cost), "EUR"))

    async def go():
        async with db.transaction() as s:
            s.add(PurchaseOrder(id="po1", company_id="C", number="PO-1", supplier_code="S", requisition_id="r",
                                order_date=dt.date(2026, 11, 1), expected_receipt_date=dt.date(2026, 11, 1),
                                currency="EUR", status="open", created_at=utcnow()))
            await s.flush()
            for n, qty in ((1, "10"), (2, "5")):  # the same item on two lines
                s.add(OrderLine(po_id="po1", line_no=n, item_code="BOLT", description="Bolt", quantity=D(qty),
                                unit_price=D("2"), tax_code="VAT13", cost_centre="P", budget_item="M",
                                budget_ref="x", received_qty=D(0), received_value=D(0)))
        handler = ReceiptRecorder()
        day = dates.to_proto(dt.date(2026, 11, 2))
        events = [inv.GoodsReceived(company_id="C", document_number="GR-1", occurrence_date=day, movement_id="m1",
                                    purchase_order_ref="PO-1", lines=[line("BOLT", "10", "20.00")]),
                  inv.GoodsReceived(company_id="C", document_number="GR-2", occurrence_date=day, movement_id="m2",
                                    purchase_order_ref="PO-1", lines=[line("BOLT", "4", "8.00")]),
                  inv.GoodsReturnedToSupplier(company_id="C", document_number="RS-1", occurrence_date=day,
                                              movement_id="m3", purchase_order_ref="PO-1",
                                              lines=[line("BOLT", "1", "2.00")]),
                  inv.GoodsReceived(company_id="C", document_number="GR-X", occurrence_date=day, movement_id="m4",
                                    purchase_order_ref="PO-OTHER", lines=[line("BOLT", "1", "2.00")])]
        for ev in events:
            async with db.transaction() as s:
                await handler(s, new_envelope(ev, source="inventory"))
        async with db.sessions() as s:
            l1, l2 = await s.get(OrderLine, ("po1", 1)), await s.get(OrderLine, ("po1", 2))
            n = len((await s.execute(GoodsReceipt.__table__.select())).all())
        await db.dispose()
        return l1, l2, n

    l1, l2, n = asyncio.run(go())
    assert (l1.received_qty, l1.received_value) == (D(10), D("20.00"))  # the first line filled first
    assert (l2.received_qty, l2.received_value) == (D(3), D("6.00"))  # 4 received, 1 returned
    assert n == 3  # the movement of another order is not AP's
