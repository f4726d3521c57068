"""In-process budget control, pure: may this spend go ahead on this budget line?

Figures of a line (all in the budget's currency):
- budget: the approved amount of the effective version;
- actual: journal lines the GL posted to the line's accounts and cost centre;
- committed: approved invoices whose journal has not arrived yet;
- consumed = actual + committed;
- reserved: open encumbrances (requisitions, orders, claims) that have not lapsed;
- available = budget - consumed - reserved.

A spend is compared in the line's currency: one asked in another currency is converted first
(at the ledger's rate of the day, by the service layer) and the decision carries the conversion.

A spend of `amount` fits when amount <= budget x (1 + tolerance %) - consumed - reserved.
BLOCK refuses a spend that does not fit, WARN lets it through with a warning, NONE only
tracks. Thresholds (80 %, 100 %) are on (consumed + reserved) / budget."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from fincore.money import quantize

if TYPE_CHECKING:
    from fincore.rates import Conversion

ZERO = Decimal(0)
THRESHOLDS = (80, 100)
MODES = ("block", "warn", "none")


@dataclass(frozen=True)
class LineFigures:
    line_id: str
    currency: str
    budget: Decimal
    tolerance_pct: Decimal
    control_mode: str
    actual: Decimal = ZERO
    committed: Decimal = ZERO
    reserved: Decimal = ZERO

    @property
    def consumed(self) -> Decimal:
        return self.actual + self.committed

    @property
    def available(self) -> Decimal:
        return self.budget - self.consumed - self.reserved

    @property
    def headroom(self) -> Decimal:
        """What may still be spent, tolerance included."""
        return self.budget * (1 + self.tolerance_pct / 100) - self.consumed - self.reserved

    @property
    def used_pct(self) -> Decimal:
        if self.budget <= 0:
            return Decimal(100) if self.consumed + self.reserved > 0 else ZERO
        return (self.consumed + self.reserved) * 100 / self.budget


@dataclass(frozen=True)
class Decision:
    allowed: bool
    warning: bool
    reason: str
    figures: LineFigures | None
    requested: Decimal = ZERO  # in the line's currency
    conversion: Conversion | None = None  # set when the spend was asked in another currency

    @property
    def control_mode(self) -> str:
        return self.figures.control_mode if self.figures else ""


def refused(reason: str, requested: Decimal = ZERO, figures: LineFigures | None = None) -> Decision:
    return Decision(False, False, reason, figures, requested)


def decide(f: LineFigures, amount: Decimal) -> Decision:
    if amount <= f.headroom:
        return Decision(True, False, "within budget", f, amount)
    q = lambda v: quantize(v, f.currency)  # noqa: E731
    over = (f"over budget by {q(amount - f.headroom)}: requested {q(amount)}, budget {q(f.budget)}"
            f"{f' (+{f.tolerance_pct.normalize()}% tolerance)' if f.tolerance_pct else ''}, consumed {q(f.consumed)}, "
            f"reserved {q(f.reserved)}, available {q(f.available)}")
    if f.control_mode == "block":
        return Decision(False, False, over, f, amount)
    if f.control_mode == "warn":
        return Decision(True, True, f"{over} (warn-only line)", f, amount)
    return Decision(True, False, f"{over} (uncontrolled line)", f, amount)


def crossed(before: LineFigures, after: LineFigures) -> list[int]:
    """Thresholds that `after` reaches and `before` did not."""
    return [t for t in THRESHOLDS if after.used_pct >= t > before.used_pct]


def reached(f: LineFigures) -> list[int]:
    return [t for t in THRESHOLDS if f.used_pct >= t]
