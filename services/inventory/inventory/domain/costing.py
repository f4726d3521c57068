"""Inventory costing, pure: moving average and FIFO, in exact Decimal arithmetic.

Rounding rule (documented, because it decides whether "zero quantity" means "zero value"):
- Unit costs and averages are kept unrounded (Decimal, 28 significant digits).
- The cost of a movement is rounded half-up to the currency's minor unit.
- An issue that takes the last unit of a stock (moving average) or of a FIFO layer takes
  exactly the value that is left, so a quantity of zero always carries a value of zero and
  the rounding differences end up in the cost of sales, never in the balance sheet.

The engine replays movements in (date, arrival sequence) order. Appending a movement dated
after all others is the fast path; a backdated one is replayed from the start, and the
differences to the costs already published become cost adjustments.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from fincore.money import quantize

ZERO = Decimal(0)
MOVING_AVERAGE, FIFO = "moving_average", "fifo"
# A revaluation moves value, not quantity: a purchase price difference re-costs the stock on hand.
IN_KINDS = {"receipt", "customer_return", "adjustment_in", "transfer_in", "revaluation"}
OUT_KINDS = {"issue", "adjustment_out", "supplier_return", "transfer_out"}


class CostingError(ValueError):
    pass


class NegativeStock(CostingError):
    pass


@dataclass
class Movement:
    id: str
    date: dt.date
    seq: int  # arrival order: ties on a date keep the order movements arrived in
    kind: str  # receipt | issue | customer_return | supplier_return | adjustment_in | adjustment_out
    quantity: Decimal  # always positive; the kind gives the direction
    unit_cost: Decimal | None = None  # given for receipts (and adjustments in, if known)
    returns_movement_id: str | None = None  # a customer return re-enters at the issue's unit cost
    value: Decimal | None = None  # a transfer in arrives with exactly the value that left the other stock
    label: str = ""  # how errors name it: the client's document and line, never an internal id

    @property
    def name(self) -> str:
        return self.label or f"{self.kind} {self.id}"

    @property
    def sort_key(self) -> tuple:
        return (self.date, self.seq)


@dataclass
class Layer:
    quantity: Decimal
    unit_cost: Decimal
    value: Decimal  # what is left of the layer's value (exact at the last unit)


@dataclass
class Stock:
    method: str
    currency: str
    quantity: Decimal = ZERO
    value: Decimal = ZERO
    layers: list[Layer] = field(default_factory=list)

    @property
    def unit_cost(self) -> Decimal:
        return self.value / self.quantity if self.quantity else ZERO

    def receive(self, quantity: Decimal, unit_cost: Decimal, value: Decimal | None = None) -> Decimal:
        value = quantize(quantity * unit_cost, self.currency) if value is None else value
        self.quantity += quantity
        self.value += value
        if self.method == FIFO:
            self.layers.append(Layer(quantity, unit_cost, value))
        return value

    def issue(self, quantity: Decimal, what: str) -> Decimal:
        if quantity > self.quantity:
            raise NegativeStock(f"{what}: issuing {quantity} with {self.quantity} on hand")
        if self.method == MOVING_AVERAGE:
            cost = self.value if quantity == self.quantity else quantize(quantity * self.unit_cost, self.currency)
        else:
            cost, left = ZERO, quantity
            while left:
                layer = self.layers[0]
                take = min(left, layer.quantity)
                part = layer.value if take == layer.quantity else quantize(take * layer.unit_cost, self.currency)
                layer.quantity -= take
                layer.value -= part
                cost += part
                left -= take
                if not layer.quantity:
                    self.layers.pop(0)
        self.quantity -= quantity
        self.value -= cost
        if not self.quantity:
            self.value = ZERO  # exact by construction; kept as an invariant
        return cost

    def revalue(self, value: Decimal, what: str) -> None:
        """Add `value` (signed) to the stock on hand; FIFO spreads it over the layers left, pro rata
        to their quantity (the last layer takes the rounding)."""
        if not self.quantity:
            raise CostingError(f"{what}: no stock on hand to take a price difference")
        if self.value + value < 0:
            raise CostingError(f"{what}: a price difference of {value} exceeds the stock's value {self.value}")
        self.value += value
        if self.method == FIFO:
            left = value
            for layer in self.layers[:-1]:
                part = quantize(value * layer.quantity / self.quantity, self.currency)
                layer.value += part
                layer.unit_cost = layer.value / layer.quantity
                left -= part
            last = self.layers[-1]
            last.value += left
            last.unit_cost = last.value / last.quantity

    def snapshot(self) -> dict:
        return {"quantity": str(self.quantity), "value": str(self.value),
                "layers": [[str(x.quantity), str(x.unit_cost), str(x.value)] for x in self.layers]}

    @classmethod
    def restore(cls, method: str, currency: str, snap: dict | None) -> Stock:
        if not snap:
            return cls(method, currency)
        return cls(method, currency, Decimal(snap["quantity"]), Decimal(snap["value"]),
                   [Layer(Decimal(a), Decimal(b), Decimal(c)) for a, b, c in snap["layers"]])


def apply(stock: Stock, m: Movement, issue_unit_costs: dict[str, Decimal]) -> Decimal:
    """Apply one movement; returns its cost (positive in, positive out)."""
    if m.kind == "revaluation":
        if m.value is None:
            raise CostingError(f"{m.name}: the value of a revaluation is required")
        stock.revalue(m.value, f"{m.name} on {m.date}")
        return m.value
    if m.quantity <= 0:
        raise CostingError(f"{m.name}: quantity must be positive")
    if m.kind == "receipt":
        if m.unit_cost is None or m.unit_cost < 0:
            raise CostingError(f"{m.name}: a unit cost (>= 0) is required")
        return stock.receive(m.quantity, m.unit_cost)
    if m.kind == "customer_return":
        unit = issue_unit_costs.get(m.returns_movement_id or "", stock.unit_cost if stock.quantity else m.unit_cost)
        if unit is None:
            raise CostingError(f"{m.name}: no cost to return at (no stock and no original issue)")
        return stock.receive(m.quantity, unit)
    if m.kind == "transfer_in":
        if m.value is None:
            raise CostingError(f"{m.name}: the value that left the other warehouse is required")
        return stock.receive(m.quantity, m.value / m.quantity, m.value)
    if m.kind == "adjustment_in":
        unit = m.unit_cost if m.unit_cost is not None else stock.unit_cost
        return stock.receive(m.quantity, unit)
    if m.kind in OUT_KINDS:
        cost = stock.issue(m.quantity, f"{m.name} on {m.date}")
        issue_unit_costs[m.id] = cost / m.quantity
        return cost
    raise CostingError(f"unknown movement kind {m.kind!r}")


def replay(method: str, currency: str, movements: list[Movement]) -> tuple[Stock, dict[str, Decimal]]:
    """Cost every movement in date order from nothing; returns the final stock and each cost."""
    stock = Stock(method, currency)
    costs: dict[str, Decimal] = {}
    unit_costs: dict[str, Decimal] = {}
    for m in sorted(movements, key=lambda x: x.sort_key):
        costs[m.id] = apply(stock, m, unit_costs)
    return stock, costs
