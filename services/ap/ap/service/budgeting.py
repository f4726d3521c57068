"""Budget in the purchasing process: spend is grouped per budget line (company, cost centre,
budget item, month) and reserved before the document exists; a BLOCK line that would be
exceeded refuses the whole document (what was already reserved for it is released again)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal

from fincore import dates
from fincore.errors import ProblemError

from ap.adapters.budget_client import BudgetClient, decision_json

log = logging.getLogger(__name__)


class BudgetRefused(ProblemError):
    status, type_, title = 422, "budget-refused", "Budget refused"


class UnmappedSpend(ProblemError):
    status, type_, title = 422, "unmapped-spend", "Spend cannot be mapped to a budget line"


@dataclass(frozen=True)
class SpendLine:
    cost_centre: str
    budget_item: str
    amount: Decimal  # net: VAT is recoverable and not budgeted


def group_spend(lines: list[SpendLine], on: dt.date) -> dict[tuple[str, str, str], Decimal]:
    """Per (cost centre, budget item, period). Every line must carry both, or the spend could
    not be checked: such a document is refused, never waved through unchecked."""
    missing = [f"line {i}: no {'cost centre' if not ln.cost_centre else 'budget item'}"
               for i, ln in enumerate(lines, start=1) if not ln.cost_centre or not ln.budget_item]
    if missing:
        raise UnmappedSpend("; ".join(missing) + ": the spend cannot be mapped to a budget line")
    groups: dict[tuple[str, str, str], Decimal] = {}
    for ln in lines:
        key = (ln.cost_centre, ln.budget_item, dates.period_of(on))
        groups[key] = groups.get(key, Decimal(0)) + ln.amount
    return groups


def budget_ref(document: str, cost_centre: str, item: str) -> str:
    return f"{document}/{cost_centre}/{item}"


async def reserve_all(budget: BudgetClient, *, company: str, currency: str, document: str,
                      groups: dict[tuple[str, str, str], Decimal], token: str) -> list[dict]:
    """Reserve every group or none: on a refusal the groups already reserved are released and
    BudgetRefused carries every decision (with the budget's numbers)."""
    decisions, reserved = [], []
    try:
        for (cc, item, period), amount in sorted(groups.items()):
            ref = budget_ref(document, cc, item)
            d = await budget.reserve(company=company, cost_centre=cc, budget_item=item, period=period, amount=amount,
                                     currency=currency, document_ref=ref, token=token)
            decisions.append(decision_json(d, cost_centre=cc, budget_item=item, period=period, document_ref=ref))
            if d.allowed:
                reserved.append(ref)
    except Exception:
        await release_all(budget, company=company, refs=reserved, token=token)
        raise
    refused = [d for d in decisions if not d["allowed"]]
    if refused:
        await release_all(budget, company=company, refs=reserved, token=token)
        raise BudgetRefused("; ".join(f"{d['cost_centre']}/{d['budget_item']}/{d['period']}: {d['reason']}"
                                      for d in refused), budget=decisions)
    return decisions


async def release_all(budget: BudgetClient, *, company: str, refs: list[str], token: str) -> None:
    for ref in refs:
        try:
            await budget.release(company=company, document_ref=ref, token=token)
        except Exception:  # the reservation lapses at its expiry anyway
            log.warning("could not release budget reservation %s; it lapses at its expiry", ref, exc_info=True)
