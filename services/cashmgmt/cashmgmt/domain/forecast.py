"""The 13-week cash-flow forecast: when money is expected on the bank, per currency, week by week.

Sources, and the date each expects its cash:
- receivables: an open invoice's outstanding amount arrives on its due date plus the days its
  customer is late on average (learned from the payment history: each receipt applied to an
  invoice, weighted by amount, rounded half up to whole days; early payers have negative days;
  a customer without history pays on the due date);
- payables: AP says when its payment run would pay each open invoice and how much (the run's
  date, the discount date less the discount where the discount is still open, else the due
  date): the forecast takes AP's answer and does not decide payment rules itself;
- sales orders: the part not yet invoiced, invoiced on the order's expected delivery date (AR
  invoices a shipment when it ships; the order date where the CRM gave none; today when that
  has passed), due after the customer's payment terms, plus the customer's days late;
- purchase orders: the part not yet received, received on the order's expected receipt date
  (the order date where none was given; today when that has passed), paid after the
  supplier's net days;
- budget: a budget item mapped to the forecast is paid (or received) on a day of each month of
  its budget period, for what of the month's budget is still neither spent, committed nor
  reserved (spent or committed amounts are already above as invoices and orders).

An expected date before `as_of` (an overdue invoice) falls into week 1: it is expected now.
Week 1 starts on the Monday of `as_of`'s week; thirteen weeks follow. What falls after them is
counted as beyond the horizon. Currencies are never converted: each currency is its own forecast.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from fincore.money import quantize

WEEKS = 13
ZERO = Decimal(0)
SOURCES = ("receivables", "sales_orders", "payables", "purchase_orders", "budget")


class ForecastError(ValueError):
    pass


@dataclass(frozen=True)
class Flow:
    """One expected cash movement: positive money in, negative money out."""

    source: str
    currency: str
    expected_on: dt.date
    amount: Decimal
    document_kind: str
    document_id: str
    number: str
    party: str = ""
    basis: str = ""


# --- what the other contexts tell ---------------------------------------------------------
@dataclass(frozen=True)
class PaidInvoice:
    customer: str
    due_date: dt.date
    paid_on: dt.date
    amount: Decimal


@dataclass(frozen=True)
class OpenInvoice:
    id: str
    number: str
    customer: str
    currency: str
    due_date: dt.date
    outstanding: Decimal


@dataclass(frozen=True)
class OpenSalesOrder:
    id: str
    number: str
    customer: str
    currency: str
    expected_on: dt.date  # expected delivery, and so invoice, date
    not_invoiced: Decimal
    terms_days: int


@dataclass(frozen=True)
class ExpectedPayment:
    id: str
    number: str
    supplier: str
    currency: str
    pay_on: dt.date
    amount: Decimal
    basis: str


@dataclass(frozen=True)
class OpenPurchaseOrder:
    id: str
    number: str
    supplier: str
    currency: str
    expected_on: dt.date  # expected receipt date
    not_received: Decimal
    net_days: int


@dataclass(frozen=True)
class BudgetMonth:
    budget_item: str
    period: str  # YYYY-MM
    currency: str
    remaining: Decimal  # budget - consumed - reserved (may be negative: overspent)


@dataclass(frozen=True)
class BudgetMapping:
    budget_item: str
    direction: str  # "in" | "out"
    day_of_month: int


@dataclass(frozen=True)
class Inputs:
    open_invoices: Sequence[OpenInvoice] = ()
    history: Sequence[PaidInvoice] = ()
    sales_orders: Sequence[OpenSalesOrder] = ()
    payments: Sequence[ExpectedPayment] = ()
    purchase_orders: Sequence[OpenPurchaseOrder] = ()
    budget: Sequence[BudgetMonth] = ()
    mappings: Sequence[BudgetMapping] = ()


# --- the rules --------------------------------------------------------------------------
def days_late(history: Iterable[PaidInvoice]) -> dict[str, int]:
    """Average days between due date and payment per customer, weighted by the amount paid."""
    weighted: dict[str, tuple[Decimal, Decimal]] = {}
    for p in history:
        if p.amount <= 0:
            continue
        days, total = weighted.get(p.customer, (ZERO, ZERO))
        weighted[p.customer] = (days + p.amount * (p.paid_on - p.due_date).days, total + p.amount)
    return {c: int((d / t).to_integral_value(ROUND_HALF_UP)) for c, (d, t) in weighted.items() if t}


def first_monday(as_of: dt.date) -> dt.date:
    return as_of - dt.timedelta(days=as_of.weekday())


def horizon(as_of: dt.date) -> tuple[dt.date, dt.date]:
    """[start, end) of the thirteen weeks."""
    start = first_monday(as_of)
    return start, start + dt.timedelta(weeks=WEEKS)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if abs(n) == 1 else "s")


def _late(days: int) -> str:
    if days == 0:
        return "pays on the due date"
    return f"pays {_plural(abs(days), 'day')} {'late' if days > 0 else 'early'} on average"


def _expected(what: str, on: dt.date, as_of: dt.date) -> str:
    return f"expected {what} {on.isoformat()}" + (" (passed)" if on < as_of else "")


def _month_day(period: str, day: int) -> dt.date:
    try:
        y, m = (int(x) for x in period.split("-"))
        return dt.date(y, m, min(day, calendar.monthrange(y, m)[1]))
    except ValueError as exc:
        raise ForecastError(f"budget period {period!r} is not YYYY-MM") from exc


def flows(inputs: Inputs, as_of: dt.date) -> list[Flow]:
    """Every expected movement of cash, dated; amounts quantised to the currency's minor unit."""
    late = days_late(inputs.history)
    out: list[Flow] = []
    for inv in inputs.open_invoices:
        d = late.get(inv.customer, 0)
        out.append(Flow("receivables", inv.currency, inv.due_date + dt.timedelta(days=d),
                        quantize(inv.outstanding, inv.currency), "ar_invoice", inv.id, inv.number, inv.customer,
                        f"due {inv.due_date.isoformat()}; {inv.customer} {_late(d)}"))
    for so in inputs.sales_orders:
        d = late.get(so.customer, 0)
        invoiced = max(so.expected_on, as_of)
        out.append(Flow("sales_orders", so.currency, invoiced + dt.timedelta(days=so.terms_days + d),
                        quantize(so.not_invoiced, so.currency), "sales_order", so.id, so.number, so.customer,
                        f"{_expected('delivery', so.expected_on, as_of)}: invoiced {invoiced.isoformat()}, "
                        f"{_plural(so.terms_days, 'day')} terms; {so.customer} {_late(d)}"))
    for p in inputs.payments:
        out.append(Flow("payables", p.currency, p.pay_on, -quantize(p.amount, p.currency), "ap_invoice", p.id,
                        p.number, p.supplier, p.basis))
    for po in inputs.purchase_orders:
        received = max(po.expected_on, as_of)
        out.append(Flow("purchase_orders", po.currency, received + dt.timedelta(days=po.net_days),
                        -quantize(po.not_received, po.currency), "purchase_order", po.id, po.number, po.supplier,
                        f"{_expected('receipt', po.expected_on, as_of)}: received {received.isoformat()}, "
                        f"paid after {_plural(po.net_days, 'day')}"))
    mapped = {m.budget_item: m for m in inputs.mappings}
    _, end = horizon(as_of)
    for b in inputs.budget:
        m = mapped.get(b.budget_item)
        if m is None or b.remaining <= 0:
            continue
        on = _month_day(b.period, m.day_of_month)
        if not (as_of <= on < end):
            continue  # a past month's payday has passed; one after the horizon is not forecast
        sign = 1 if m.direction == "in" else -1
        out.append(Flow("budget", b.currency, on, sign * quantize(b.remaining, b.currency), "budget_line",
                        f"{b.budget_item}:{b.period}", f"{b.budget_item} {b.period}", "",
                        f"budget {b.period} not yet spent, committed or reserved; day {m.day_of_month}"))
    return out


def week_of(expected_on: dt.date, as_of: dt.date) -> int | None:
    """1..13, or None beyond the horizon; anything expected before `as_of` is expected now."""
    start, _ = horizon(as_of)
    n = (max(expected_on, as_of) - start).days // 7 + 1
    return n if n <= WEEKS else None


# --- the buckets ------------------------------------------------------------------------
@dataclass
class Bucket:
    week: int
    start: dt.date
    end: dt.date  # inclusive (a Sunday)
    inflows: dict[str, Decimal] = field(default_factory=dict)
    outflows: dict[str, Decimal] = field(default_factory=dict)
    documents: int = 0

    @property
    def inflow(self) -> Decimal:
        return sum(self.inflows.values(), ZERO)

    @property
    def outflow(self) -> Decimal:
        return sum(self.outflows.values(), ZERO)

    @property
    def net(self) -> Decimal:
        return self.inflow + self.outflow


@dataclass
class CurrencyForecast:
    currency: str
    opening: Decimal | None
    buckets: list[Bucket]
    beyond: Decimal = ZERO
    beyond_documents: int = 0

    def closing(self) -> list[Decimal | None]:
        """The balance at each week's end, from the opening balance (None without one)."""
        if self.opening is None:
            return [None] * len(self.buckets)
        out, running = [], self.opening
        for b in self.buckets:
            running += b.net
            out.append(running)
        return out


def summarise(dated: Iterable[tuple[int | None, Flow]], as_of: dt.date,
              opening: Mapping[str, Decimal] | None = None) -> dict[str, CurrencyForecast]:
    """Weekly buckets per currency (each currency with a flow or an opening balance)."""
    opening = opening or {}
    start, _ = horizon(as_of)
    out: dict[str, CurrencyForecast] = {}

    def of(cur: str) -> CurrencyForecast:
        if cur not in out:
            out[cur] = CurrencyForecast(cur, opening.get(cur), [
                Bucket(i + 1, start + dt.timedelta(weeks=i), start + dt.timedelta(weeks=i, days=6))
                for i in range(WEEKS)])
        return out[cur]

    for cur in opening:
        of(cur)
    for week, f in dated:
        cf = of(f.currency)
        if week is None:
            cf.beyond += f.amount
            cf.beyond_documents += 1
            continue
        b = cf.buckets[week - 1]
        side = b.inflows if f.amount >= 0 else b.outflows
        side[f.source] = side.get(f.source, ZERO) + f.amount
        b.documents += 1
    return dict(sorted(out.items()))


def forecast(inputs: Inputs, as_of: dt.date, opening: Mapping[str, Decimal] | None = None
             ) -> tuple[list[tuple[int | None, Flow]], dict[str, CurrencyForecast]]:
    """The dated flows (week, flow) and their buckets."""
    dated = [(week_of(f.expected_on, as_of), f) for f in flows(inputs, as_of)]
    dated.sort(key=lambda wf: (wf[1].currency, wf[0] or WEEKS + 1, wf[1].expected_on, wf[1].source, wf[1].number))
    return dated, summarise(dated, as_of, opening)


# --- forecast vs actual -------------------------------------------------------------------
@dataclass(frozen=True)
class Actual:
    currency: str
    booked_on: dt.date
    amount: Decimal


def actuals_by_week(lines: Iterable[Actual], as_of: dt.date, known_until: Mapping[str, dt.date]
                    ) -> dict[str, list[tuple[Decimal, Decimal] | None]]:
    """(in, out) on the bank per currency and week, for the weeks the bank has fully reported
    (`known_until`: the last day every account in the currency has a statement for); None for
    weeks not yet known. Lines before week 1 are not counted."""
    start, end = horizon(as_of)
    out: dict[str, list[tuple[Decimal, Decimal] | None]] = {}
    for cur, until in known_until.items():
        out[cur] = [(ZERO, ZERO) if start + dt.timedelta(weeks=i, days=6) <= until else None for i in range(WEEKS)]
    for ln in lines:
        weeks = out.get(ln.currency)
        if weeks is None or not (start <= ln.booked_on < end):
            continue
        i = (ln.booked_on - start).days // 7
        if weeks[i] is None:
            continue
        inflow, outflow = weeks[i]
        weeks[i] = (inflow + ln.amount, outflow) if ln.amount >= 0 else (inflow, outflow + ln.amount)
    return out
