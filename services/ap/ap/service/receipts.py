"""Goods received on our purchase orders: AP consumes inventory's GoodsReceived (and
GoodsReturnedToSupplier) and keeps, per order line, the quantity and cost received, which
the three-way match compares invoices against. Movements of no AP order are ignored."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from finance.inventory.v1 import events_pb2 as inv_events
from fincore import dates, money
from fincore.events.envelope import Envelope
from fincore.inbox import PermanentError
from sqlalchemy.ext.asyncio import AsyncSession

from ap.adapters.tables import GoodsReceipt, OrderLine, PurchaseOrder


class ReceiptRecorder:
    async def __call__(self, session: AsyncSession, env: Envelope) -> None:
        msg = env.payload
        returned = isinstance(msg, inv_events.GoodsReturnedToSupplier)
        if not isinstance(msg, inv_events.GoodsReceived) and not returned:
            return
        if not msg.purchase_order_ref:
            return
        po = (await session.execute(sa.select(PurchaseOrder).where(
            PurchaseOrder.company_id == msg.company_id, PurchaseOrder.number == msg.purchase_order_ref))).scalar()
        if po is None:
            return
        lines = (await session.execute(sa.select(OrderLine).where(OrderLine.po_id == po.id)
                                       .order_by(OrderLine.line_no))).scalars().all()
        sign = Decimal(-1) if returned else Decimal(1)
        for ml in msg.lines:
            qty, value = Decimal(ml.quantity), money.from_proto(ml.total_cost)
            same_item = [ol for ol in lines if ol.item_code == ml.item_code]
            if not same_item:
                raise PermanentError(f"receipt {msg.document_number}: item {ml.item_code} is not on order {po.number}")
            if returned:  # back out of the last line that received the item
                target = next((ol for ol in reversed(same_item) if ol.received_qty >= qty), same_item[-1])
            else:  # fill the first line that still expects the item
                target = next((ol for ol in same_item if ol.received_qty < ol.quantity), same_item[-1])
            target.received_qty += sign * qty
            target.received_value += sign * value
        session.add(GoodsReceipt(
            movement_id=msg.movement_id, company_id=msg.company_id, po_id=po.id, document_number=msg.document_number,
            received_on=dates.from_proto(msg.occurrence_date),
            lines=[{"item_code": ml.item_code, "quantity": ml.quantity,
                    "value": str(sign * money.from_proto(ml.total_cost))} for ml in msg.lines]))
