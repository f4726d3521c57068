"""Invoices issued from shipments: AR consumes inventory's GoodsIssued and bills the shipped
quantities of a sales order at the order's prices (one invoice per shipment, so partial
shipments make partial invoices). Shipments that are not of an AR sales order are ignored."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from finance.inventory.v1 import events_pb2 as inv_events
from fincore import dates
from fincore.events.envelope import Envelope
from fincore.inbox import PermanentError
from sqlalchemy.ext.asyncio import AsyncSession

from ar.adapters.tables import Customer, SalesOrder
from ar.domain.invoice import InvoiceError, LineInput
from ar.service.invoicing import issue_invoice


class ShipmentInvoicer:
    async def __call__(self, session: AsyncSession, env: Envelope) -> None:
        msg = env.payload
        if not isinstance(msg, inv_events.GoodsIssued) or not msg.sales_order_ref:
            return
        order = (await session.execute(sa.select(SalesOrder).where(
            SalesOrder.company_id == msg.company_id, SalesOrder.crm_order_id == msg.sales_order_ref))).scalar()
        if order is None or order.status != "accepted":
            return
        prices = {ln["item_code"]: ln for ln in order.lines}
        lines = []
        for ml in msg.lines:
            ol = prices.get(ml.item_code)
            if ol is None:
                raise PermanentError(f"shipment {msg.document_number} ships {ml.item_code}, "
                                     f"which order {order.crm_order_id} does not contain")
            lines.append(LineInput(description=ol["description"], quantity=Decimal(ml.quantity),
                                   unit_price=Decimal(ol["unit_price"]), tax_code=ol["tax_code"],
                                   item_code=ml.item_code, item_category=ml.item_category))
        customer = await session.get(Customer, (order.company_id, order.customer_code))
        try:
            await issue_invoice(session, company_id=order.company_id, customer_code=order.customer_code,
                                customer_group=customer.customer_group if customer else "", currency=order.currency,
                                issue_date=dates.from_proto(msg.occurrence_date), due_date=None, lines=lines,
                                sales_order_ref=order.crm_order_id, idempotency_key=f"shipment:{msg.movement_id}",
                                digest=env.id)
        except InvoiceError as exc:
            raise PermanentError(str(exc)) from exc
