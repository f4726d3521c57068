"""Record stock movements, cost them, and publish what the ledger must post.

Every document (receipt, issue, customer return, stock count) is costed line by line in
the transaction that records it. Per item and warehouse a movement dated on or after the
latest one is costed from the saved running state; a backdated one replays that stock's
history in date order, and every later movement whose cost changes yields a CostAdjusted
event for the difference, so the ledger ends where in-order costing would have put it.
Stock is locked per item and warehouse (SELECT ... FOR UPDATE on PostgreSQL).

What a document may say (checked before anything is written; errors name the client's
documents, never internal ids):
- quantities have at most 6 decimals; unit costs are >= 0 with at most 6 decimals;
- a receipt line's value, quantity x unit cost rounded half up to the currency's minor
  unit, is above zero: a receipt the ledger cannot post (0.0000000001 a unit) is refused
  (goods that arrive free are a stock count gain), and below fincore's MAX_DOCUMENT_AMOUNT;
- a return names the document it returns (optional; `returns_document` with the line's item,
  or `returns_movement_id`): a customer return an issue, a return to the supplier a
  receipt, of the same company and item, dated on or after it, and for no more than it
  moved less what earlier returns of it took (concurrent returns are serialised on the
  original's row)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from finance.common.v1 import types_pb2
from finance.inventory.v1 import events_pb2 as ev
from fincore import dates, money
from fincore.db import bulk_insert, locked
from fincore.outbox import add_event
from fincore.sequences import allocate
from fincore.tables import utcnow
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils import uuid7

from inventory.adapters.tables import Item, Movement, MovementDoc, StockState, Warehouse
from inventory.domain import costing

DOC_PREFIX = {"receipt": "GR", "issue": "GI", "customer_return": "RT", "supplier_return": "RS", "count": "SC",
              "transfer": "TR"}


class InventoryError(ValueError):
    pass


@dataclass(frozen=True)
class LineIn:
    item: str
    quantity: Decimal = Decimal(0)
    unit_cost: Decimal | None = None
    returns_movement_id: str | None = None
    counted_quantity: Decimal | None = None  # stock counts: the quantity found
    returns_document: str | None = None  # a return: the number of the issue / receipt it returns ...
    returns_line: int | None = None  # ... and its line, when the item is on several


QTY_DECIMALS = UNIT_COST_DECIMALS = 6
RETURN_OF = {"customer_return": "issue", "supplier_return": "receipt"}


def _decimals(v: Decimal) -> int:
    return max(0, -v.normalize().as_tuple().exponent)


@dataclass(frozen=True)
class _Original:
    """The movement a return line returns, with its document's number (what errors name)."""

    movement: Movement
    number: str


async def _lock_state(session: AsyncSession, company: str, item: str, warehouse: str) -> StockState | None:
    q = locked(sa.select(StockState).where(StockState.company_id == company, StockState.item_code == item,
                                           StockState.warehouse == warehouse))
    return (await session.execute(q)).scalar_one_or_none()


def _domain(m: Movement, label: str = "") -> costing.Movement:
    return costing.Movement(m.id, m.movement_date, m.seq, m.kind, m.quantity, m.unit_cost_in, m.returns_movement_id,
                            m.cost if m.kind in ("transfer_in", "revaluation") else None, label)


async def _cost_line(session: AsyncSession, item: Item, warehouse: str, m: Movement, label: str,
                     adjustments: list[tuple[Movement, Decimal, Item]]) -> None:
    """Cost movement `m` (added to the session by the caller) and any later ones it changes."""
    state = await _lock_state(session, item.company_id, item.code, warehouse)
    if state is None or m.movement_date >= state.last_date:
        stock = costing.Stock.restore(item.costing_method, item.currency, state.snapshot if state else None)
        unit_costs = {}
        if m.returns_movement_id:
            orig = await session.get(Movement, m.returns_movement_id)
            unit_costs[orig.id] = orig.cost / orig.quantity
        try:
            m.cost = costing.apply(stock, _domain(m, label), unit_costs)
        except costing.CostingError as exc:
            raise InventoryError(str(exc)) from exc
        m.published_cost = m.cost
        snap = stock.snapshot()
        if state is None:
            session.add(StockState(company_id=item.company_id, item_code=item.code, warehouse=warehouse,
                                   last_date=m.movement_date, snapshot=snap))
        else:
            state.last_date, state.snapshot = m.movement_date, snap
        return
    # Backdated: replay this stock's history with the new movement in its place.
    rows = (await session.execute(sa.select(Movement, MovementDoc.number).join(
        MovementDoc, MovementDoc.id == Movement.doc_id).where(
        Movement.company_id == item.company_id, Movement.item_code == item.code, Movement.warehouse == warehouse,
        Movement.id != m.id))).all()
    history = [h for h, _ in rows]
    try:
        stock, costs = costing.replay(item.costing_method, item.currency, [
            *(_domain(h, f"{number} line {h.line_no} ({h.item_code})") for h, number in rows), _domain(m, label)])
    except costing.CostingError as exc:
        raise InventoryError(f"backdated {m.kind} on {m.movement_date}: {exc}") from exc
    m.cost = m.published_cost = costs[m.id]
    for old in history:
        new = costs[old.id]
        if new != old.published_cost and old.kind in ("supplier_return", "transfer_out"):
            what = "return to the supplier" if old.kind == "supplier_return" else "transfer"
            raise InventoryError(f"backdated {m.kind} on {m.movement_date} would re-cost the {what} of "
                                 f"{old.movement_date}; record movements before it in date order")
        if new != old.published_cost:
            adjustments.append((old, new - old.published_cost, item))
            old.published_cost = new
        old.cost = new
    state.snapshot = stock.snapshot()


async def record_document(session: AsyncSession, *, company: str, kind: str, movement_date: dt.date, warehouse: str,
                          lines: list[LineIn], partner: str = "", reference: str = "", source: str = "inventory",
                          idempotency_key: str | None = None, digest: str = "") -> tuple[MovementDoc, list[Movement]]:
    if kind not in DOC_PREFIX:
        raise InventoryError(f"unknown document kind {kind!r}")
    if await session.get(Warehouse, (company, warehouse)) is None:
        raise InventoryError(f"unknown warehouse {warehouse!r}")
    if not lines:
        raise InventoryError("a document needs at least one line")
    seq_no = await allocate(session, f"doc:{company}:{kind}:{movement_date.year}")
    number = f"{DOC_PREFIX[kind]}-{movement_date.year}-{seq_no:06d}"
    doc = MovementDoc(id=str(uuid7()), company_id=company, number=number,
                      kind=kind, movement_date=movement_date, warehouse=warehouse, partner=partner,
                      reference=reference, idempotency_key=idempotency_key, request_hash=digest, created_at=utcnow())
    session.add(doc)
    await session.flush()
    items = {it.code: it for it in (await session.execute(sa.select(Item).where(
        Item.company_id == company, Item.code.in_({ln.item for ln in lines})))).scalars()}
    for i, ln in enumerate(lines, 1):
        if ln.item not in items:
            raise InventoryError(f"line {i}: unknown item {ln.item!r}")
        _validate(i, kind, ln, items[ln.item])
    originals = await _resolve_originals(session, company, kind, movement_date, lines)
    q = locked(sa.select(StockState).where(StockState.company_id == company, StockState.warehouse == warehouse,
                                           StockState.item_code.in_(items))
               .order_by(StockState.item_code))  # in item order: concurrent documents lock in the same order
    states = {st.item_code: st for st in (await session.execute(q)).scalars()}
    if not any(st.last_date > movement_date for st in states.values()):
        movements = await _record_in_order(session, doc, kind, lines, items, states, originals)
        _publish(session, doc, movements, source, _origin(originals, lines))
        return doc, [m for m, _ in movements]
    movements: list[tuple[Movement, Item]] = []
    adjustments: list[tuple[Movement, Decimal, Item]] = []
    for i, ln in enumerate(lines, 1):
        item = await session.get(Item, (company, ln.item))
        if item is None:
            raise InventoryError(f"line {i}: unknown item {ln.item!r}")
        m_kind, qty, unit_cost = kind, ln.quantity, ln.unit_cost
        if kind == "count":
            state = await _lock_state(session, company, item.code, warehouse)
            on_hand = Decimal(state.snapshot["quantity"]) if state else Decimal(0)
            diff = ln.counted_quantity - on_hand
            if diff == 0:
                continue
            m_kind, qty = ("adjustment_in", diff) if diff > 0 else ("adjustment_out", -diff)
        seq = await allocate(session, "movement")
        m = Movement(id=str(uuid7()), seq=seq, doc_id=doc.id, line_no=i, company_id=company, item_code=item.code,
                     warehouse=warehouse, movement_date=movement_date, kind=m_kind, quantity=qty,
                     unit_cost_in=unit_cost, returns_movement_id=originals[i].movement.id if i in originals else None,
                     cost=Decimal(0), published_cost=Decimal(0))
        await _cost_line(session, item, warehouse, m, f"line {i} ({item.code})", adjustments)
        session.add(m)
        movements.append((m, item))
    await session.flush()
    _publish(session, doc, movements, source, _origin(originals, lines))
    for old, change, item in adjustments:
        _publish_adjustment(session, doc, old, change, item, source)
    return doc, [m for m, _ in movements]


async def record_transfer(session: AsyncSession, *, company: str, movement_date: dt.date, from_warehouse: str,
                          to_warehouse: str, lines: list[LineIn], reference: str = "", source: str = "inventory",
                          idempotency_key: str | None = None, digest: str = "") -> tuple[MovementDoc, list[Movement]]:
    """Move goods between two warehouses at their cost: out of one stock (costed as an issue),
    into the other with exactly that value. Recorded in date order only: a transfer dated
    before later movements of either stock is refused (its cost would have to travel)."""
    if from_warehouse == to_warehouse:
        raise InventoryError("a transfer needs two different warehouses")
    for wh in (from_warehouse, to_warehouse):
        if await session.get(Warehouse, (company, wh)) is None:
            raise InventoryError(f"unknown warehouse {wh!r}")
    if not lines:
        raise InventoryError("a document needs at least one line")
    items = {it.code: it for it in (await session.execute(sa.select(Item).where(
        Item.company_id == company, Item.code.in_({ln.item for ln in lines})))).scalars()}
    for i, ln in enumerate(lines, 1):
        if ln.item not in items:
            raise InventoryError(f"line {i}: unknown item {ln.item!r}")
        _validate(i, "transfer", ln, items[ln.item])
    q = locked(sa.select(StockState).where(StockState.company_id == company,
                                           StockState.warehouse.in_((from_warehouse, to_warehouse)),
                                           StockState.item_code.in_(items))
               .order_by(StockState.warehouse, StockState.item_code))
    states = {(st.warehouse, st.item_code): st for st in (await session.execute(q)).scalars()}
    late = sorted(f"{k[1]} in {k[0]}" for k, st in states.items() if st.last_date > movement_date)
    if late:
        raise InventoryError(f"a transfer is recorded in date order; later movements exist for {', '.join(late)}")
    seq_no = await allocate(session, f"doc:{company}:transfer:{movement_date.year}")
    doc = MovementDoc(id=str(uuid7()), company_id=company, number=f"TR-{movement_date.year}-{seq_no:06d}",
                      kind="transfer", movement_date=movement_date, warehouse=from_warehouse, partner=to_warehouse,
                      reference=reference, idempotency_key=idempotency_key, request_hash=digest, created_at=utcnow())
    session.add(doc)
    await session.flush()
    stocks = {(wh, code): costing.Stock.restore(it.costing_method, it.currency,
                                                states[(wh, code)].snapshot if (wh, code) in states else None)
              for code, it in items.items() for wh in (from_warehouse, to_warehouse)}
    first = await allocate(session, "movement", 2 * len(lines))
    out_moves: list[tuple[Movement, Item]] = []
    all_moves: list[Movement] = []
    for i, ln in enumerate(lines, 1):
        item = items[ln.item]
        out = Movement(id=str(uuid7()), seq=first + 2 * i - 2, doc_id=doc.id, line_no=i, company_id=company,
                       item_code=item.code, warehouse=from_warehouse, movement_date=movement_date, kind="transfer_out",
                       quantity=ln.quantity, cost=Decimal(0), published_cost=Decimal(0))
        try:
            out.cost = out.published_cost = costing.apply(stocks[(from_warehouse, item.code)],
                                                          _domain(out, f"line {i} ({item.code})"), {})
        except costing.CostingError as exc:
            raise InventoryError(str(exc)) from exc
        inn = Movement(id=str(uuid7()), seq=first + 2 * i - 1, doc_id=doc.id, line_no=i, company_id=company,
                       item_code=item.code, warehouse=to_warehouse, movement_date=movement_date, kind="transfer_in",
                       quantity=ln.quantity, unit_cost_in=out.cost / ln.quantity, cost=out.cost,
                       published_cost=out.cost)
        costing.apply(stocks[(to_warehouse, item.code)], _domain(inn), {})
        out_moves.append((out, item))
        all_moves += [out, inn]
    for wh, code in {(m.warehouse, m.item_code) for m in all_moves}:
        if (wh, code) in states:
            states[(wh, code)].snapshot, states[(wh, code)].last_date = stocks[(wh, code)].snapshot(), movement_date
        else:
            session.add(StockState(company_id=company, item_code=code, warehouse=wh, last_date=movement_date,
                                   snapshot=stocks[(wh, code)].snapshot()))
    await _insert_movements(session, all_moves)
    _publish(session, doc, out_moves, source)
    return doc, all_moves


async def _insert_movements(session: AsyncSession, movements: list[Movement]) -> None:
    cols = [c.name for c in Movement.__table__.columns]
    await bulk_insert(session, Movement.__table__, [{c: getattr(m, c) for c in cols} for m in movements])


def _validate(i: int, kind: str, ln: LineIn, item: Item) -> None:
    qty = ln.counted_quantity if kind == "count" else ln.quantity
    if kind == "count" and (qty is None or qty < 0):
        raise InventoryError(f"line {i}: a stock count needs counted_quantity >= 0")
    if kind != "count" and qty <= 0:
        raise InventoryError(f"line {i}: quantity must be positive")
    if _decimals(qty) > QTY_DECIMALS:
        raise InventoryError(f"line {i}: quantity {qty} has more than {QTY_DECIMALS} decimals")
    if ln.unit_cost is not None and (ln.unit_cost < 0 or _decimals(ln.unit_cost) > UNIT_COST_DECIMALS):
        raise InventoryError(f"line {i}: a unit cost is >= 0 with at most {UNIT_COST_DECIMALS} decimals "
                             f"(got {ln.unit_cost})")
    if ln.unit_cost is not None and qty * ln.unit_cost >= money.MAX_DOCUMENT_AMOUNT:
        raise InventoryError(f"line {i}: a line's value is less than {money.MAX_DOCUMENT_AMOUNT:,} "
                             "(the ledger's limit)")
    if kind == "receipt":
        if ln.unit_cost is None:
            raise InventoryError(f"line {i}: a receipt needs a unit_cost")
        value = money.quantize(ln.quantity * ln.unit_cost, item.currency)
        if value <= 0:
            raise InventoryError(f"line {i}: {format(ln.quantity.normalize(), 'f')} x {ln.unit_cost} {item.currency} "
                                 f"is {value} at the currency's minor unit; a receipt carries a value the ledger can "
                                 "post (goods that arrive free are a stock count gain)")
    if (ln.returns_movement_id or ln.returns_document) and kind not in RETURN_OF:
        raise InventoryError(f"line {i}: only a return names the document it returns")


async def _resolve_originals(session: AsyncSession, company: str, kind: str, movement_date: dt.date,
                             lines: list[LineIn]) -> dict[int, _Original]:
    """Each return line's original movement (by line number): of this company, of the kind
    returned and of the same item, with enough quantity left to return. The originals are
    locked (FOR UPDATE on PostgreSQL, in sequence order) before the quantities already
    returned are read, so concurrent returns of one movement cannot together exceed it."""
    wanted = {i: ln for i, ln in enumerate(lines, 1) if ln.returns_movement_id or ln.returns_document}
    if not wanted:
        return {}
    expected = RETURN_OF[kind]
    found: dict[int, _Original] = {}
    for i, ln in wanted.items():
        q = (sa.select(Movement, MovementDoc.number).join(MovementDoc, MovementDoc.id == Movement.doc_id)
             .where(MovementDoc.company_id == company))
        if ln.returns_document:
            q = q.where(MovementDoc.number == ln.returns_document, Movement.item_code == ln.item)
            if ln.returns_line:
                q = q.where(Movement.line_no == ln.returns_line)
            what = ln.returns_document + (f" line {ln.returns_line}" if ln.returns_line else "")
        else:
            q, what = q.where(Movement.id == ln.returns_movement_id), f"movement {ln.returns_movement_id}"
        rows = (await session.execute(q)).all()
        if not rows:
            raise InventoryError(f"line {i}: {what} is not a document line of {ln.item} in company {company}")
        if len(rows) > 1:
            raise InventoryError(f"line {i}: {what} has several lines of {ln.item}; name one with returns_line")
        orig, number = rows[0]
        if orig.kind != expected or orig.item_code != ln.item:
            article = "an" if expected == "issue" else "a"
            raise InventoryError(f"line {i}: {number} line {orig.line_no} is not {article} {expected} of {ln.item}: "
                                 f"a {kind.replace('_', ' ')} returns {expected}s")
        if movement_date < orig.movement_date:
            raise InventoryError(f"line {i}: a return cannot predate {number} ({orig.movement_date.isoformat()})")
        found[i] = _Original(orig, number)
    ids = sorted({o.movement.id for o in found.values()})
    await session.execute(sa.select(Movement.id).where(Movement.id.in_(ids)).order_by(Movement.seq)
                          .with_for_update())
    returned = {k: Decimal(v) for k, v in (await session.execute(
        sa.select(Movement.returns_movement_id, sa.func.sum(Movement.quantity))
        .where(Movement.returns_movement_id.in_(ids), Movement.kind == kind)
        .group_by(Movement.returns_movement_id))).all()}
    for i, o in sorted(found.items()):
        qty, done = lines[i - 1].quantity, returned.get(o.movement.id, Decimal(0))
        if done + qty > o.movement.quantity:
            n = lambda v: format(v.normalize(), "f")  # noqa: E731
            raise InventoryError(
                f"line {i}: returning {n(qty)} {o.movement.item_code} of {o.number} line {o.movement.line_no}, which "
                f"moved {n(o.movement.quantity)} of which {n(done)} {'is' if done == 1 else 'are'} already returned")
        returned[o.movement.id] = done + qty
    return found


async def _record_in_order(session: AsyncSession, doc: MovementDoc, kind: str, lines: list[LineIn],
                           items: dict[str, Item], states: dict[str, StockState],
                           originals: dict[int, _Original]) -> list[tuple[Movement, Item]]:
    """No line is dated before its stock's latest movement: cost everything in memory from
    the saved running states and write the movements in one statement."""
    stocks = {code: costing.Stock.restore(it.costing_method, it.currency, states[code].snapshot if code in states
                                          else None) for code, it in items.items()}
    unit_costs = {o.movement.id: o.movement.cost / o.movement.quantity for o in originals.values()}
    first = await allocate(session, "movement", len(lines))
    movements: list[tuple[Movement, Item]] = []
    for i, ln in enumerate(lines, 1):
        item, stock = items[ln.item], stocks[ln.item]
        m_kind, qty = kind, ln.quantity
        if kind == "count":
            diff = ln.counted_quantity - stock.quantity
            if diff == 0:
                continue
            m_kind, qty = ("adjustment_in", diff) if diff > 0 else ("adjustment_out", -diff)
        m = Movement(id=str(uuid7()), seq=first + i - 1, doc_id=doc.id, line_no=i, company_id=doc.company_id,
                     item_code=item.code, warehouse=doc.warehouse, movement_date=doc.movement_date, kind=m_kind,
                     quantity=qty, unit_cost_in=ln.unit_cost,
                     returns_movement_id=originals[i].movement.id if i in originals else None,
                     cost=Decimal(0), published_cost=Decimal(0))
        try:
            m.cost = m.published_cost = costing.apply(stock, _domain(m, f"line {i} ({item.code})"), unit_costs)
        except costing.CostingError as exc:
            raise InventoryError(str(exc)) from exc
        movements.append((m, item))
    for code in {m.item_code for m, _ in movements}:
        if code in states:
            states[code].snapshot, states[code].last_date = stocks[code].snapshot(), doc.movement_date
        else:
            session.add(StockState(company_id=doc.company_id, item_code=code, warehouse=doc.warehouse,
                                   last_date=doc.movement_date, snapshot=stocks[code].snapshot()))
    await _insert_movements(session, [m for m, _ in movements])
    return movements


def _money(v: Decimal, cur: str) -> types_pb2.Money:
    return money.to_proto(v, cur)


def _origin(originals: dict[int, _Original], lines: list[LineIn]) -> str:
    """The one document a return returns (every line names a line of it), else ""."""
    docs = {o.movement.doc_id for o in originals.values()}
    return docs.pop() if len(docs) == 1 and len(originals) == len(lines) else ""


def _publish(session: AsyncSession, doc: MovementDoc, movements: list[tuple[Movement, Item]], source: str,
             origin: str = "") -> None:
    if not movements:
        return
    cur = movements[0][1].currency
    lines = [ev.MovementLine(line_no=m.line_no, item_code=m.item_code, item_category=it.category,
                             warehouse=m.warehouse, quantity=format(m.quantity.normalize(), "f"),
                             unit_cost=_money(money.price(m.cost / m.quantity), cur),
                             total_cost=_money(m.cost, cur),
                             dimensions=types_pb2.Dimensions(product=m.item_code))
             for m, it in movements]
    total = sum((m.cost for m, _ in movements), Decimal(0))
    common = dict(company_id=doc.company_id, document_number=doc.number,
                  occurrence_date=dates.to_proto(doc.movement_date), movement_id=doc.id)
    if doc.kind == "receipt":
        msg = ev.GoodsReceived(**common, purchase_order_ref=doc.reference, supplier_code=doc.partner, lines=lines,
                               total_cost=_money(total, cur))
    elif doc.kind == "issue":
        msg = ev.GoodsIssued(**common, sales_order_ref=doc.reference, customer_code=doc.partner, lines=lines,
                             total_cost=_money(total, cur))
    elif doc.kind == "transfer":
        msg = ev.StockTransferred(**common, from_warehouse=doc.warehouse, to_warehouse=doc.partner, lines=lines,
                                  total_cost=_money(total, cur))
    elif doc.kind == "supplier_return":
        msg = ev.GoodsReturnedToSupplier(**common, purchase_order_ref=doc.reference, supplier_code=doc.partner,
                                         lines=lines, total_cost=_money(total, cur))
    elif doc.kind == "customer_return":
        msg = ev.GoodsReturned(**common, sales_order_ref=doc.reference, customer_code=doc.partner, lines=lines,
                               total_cost=_money(total, cur), original_movement_id=origin)
    else:  # a count: one StockAdjusted per item category, each posted to its category's account
        categories = sorted({it.category for _, it in movements})
        for category in categories:
            mine = [(m, ln) for (m, it), ln in zip(movements, lines, strict=True) if it.category == category]
            change = sum((m.cost if m.kind == "adjustment_in" else -m.cost for m, _ in mine), Decimal(0))
            suffix = f"/{category}" if len(categories) > 1 else ""
            add_event(session, ev.StockAdjusted(
                **(common | {"document_number": doc.number + suffix, "movement_id": doc.id + suffix}),
                reason=doc.reference or "stock count", lines=[ln for _, ln in mine],
                value_change=_money(change, cur), item_category=category), source=source)
        return
    add_event(session, msg, source=source)


def _publish_adjustment(session: AsyncSession, doc: MovementDoc, old: Movement, change: Decimal, item: Item,
                        source: str) -> None:
    """The cost of an earlier-costed movement changed: the ledger posts the difference to cost
    of sales (positive: more cost of sales, less inventory). Dated on the adjusted movement,
    so the books match in-order costing as of every date."""
    cogs_change = change if old.kind in costing.OUT_KINDS else -change
    add_event(session, ev.CostAdjusted(
        company_id=old.company_id, document_number=f"{doc.number}/ADJ-{old.seq}",
        occurrence_date=dates.to_proto(old.movement_date), movement_id=f"{doc.id}:{old.id}",
        adjusted_movement_id=old.id, item_code=old.item_code, item_category=item.category,
        cost_change=_money(cogs_change, item.currency)), source=source)


async def valuation(session: AsyncSession, company: str, as_of: dt.date, warehouse: str | None = None) -> dict:
    """Quantity and value per item and warehouse as of a date, from the movements' current costs."""
    sign = sa.case((Movement.kind.in_(tuple(costing.IN_KINDS)), 1), else_=-1)
    q = (sa.select(Movement.item_code, Movement.warehouse, sa.func.sum(sign * Movement.quantity),
                   sa.func.sum(sign * Movement.cost))
         .where(Movement.company_id == company, Movement.movement_date <= as_of)
         .group_by(Movement.item_code, Movement.warehouse).order_by(Movement.item_code, Movement.warehouse))
    if warehouse:
        q = q.where(Movement.warehouse == warehouse)
    rows = (await session.execute(q)).all()
    currency = {i.code: i.currency for i in (await session.execute(
        sa.select(Item).where(Item.company_id == company))).scalars()}
    items = [{"item": i, "warehouse": w, "quantity": format(Decimal(qty).normalize(), "f"),
              "value": money.format_amount(Decimal(val), currency[i])} for i, w, qty, val in rows if qty or val]
    total = sum((Decimal(x["value"]) for x in items), Decimal(0))
    return {"company": company, "as_of": as_of.isoformat(), "lines": items, "total_value": str(total)}
