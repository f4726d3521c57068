"""Inventory's consumers: Kafka records to use cases, nothing more."""

from __future__ import annotations

from finance.ap.v1 import events_pb2 as ap_events
from fincore import dates, money
from fincore.events.envelope import Envelope
from fincore.inbox import PermanentError
from sqlalchemy.ext.asyncio import AsyncSession

from inventory.service.movements import InventoryError
from inventory.service.price_differences import allocate_price_difference


class PriceDifferences:
    """AP's approved stock invoices: each line's price difference re-costs the goods."""

    async def __call__(self, session: AsyncSession, env: Envelope) -> None:
        msg = env.payload
        if not isinstance(msg, ap_events.InvoiceApproved) or msg.kind != ap_events.INVOICE_KIND_STOCK:
            return
        on = dates.from_proto(msg.occurrence_date)
        for ln in msg.lines:
            try:
                await allocate_price_difference(
                    session, company=msg.company_id, on=on, supplier_invoice_id=msg.invoice_id,
                    supplier_invoice_number=msg.document_number, purchase_order_ref=msg.purchase_order_ref,
                    item_code=ln.item_code, difference=money.from_proto(ln.price_variance), currency=msg.currency)
            except InventoryError as exc:
                raise PermanentError(f"invoice {msg.document_number} line {ln.line_no}: {exc}") from exc
