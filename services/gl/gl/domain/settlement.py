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


BANK_ACCOUNT = "bank-account:"  # an `awaiting` value: the bank account (cash management's code) awaited


class AwaitingBankAccount(AwaitingDocument):
    """A receipt, payment or refund names a bank account the ledger has not learned from cash
    management yet (BankAccountOpened travels on another topic: no order between them).
    Posted now it would land on the chart's bank account instead of the account's own
    sub-account, and the bank sub-account would never equal the bank, so it waits (parked,
    `awaiting` bank-account:<code>) and posts when the ledger learns the account."""

    def __init__(self, code: str) -> None:
        LookupError.__init__(self, f"awaiting-bank-account {code}: cash management has not opened bank account "
                                   f"{code} to the ledger yet (BankAccountOpened)")
        self.document = BANK_ACCOUNT + code
        self.code = code


def awaited_bank_account(awaiting: str | None) -> str | None:
    """The bank account code a parked event waits for (None: it waits for no bank account)."""
    return awaiting[len(BANK_ACCOUNT):] if awaiting and awaiting.startswith(BANK_ACCOUNT) else None


def awaiting(settled: set[str], posted: set[str]) -> str | None:
    """The first document a settlement names that the ledger has not posted (None: it can be
    valued). `posted`: the documents with an open item, or posted before open items were
    tracked (those are valued at the settlement's rate, as before)."""
    missing = sorted(settled - posted)
    return missing[0] if missing else None


class LegacyMismatch(ValueError):
    """A journal posted before open items were tracked does not itemise: its lines on a control
    account are not what the open-item rule would have posted (another rule, edited amounts)."""


def itemise(tagged: list[tuple[str, str, str, Decimal]], posted: list[tuple[str, str, Decimal, Decimal]],
            functional_currency: str) -> dict[tuple[str, str], OpenItem]:
    """Split what a journal posted before open items were tracked did to its control accounts
    among the documents it concerns, by document reference: (document, account) -> the part of
    the posted lines that belongs to the document, in the transaction and the functional currency.

    `tagged`: (document, account, currency, signed transaction amount) of the lines the first
    open-item version of its rule draws from the same event (which document each line concerns).
    `posted`: (account, currency, signed transaction amount, functional debit - credit) of the
    journal's untagged foreign-currency lines on those accounts, as posted. Per account and
    currency the transaction amounts must agree (LegacyMismatch otherwise); the posted functional
    amount is shared pro rata to the transaction amounts, the last share taking the rounding, so
    the parts add up to the posted lines exactly (the sub-ledger stays equal to the account).
    """
    groups: dict[tuple[str, str], list[tuple[str, Decimal]]] = {}
    for ref, account, cur, txn in tagged:
        if cur and txn:
            groups.setdefault((account, cur), []).append((ref, txn))
    out: dict[tuple[str, str], OpenItem] = {}
    for (account, cur), parts in sorted(groups.items()):
        txn_total = sum((t for a, c, t, _ in posted if (a, c) == (account, cur)), ZERO)
        func_total = sum((f for a, c, _, f in posted if (a, c) == (account, cur)), ZERO)
        if txn_total != sum((t for _, t in parts), ZERO) or txn_total == 0:
            raise LegacyMismatch(f"account {account} {cur}: posted {txn_total}, itemised "
                                 f"{sum((t for _, t in parts), ZERO)}")
        left = func_total
        for i, (ref, txn) in enumerate(parts):
            share = left if i == len(parts) - 1 else money.quantize(func_total * txn / txn_total, functional_currency)
            left -= share
            prev = out.get((ref, account), OpenItem(cur, ZERO, ZERO))
            out[(ref, account)] = OpenItem(cur, prev.txn + txn, prev.functional + share)
    return out
