"""Purchase price differences at actual cost (moving average, FIFO).

A supplier invoice that prices received goods differently from their receipt leaves a
difference (AP's `price_variance` per invoice line, which the GL debits to a clearing
account). For goods costed at actual cost that difference belongs to the goods: inventory
consumes AP's InvoiceApproved and, for each stock line with a difference, finds the
receipts of that order and item (by warehouse), and at the invoice date
- puts the share of the stock still on hand into the stock's value: on hand at the invoice
  date S, received Q, share min(S, Q) / Q of the difference, rounded half up to the minor
  unit; the stock is re-costed from that date as a backdated movement would re-cost it
  (later issues are re-costed and published as CostAdjusted);
- sends the rest, the share of the goods already issued, to cost of sales;
and publishes PriceDifferenceAllocated, whose journal clears the clearing account.
Lines of no inventory receipt (services, other systems) are left to the ledger as they are."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_EVEN, Decimal

import sqlalchemy as sa
from finance.common.v1 import types_pb2
from finance.inventory.v1 import events_pb2 as ev
from fincore import dates, money
from fincore.outbox import add_event
from fincore.sequences import allocate
from fincore.tables import utcnow
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils import uuid7

from inventory.adapters.tables import Item, Movement, MovementDoc
from inventory.domain import costing
from inventory.service.movements import _cost_line, _lock_state, _publish_adjustment

ZERO = Decimal(0)


def _split(total: Decimal, weights: dict[str, Decimal], currency: str) -> dict[str, Decimal]:
    """`total` over the keys pro rata to their weights; the last key takes the rounding."""
    keys, whole, out, left = sorted(weights), sum(weights.values(), ZERO), {}, total
    for k in keys[:-1]:
        out[k] = money.quantize(total * weights[k] / whole, currency, rounding=ROUND_HALF_EVEN)
        left -= out[k]
    out[keys[-1]] = left
    return out


async def allocate_price_difference(session: AsyncSession, *, company: str, on: dt.date, supplier_invoice_id: str,
                                    supplier_invoice_number: str, purchase_order_ref: str, item_code: str,
                                    difference: Decimal, currency: str,
                                    source: str = "inventory") -> list[MovementDoc]:
    """Allocate one invoice line's price difference (signed). An invoice in another currency than
    the item's is left to the ledger (its difference stays in the clearing account, visible)."""
    if not difference or not purchase_order_ref or not item_code:
        return []
    item = await session.get(Item, (company, item_code))
    if item is None or item.currency != currency:
        return []
    received: dict[str, Decimal] = defaultdict(Decimal)
    for wh, qty in (await session.execute(
            sa.select(Movement.warehouse, Movement.quantity).join(MovementDoc, MovementDoc.id == Movement.doc_id)
            .where(MovementDoc.company_id == company, MovementDoc.kind == "receipt",
                   MovementDoc.reference == purchase_order_ref, Movement.item_code == item_code))).all():
        received[wh] += Decimal(qty)
    if not received:
        return []
    docs = []
    for wh, part in _split(difference, received, item.currency).items():
        if not part:
            continue
        await _lock_state(session, company, item_code, wh)  # serialises with the stock's other movements
        sign = sa.case((Movement.kind.in_(tuple(costing.IN_KINDS)), 1), else_=-1)
        on_hand = Decimal((await session.execute(sa.select(sa.func.coalesce(sa.func.sum(sign * Movement.quantity), 0))
                                                 .where(Movement.company_id == company, Movement.item_code == item_code,
                                                        Movement.warehouse == wh, Movement.movement_date <= on)))
                          .scalar_one())
        q = received[wh]
        to_stock = money.quantize(part * min(max(on_hand, ZERO), q) / q, item.currency)
        seq_no = await allocate(session, f"doc:{company}:revaluation:{on.year}")
        doc = MovementDoc(id=str(uuid7()), company_id=company, number=f"PD-{on.year}-{seq_no:06d}", kind="revaluation",
                          movement_date=on, warehouse=wh, partner="", reference=supplier_invoice_number,
                          idempotency_key=None, request_hash="", created_at=utcnow())
        session.add(doc)
        await session.flush()
        adjustments: list[tuple[Movement, Decimal, Item]] = []
        movement_id = doc.id
        if to_stock:
            m = Movement(id=str(uuid7()), seq=await allocate(session, "movement"), doc_id=doc.id, line_no=1,
                         company_id=company, item_code=item_code, warehouse=wh, movement_date=on, kind="revaluation",
                         quantity=ZERO, cost=to_stock, published_cost=to_stock)
            await _cost_line(session, item, wh, m, f"{doc.number} ({item_code})", adjustments)
            session.add(m)
            await session.flush()
        mp = lambda v: money.to_proto(v, item.currency)  # noqa: E731
        add_event(session, ev.PriceDifferenceAllocated(
            company_id=company, document_number=doc.number, occurrence_date=dates.to_proto(on),
            movement_id=movement_id, supplier_invoice_id=supplier_invoice_id,
            supplier_invoice_number=supplier_invoice_number, purchase_order_ref=purchase_order_ref,
            item_code=item_code, item_category=item.category, warehouse=wh, inventory_change=mp(to_stock),
            cost_of_sales_change=mp(part - to_stock), total=mp(part),
            dimensions=types_pb2.Dimensions(product=item_code)), source=source)
        for old, change, it in adjustments:
            _publish_adjustment(session, doc, old, change, it, source)
        docs.append(doc)
    return docs

