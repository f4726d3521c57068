"""Open items for documents booked before the ledger tracked them.

Why this exists: receivables became open items per document on 2026-12-01 and payables on the
same day (the rule versions that `opens`/`settles`). A foreign-currency invoice booked before
has no tagged line, so a settlement of it would be valued at its own rate: the receivable
relieved at the payment-date rate, a residue left on a customer who has paid in full, and no
realised exchange difference. Posted journals are never edited, so the ledger derives what
those older journals did to each document, by document reference, into `legacy_open_item`:
the event of each journal posted by a rule version without open items is itemised by the
first version of its rule that keeps them (which document each control-account line
concerns, gl.domain.settlement.itemise), and the posted amounts are shared among those
documents. An older receipt applied to an older invoice thus relieves it at the rate it was
posted at; a reversal of such a journal takes its parts back out. Open items are then the
tagged lines plus these parts, and a settlement relieves a legacy document at its carrying
amount like any other (the first settlement after the change realises, at once, the
exchange differences the older settlements left on the document).

When: automatically, when a foreign-currency settlement names a document without open item
or with a legacy one (so an older journal that arrives late is read before the settlement is
valued), and by the operator (`POST /v1/companies/{id}/legacy-open-items`, `finance-gl
legacy-open-items`). Both read the company's journals posted since the last read
(`legacy_open_item_scan`), under the company's posting lock (every writer of control-account
lines holds it), and insert each part once (idempotent).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from fincore.events.registry import registry
from fincore.tables import utcnow
from sqlalchemy.ext.asyncio import AsyncSession

from gl.adapters.tables import Journal, JournalLine, LegacyOpenItem, LegacyOpenItemScan, SourceEvent
from gl.domain.chart import Chart, load_chart
from gl.domain.journal import JournalDraft
from gl.domain.rules import RuleBook
from gl.domain.settlement import LegacyMismatch, OpenItem, itemise
from gl.service import posting

log = logging.getLogger(__name__)

CONTROL_ROLES = ("receivables", "payables", "other_payables")  # the accounts open-item rules tag
CLOCK_SKEW = dt.timedelta(seconds=5)  # re-read this much before the last read (clocks of several pods)


def control_codes(chart: Chart) -> set[str]:
    return {chart.roles[r] for r in CONTROL_ROLES if r in chart.roles}


def tagged_lines(rules: RuleBook, chart: Chart, functional: str, ce_type: str,
                 msg) -> list[tuple[str, str, str, Decimal]] | None:
    """(document, account, currency, transaction amount) of the lines the first open-item
    version of the event's rule would post; None when no such version matches the event. The
    functional amounts are not used (they come from the posted journal), so any rate does."""
    rule = rules.tracking_rule(ce_type, msg)
    if rule is None:
        return None
    foreign = posting.foreign_currencies(msg, functional)
    try:
        draft = rules.draft(ce_type=ce_type, msg=msg, chart=chart, functional_currency=functional,
                            rates=dict.fromkeys(foreign, Decimal(1)), rule=rule)
    except (LookupError, ValueError):
        return None
    return [(ln.open_item, ln.account_code, ln.txn_currency, ln.txn_amount) for ln in draft.lines if ln.open_item]


def itemise_draft(rules: RuleBook, books, ce_type: str, msg, draft: JournalDraft) -> dict[tuple[str, str], OpenItem]:
    """The legacy parts of a journal staged now by a rule without open items (empty if it
    touches no foreign-currency control line or does not itemise)."""
    rule = rules.version(draft.rule_id, draft.rule_version)
    if rule is None or rule.tracks:
        return {}
    chart = load_chart(books.chart_template)
    codes = control_codes(chart)
    posted = [(ln.account_code, ln.txn_currency, ln.txn_amount, ln.debit - ln.credit) for ln in draft.lines
              if ln.account_code in codes and ln.txn_currency and not ln.open_item]
    if not posted:
        return {}
    tagged = tagged_lines(rules, chart, books.functional_currency, ce_type, msg)
    if tagged is None:
        return {}
    try:
        return itemise(tagged, posted, books.functional_currency)
    except LegacyMismatch:
        return {}


@dataclass
class ScanResult:
    journals_read: int = 0
    parts: int = 0  # parts of documents derived now (a part derived before is not counted again)
    skipped: list[dict] = field(default_factory=list)  # journals that do not itemise, with the reason

    def as_dict(self) -> dict:
        return {"journals_read": self.journals_read, "parts_derived": self.parts, "skipped": self.skipped}


async def scan(session: AsyncSession, rules: RuleBook, books, *, actor: str = "gl-posting") -> ScanResult:
    """Derive the legacy parts of the company's journals posted since the last scan. The
    caller holds the company's posting lock (posting.lock_documents)."""
    chart = load_chart(books.chart_template)
    codes = control_codes(chart)
    started = utcnow()
    marker = await session.get(LegacyOpenItemScan, books.id)
    jl = JournalLine.__table__
    untagged = sa.exists().where(jl.c.journal_id == Journal.id, jl.c.account_code.in_(sorted(codes)),
                                 jl.c.txn_currency != "", jl.c.open_item == "")
    q = sa.select(Journal).where(Journal.company_id == books.id, Journal.kind.in_(("event", "reversal")), untagged)
    if marker is not None:
        q = q.where(Journal.posted_at >= marker.through - CLOCK_SKEW)
    result = ScanResult()
    rows: list[dict] = []
    for journal in (await session.execute(q.order_by(Journal.posted_at, Journal.number))).scalars().all():
        result.journals_read += 1
        try:
            parts = await _parts_of(session, rules, chart, books.functional_currency, codes, journal)
        except LegacyMismatch as exc:
            result.skipped.append({"journal": journal.number, "reason": str(exc)})
            continue
        if parts is None:
            continue
        rows += [{"journal_id": journal.id, "open_item": ref, "account_code": account, "company_id": books.id,
                  "txn_currency": item.currency, "txn_amount": item.txn, "functional": item.functional,
                  "derived_at": started, "derived_by": actor} for (ref, account), item in parts.items()]
        if journal.kind == "reversal":
            continue
        # a reversal of it, read in this same scan, needs these parts first
        result.parts += await _insert(session, rows)
        rows = []
    result.parts += await _insert(session, rows)
    if marker is None:
        session.add(LegacyOpenItemScan(company_id=books.id, through=started, scanned_at=utcnow(), scanned_by=actor))
    else:
        marker.through, marker.scanned_at, marker.scanned_by = started, utcnow(), actor
    await session.flush()
    if result.parts or result.skipped:
        log.info("legacy open items of %s: %d journal(s) read, %d part(s) derived, %d skipped",
                 books.id, result.journals_read, result.parts, len(result.skipped))
    return result


async def _parts_of(session: AsyncSession, rules: RuleBook, chart: Chart, functional: str, codes: set[str],
                    journal: Journal) -> dict[tuple[str, str], OpenItem] | None:
    if journal.kind == "reversal":
        parts = (await session.execute(sa.select(LegacyOpenItem).where(
            LegacyOpenItem.journal_id == journal.reverses_journal_id))).scalars().all()
        return {(p.open_item, p.account_code): OpenItem(p.txn_currency, -p.txn_amount, -p.functional)
                for p in parts} or None
    rule = rules.version(journal.rule_id, journal.rule_version)
    if rule is None or rule.tracks or not journal.source_event_id:
        return None
    src = await session.get(SourceEvent, journal.source_event_id)
    if src is None:
        return None
    msg = registry.by_type(src.event_type).message_class.FromString(src.payload)
    tagged = tagged_lines(rules, chart, functional, src.event_type, msg)
    if tagged is None:
        return None
    lines = (await session.execute(sa.select(JournalLine).where(
        JournalLine.journal_id == journal.id, JournalLine.account_code.in_(sorted(codes)),
        JournalLine.txn_currency != "", JournalLine.open_item == ""))).scalars().all()
    posted = [(ln.account_code, ln.txn_currency, ln.txn_amount, ln.debit - ln.credit) for ln in lines]
    return itemise(tagged, posted, functional)


async def _insert(session: AsyncSession, rows: list[dict]) -> int:
    """Insert the parts not derived yet; how many were new."""
    table = LegacyOpenItem.__table__
    if session.bind.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    new = 0
    for i in range(0, len(rows), 500):
        stmt = insert(table).values(rows[i:i + 500]).on_conflict_do_nothing().returning(table.c.journal_id)
        new += len((await session.execute(stmt)).all())
    return new


async def legacy_items(session: AsyncSession, company_id: str, refs: set[str]) -> dict[str, OpenItem]:
    """The legacy parts of these documents, summed per document."""
    if not refs:
        return {}
    lo = LegacyOpenItem.__table__
    rows = (await session.execute(
        sa.select(lo.c.open_item, lo.c.txn_currency, sa.func.sum(lo.c.txn_amount), sa.func.sum(lo.c.functional))
        .where(lo.c.company_id == company_id, lo.c.open_item.in_(sorted(refs)))
        .group_by(lo.c.open_item, lo.c.txn_currency))).all()
    return {ref: OpenItem(cur, Decimal(txn), Decimal(func)) for ref, cur, txn, func in rows}
