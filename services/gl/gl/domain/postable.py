"""What the ledger accepts on its accounts, for every journal whatever made it (a posting
rule from an event, a person's manual journal, a reversal, a closing): one check, so the two
ways into the ledger can never disagree.

- the account exists in the company's chart;
- a control account (receivables, payables, inventory) takes sub-ledger postings only: the
  journals rules make from the sub-ledger's events and the ledger's own procedures, never a
  manual journal (the sub-ledger would no longer equal its control account);
- every dimension the account needs (an expense needs a cost centre) is on the line;
- a line on a cash account carries a known cash-flow item, and only cash lines carry one
  (the cash-flow statement is a grouping of those lines);
- a blocked account takes no new postings (events to it are parked, people are refused);
- the posting date lies in the supported range (fincore.dates: 1900-01-01 .. 2199-12-31).

Balance and minor units are invariants of `JournalDraft` itself (it cannot be built
otherwise)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from fincore import dates, money

from gl.domain.cashflow import ITEMS as CASH_FLOW_ITEMS
from gl.domain.chart import Chart
from gl.domain.journal import DIMENSIONS, DraftLine, JournalDraft, UnbalancedJournal


class PostingRefused(ValueError):
    """A journal the ledger does not accept as it is."""


class UnknownAccount(PostingRefused):
    pass


class ControlAccount(PostingRefused):
    pass


class MissingDimension(PostingRefused):
    """A line lacks a dimension its account requires (e.g. an expense without a cost centre)."""


class CashFlowItemRefused(PostingRefused):
    pass


class AccountBlocked(PostingRefused):
    def __init__(self, accounts: Sequence[str]) -> None:
        super().__init__(f"account {', '.join(accounts)} is blocked")
        self.accounts = tuple(accounts)


def check_lines(draft: JournalDraft, chart: Chart, *, sub_ledger: bool) -> None:
    """Refuse the first line the ledger does not accept (blocked accounts aside: they
    depend on the company's state, see `blocked_in`). `sub_ledger`: the journal comes from a
    sub-ledger's event or a ledger procedure, so it may post to control accounts."""
    if not dates.MIN_DATE <= draft.posting_date <= dates.MAX_DATE:
        raise PostingRefused(f"posting date {draft.posting_date.isoformat()} is outside the supported range "
                             f"{dates.MIN_DATE.isoformat()}..{dates.MAX_DATE.isoformat()}")
    for i, line in enumerate(draft.lines, 1):
        acct = chart.accounts.get(line.account_code)
        if acct is None:
            raise UnknownAccount(f"line {i}: no account {line.account_code}")
        if acct.control and not sub_ledger:
            raise ControlAccount(f"line {i}: {line.account_code} is a control account; "
                                 "it takes sub-ledger postings only")
        missing = [d for d in acct.needs if not line.dimensions.get(d)]
        if missing:
            raise MissingDimension(f"line {i}: account {line.account_code} needs {', '.join(missing)}")
        if acct.cash and line.cash_flow_item not in CASH_FLOW_ITEMS:
            raise CashFlowItemRefused(f"line {i}: a line on cash account {line.account_code} needs a "
                                      f"cash_flow_item (one of {', '.join(sorted(CASH_FLOW_ITEMS))})")
        if not acct.cash and line.cash_flow_item:
            raise CashFlowItemRefused(f"line {i}: only cash account lines carry a cash_flow_item")


def blocked_in(draft: JournalDraft, blocked: Collection[str]) -> list[str]:
    """The blocked accounts the draft posts to, sorted (empty: none)."""
    if not blocked:  # most companies block none: no set built per journal
        return []
    return sorted({ln.account_code for ln in draft.lines} & set(blocked))


@dataclass(frozen=True)
class ManualLine:
    """One line as a person enters it: debit or credit, in the functional currency."""

    account: str
    debit: Decimal = Decimal(0)
    credit: Decimal = Decimal(0)
    memo: str = ""
    cash_flow_item: str = ""
    dimensions: dict[str, str] = field(default_factory=dict)


def manual_draft(*, company_id: str, currency: str, chart: Chart, posting_date, description: str,
                 lines: Sequence[ManualLine], document: str = "") -> JournalDraft:
    """A manual journal as the ledger would post it, checked like every other journal."""
    out = []
    for i, ln in enumerate(lines, 1):
        unknown = set(ln.dimensions) - set(DIMENSIONS)
        if unknown:
            raise PostingRefused(f"line {i}: unknown dimensions {sorted(unknown)}")
        if not ln.debit and not ln.credit:
            raise PostingRefused(f"line {i}: neither a debit nor a credit")
        if not (money.is_quantized(ln.debit, currency) and money.is_quantized(ln.credit, currency)):
            raise PostingRefused(f"line {i}: amounts finer than the {currency} minor unit")
        try:
            out.append(DraftLine(ln.account, money.quantize(ln.debit, currency), money.quantize(ln.credit, currency),
                                 currency, ln.memo,
                                 {k: v for k, v in ln.dimensions.items() if v}, ln.cash_flow_item))
        except ValueError as exc:
            raise PostingRefused(f"line {i}: {exc}") from exc
    try:
        draft = JournalDraft(company_id=company_id, posting_date=posting_date, currency=currency,
                             description=description, lines=tuple(out), source_event_type="gl.manual",
                             source_document=document, rule_id="manual", rule_version=1)
    except UnbalancedJournal as exc:
        raise PostingRefused(str(exc)) from exc
    check_lines(draft, chart, sub_ledger=False)
    return draft
