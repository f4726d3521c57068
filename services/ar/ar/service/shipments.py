# ruff: noqa: E501
"""Invoices issued from shipments: AR consumes inventory's GoodsIssued and bills the shipped
quantities of a sales order at the order's prices (one invoice per shipment, so partial
shipments make partial invoices); a GoodsReturned of an order's goods becomes a RETURN
credit memo. Movements that are not of an AR sales order are ignored.

A return and its shipment have different keys, so AR can read the return first. A return
that names its shipment (`original_movement_id`) and finds no invoice to credit while that
shipment is not yet here waits for it (fincore.awaiting, `shipment:<movement id>`) and is
credited in the transaction that invoices the shipment. A return that still finds nothing
to credit once its shipment is invoiced (or that names no shipment) is refused."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from finance.inventory.v1 import events_pb2 as inv_events
from fincore import awaiting, dates
from fincore.awaiting import AwaitingDocument
from fincore.events.envelope import Envelope
from fincore.inbox import PermanentError
from sqlalchemy.ext.asyncio import AsyncSession

from ar.adapters.tables import Customer, SalesOrder, Shipment
from ar.domain.invoice import InvoiceError, LineInput
from ar.service import quantities
from ar.service.credit_memos import issue_credit_memo
from ar.service.invoicing import issue_invoice

CONSUMER = "ar-shipments"


class ShipmentInvoicer:
    async def __call__(self, session: AsyncSession, env: Envelope) -> None:
        msg = env.payload
        if not isinstance(msg, (inv_events.GoodsIssued, inv_events.GoodsReturned)) or not msg.sales_order_ref:
            return
        if isinstance(msg, inv_events.GoodsReturned):
            await awaiting.handle_or_park(session, CONSUMER, env, self.apply)
            return
        await self.apply(session, env)
        await awaiting.release(session, CONSUMER, msg.company_id, f"shipment:{msg.movement_id}", self.apply)

    async def apply(self, session: AsyncSession, env: Envelope) -> None:
        msg = env.payload
        order = (await session.execute(sa.select(SalesOrder).where(
            SalesOrder.company_id == msg.company_id, SalesOrder.crm_order_id == msg.sales_order_ref))).scalar()
        if order is None or order.status != "accepted":
            return
        prices = {ln["item_code"]: ln for ln in order.lines}
        shipment = Shipment(movement_id=msg.movement_id, company_id=msg.company_id, order_ref=order.crm_order_id,
                            document_number=msg.document_number, shipped_on=dates.from_proto(msg.occurrence_date),
                            kind="issue" if isinstance(msg, inv_events.GoodsIssued) else "return")
        if isinstance(msg, inv_events.GoodsReturned):
            await self._credit_return(session, msg, order, prices, shipment)
            return
        session.add(shipment)
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
            inv, _ = await issue_invoice(session, company_id=order.company_id, customer_code=order.customer_code,
                                customer_group=customer.customer_group if customer else "", currency=order.currency,
                                issue_date=dates.from_proto(msg.occurrence_date), due_date=None, lines=lines,
                                sales_order_ref=order.crm_order_id, idempotency_key=f"shipment:{msg.movement_id}",
                                digest=env.id, check_order=False)
        except InvoiceError as exc:
            raise PermanentError(str(exc)) from exc
        shipment.invoice_id = inv.id

    async def _credit_return(self, session, msg, order, prices, shipment) -> None:
        """A customer return of an order's goods: a RETURN credit memo at the order's prices,
        against the latest invoice of that order that billed the item and still has that
        quantity left to return."""
        invoices = await quantities.order_invoices(session, order.company_id, order.crm_order_id)
        left = await quantities.billed(session, [i.id for i in invoices])
        plan = []
        for ml in msg.lines:
            ol = prices.get(ml.item_code)
            if ol is None:
                raise PermanentError(f"return {msg.document_number} of {ml.item_code}, not in order {order.crm_order_id}")
            qty = Decimal(ml.quantity)
            invoice_id = next((i.id for i in reversed(invoices) if left[i.id].get(ml.item_code, Decimal(0)) >= qty),
                              None)
            if invoice_id is None:
                what = (f"return {msg.document_number}: no invoice of order {order.crm_order_id} "
                        f"has {ml.quantity} of {ml.item_code} left to return")
                if msg.original_movement_id and await session.get(Shipment, msg.original_movement_id) is None:
                    raise AwaitingDocument(f"shipment:{msg.original_movement_id}",
                                           f"{what}: waits for its shipment {msg.original_movement_id}")
                raise PermanentError(what + (f" (its shipment {msg.original_movement_id} is invoiced)"
                                             if msg.original_movement_id else ""))
            left[invoice_id][ml.item_code] -= qty
            plan.append((ml, ol, invoice_id))
        session.add(shipment)
        for ml, ol, invoice_id in plan:
            try:
                memo = await issue_credit_memo(
                    session, invoice_id=invoice_id, reason="RETURN", on=dates.from_proto(msg.occurrence_date),
                    lines=[LineInput(description=ol["description"], quantity=Decimal(ml.quantity),
                                     unit_price=Decimal(ol["unit_price"]), tax_code=ol["tax_code"],
                                     item_code=ml.item_code)],
                    source_ref=f"return:{msg.movement_id}:{ml.line_no}")
            except InvoiceError as exc:
                raise PermanentError(str(exc)) from exc
            shipment.credit_memo_id = memo.id
