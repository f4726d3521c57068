"""Open items and what relieving one costs: the single home of the realised-FX rule.

An open item is a business document's balance on a control account (an invoice's
receivable or payable, a receipt's unapplied cash, a credit memo's customer credit): the
sum of the journal lines tagged with the document, in the transaction currency and in the
functional currency. Settling part of it (a receipt, a payment, a refund, a write-off, a
credit memo applied to the invoice) takes out its carrying amount pro rata, and the whole
remainder when the settlement takes the last of the transaction amount, so a settled item
is 0.00 in both currencies and nothing is left for the next revaluation to find. The
difference between that carrying amount and what the settlement is worth at its own rate
is the realised exchange difference; the posting rule puts it on its `@balance` line.

Period-end revaluations are not part of an item's carrying amount here: they are posted
per counterparty and reversed on the next period's first day, so after the reversal the
carrying amount is the booked one again, and a settlement realises payment rate - booked
rate while the revaluation's unrealised part has come and gone (ERPNext #43327 is what
happens when both a standing revaluation and the realisation count the same difference).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from fincore import money

ZERO = Decimal(0)


@dataclass(frozen=True)
class OpenItem:
    """A document's open balance: signed (debit positive) in its currency and in the functional one."""

    currency: str
    txn: Decimal
    functional: Decimal

    def less(self, txn: Decimal, functional: Decimal) -> OpenItem:
        return OpenItem(self.currency, self.txn - txn, self.functional - functional)


def relieve(item: OpenItem, amount: Decimal, functional_currency: str) -> Decimal:
    """The carrying amount (functional, signed like the item) that settling `amount` of the
    item takes out. `amount` is the transaction-currency amount settled, positive, in the
    item's direction. All of it when the settlement takes the rest of the item (no residue
    from rounding), else the item's functional balance pro rata, rounded to the minor unit.

    A settlement larger than the item (it should not happen: the sub-ledger applies at most
    what is open) relieves the whole item; the caller values the excess at the day's rate.
    """
    if amount <= 0:
        raise ValueError("a settlement relieves a positive amount")
    open_txn = abs(item.txn)
    if open_txn == 0:
        return ZERO
    if amount >= open_txn:
        return item.functional
    return money.quantize(item.functional * amount / open_txn, functional_currency)


class AwaitingDocument(LookupError):
    """A settlement names a document the ledger has not posted yet (its event is still to
    come, from another partition, or is itself parked). Valued without the document's
    carrying amount it would relieve the wrong amount and leave a residue on a paid item, so
    the settlement waits (parked) and posts when the document does."""

    def __init__(self, document: str) -> None:
        super().__init__(f"awaiting-document {document}: the settled document has not posted yet")
        self.document = document


def awaiting(settled: set[str], posted: set[str]) -> str | None:
    """The first document a settlement names that the ledger has not posted (None: it can be
    valued). `posted`: the documents with an open item, or posted before open items were
    tracked (those are valued at the settlement's rate, as before)."""
    missing = sorted(settled - posted)
    return missing[0] if missing else None
