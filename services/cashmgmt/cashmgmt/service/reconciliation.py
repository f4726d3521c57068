"""Reconciling statement lines: deciding by the rules (domain/reconcile.py), acting on the
decision, and the review queue.

What a decision does, in the transaction that records it:
- charge / interest: BankChargeRecorded / InterestReceived (the GL posts them);
- match: the receipt, payment, refund or transfer the line is (already booked elsewhere) is
  settled; nothing is posted again;
- receipt / customer_receipt: BankReceiptIdentified, which AR books as a receipt (applied
  to the invoices found, or oldest-first); the invoices' amounts are held by allocations
  until AR's PaymentReceived for the line confirms them;
- suspense (a person's decision for a line nobody can identify): BankLineUnidentified.
Below the rule's threshold, or flagged, the line waits in the review queue with its
candidates and their scores, accepted or rejected through the API.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import sqlalchemy as sa
from finance.cashmgmt.v1 import events_pb2 as ev
from fincore import dates, money
from fincore.db import bulk_insert, locked
from fincore.outbox import event_row
from fincore.tables import OutboxRecord, utcnow
from sqlalchemy.ext.asyncio import AsyncSession

from cashmgmt.adapters.tables import (
    Allocation,
    BankAccount,
    OpenItemRow,
    PartyRow,
    Reconciliation,
    Statement,
    StatementLine,
)
from cashmgmt.domain.reconcile import Book, Candidate, Decision, Line, OpenItem, Party, Rule, decide
from cashmgmt.service.accounts import SOURCE

ZERO = Decimal(0)
LINE_STATUS = {"charge": "posted", "interest": "posted", "suspense": "posted", "match": "matched",
               "receipt": "matched", "customer_receipt": "matched"}


class ReviewError(ValueError):
    pass


async def load_book(session: AsyncSession, company: str, currency: str, *, except_line: int | None = None) -> Book:
    """The company's open items in `currency`, less what reconciled lines hold of them."""
    rows = (await session.execute(sa.select(OpenItemRow).where(
        OpenItemRow.company_id == company, OpenItemRow.currency == currency, OpenItemRow.is_open))).scalars().all()
    held: dict[str, Decimal] = defaultdict(Decimal)
    q = sa.select(Allocation.item_key, sa.func.sum(Allocation.amount)).where(
        Allocation.company_id == company, Allocation.confirmed.is_(False))
    if except_line is not None:
        q = q.where(Allocation.line_id != except_line)
    for key, amount in (await session.execute(q.group_by(Allocation.item_key))).all():
        held[key] = Decimal(amount)
    items = [OpenItem(r.key, r.kind, r.document_id, r.number, r.party, r.currency, r.open - held[r.key], r.item_date,
                      tuple(r.references), r.bank_account) for r in rows if r.open - held[r.key] != 0]
    parties = [Party(p.kind, p.code, p.name, set(p.ibans), p.currency) for p in (await session.execute(
        sa.select(PartyRow).where(PartyRow.company_id == company))).scalars()]
    accounts = frozenset((await session.execute(sa.select(BankAccount.code).where(
        BankAccount.company_id == company))).scalars())
    return Book(items, parties, accounts)


def _line(row: StatementLine, account_code: str) -> Line:
    return Line(row.id, account_code, row.amount, row.currency, row.booking_date, row.reference,
                row.counterparty_name, row.counterparty_iban, row.description, row.bank_code)


def _candidate_json(book: Book, c: Candidate) -> dict:
    items = [book.items[k] for k in c.items]
    return {"items": [{"key": i.key, "kind": i.kind, "document_id": i.document_id, "number": i.number,
                       "party": i.party, "open": str(i.open), "date": i.date.isoformat()} for i in items],
            "amounts": [str(a) for a in c.amounts], "score": c.score, "reasons": list(c.reasons),
            "flags": list(c.flags), "party": c.party}


class _Effects:
    """What decisions on many lines write, gathered and written in a few statements."""

    def __init__(self) -> None:
        self.events: list[dict] = []
        self.allocations: list[dict] = []
        self.settled: dict[str, Decimal] = defaultdict(Decimal)  # confirmed at once (match)
        self.status: dict[int, str] = {}
        self.learned: dict[str, set[str]] = defaultdict(set)  # party -> IBANs seen paying

    async def write(self, session: AsyncSession, company: str) -> None:
        await bulk_insert(session, OutboxRecord.__table__, self.events)
        await bulk_insert(session, Allocation.__table__, self.allocations)
        for key, amount in self.settled.items():
            await session.execute(sa.update(OpenItemRow).where(
                OpenItemRow.company_id == company, OpenItemRow.key == key).values(
                open=OpenItemRow.open - amount, is_open=OpenItemRow.open - amount != 0, updated_at=utcnow()))
        by_status: dict[str, list[int]] = defaultdict(list)
        for line_id, status in self.status.items():
            by_status[status].append(line_id)
        for status, ids in by_status.items():
            for part in range(0, len(ids), 5000):
                # not synchronised with the session (the ORM would evaluate the criteria against every
                # loaded line: most of this write's time for 10,000 lines); nothing reads them after
                await session.execute(sa.update(StatementLine).where(StatementLine.id.in_(ids[part:part + 5000]))
                                      .values(status=status).execution_options(synchronize_session=False))
        for party, ibans in self.learned.items():
            row = await session.get(PartyRow, (company, party))
            if row is not None and not ibans <= set(row.ibans):
                row.ibans = sorted(set(row.ibans) | ibans)


def _act(fx: _Effects, *, action: str, line: StatementLine, ref: str, account: BankAccount, book: Book | None,
         candidate: Candidate | None, party: str) -> None:
    """The effects of accepting `action` (with `candidate`) for one line."""
    cur, on = line.currency, dates.to_proto(line.booking_date)
    head = dict(company_id=line.company_id, document_number=ref, occurrence_date=on)
    if action == "charge":
        fx.events.append(event_row(ev.BankChargeRecorded(
            **head, bank_account=account.code, amount=money.to_proto(-line.amount, cur),
            description=(line.description or "Bank charge")[:200], gl_account=account.gl_account), source=SOURCE))
    elif action == "interest":
        fx.events.append(event_row(ev.InterestReceived(
            **head, bank_account=account.code, amount=money.to_proto(line.amount, cur),
            description=(line.description or "Interest")[:200], gl_account=account.gl_account), source=SOURCE))
    elif action == "suspense":
        fx.events.append(event_row(ev.BankLineUnidentified(
            **head, line_id=str(line.id), bank_account=account.code, direction="IN" if line.amount > 0 else "OUT",
            amount=money.to_proto(abs(line.amount), cur), description=(line.description or line.reference)[:200],
            gl_account=account.gl_account), source=SOURCE))
    elif action == "match":
        for key, amount in zip(candidate.items, candidate.amounts, strict=True):
            fx.allocations.append({"line_id": line.id, "item_key": key, "company_id": line.company_id,
                                   "amount": amount, "confirmed": True})
            fx.settled[key] += amount
            if book is not None:
                book.settle(key, amount)
    elif action in ("receipt", "customer_receipt"):
        apps = []
        for key, amount in zip(candidate.items, candidate.amounts, strict=True) if candidate else ():
            item = book.items[key]
            fx.allocations.append({"line_id": line.id, "item_key": key, "company_id": line.company_id,
                                   "amount": amount, "confirmed": False})
            book.settle(key, amount)
            apps.append(ev.BankReceiptApplication(invoice_id=item.document_id, invoice_number=item.number,
                                                  amount=money.to_proto(amount, cur)))
        fx.events.append(event_row(ev.BankReceiptIdentified(
            **head, line_id=str(line.id), bank_account=account.code, customer_code=party,
            amount=money.to_proto(line.amount, cur), applications=apps, counterparty_name=line.counterparty_name,
            counterparty_iban=line.counterparty_iban, reference=line.reference[:200]), source=SOURCE))
        if line.counterparty_iban:
            fx.learned[party].add(line.counterparty_iban)
            if book is not None:  # later lines of the run know it too
                book.by_iban.setdefault(line.counterparty_iban, party)
    else:
        raise ReviewError(f"unknown action {action!r}")
    fx.status[line.id] = LINE_STATUS[action]


async def reconcile(session: AsyncSession, company: str, rules: list[Rule], *, statement_ids: list[str] | None = None,
                    actor: str = "auto", currency: str | None = None) -> dict:
    """Decide every open or unmatched line of the company (or of these statements, or in this
    currency): accepted on its own, to review, or unmatched. Returns the counts by outcome and
    action. Lines another run is deciding (locked) are skipped, so two runs never act twice on
    one line."""
    q = (sa.select(StatementLine, BankAccount, Statement.statement_id)
         .join(BankAccount, BankAccount.id == StatementLine.bank_account_id)
         .join(Statement, Statement.id == StatementLine.statement_id)
         .where(StatementLine.company_id == company, StatementLine.status.in_(("open", "unmatched"))))
    if statement_ids is not None:
        q = q.where(StatementLine.statement_id.in_(statement_ids))
    if currency is not None:
        q = q.where(StatementLine.currency == currency)
    rows = (await session.execute(locked(q.order_by(StatementLine.booking_date, StatementLine.id),
                                         of=StatementLine, skip_locked=True))).all()
    summary: dict[str, int] = defaultdict(int)
    if not rows:
        return dict(summary)
    books: dict[str, Book] = {}
    fx = _Effects()
    decisions, now = [], utcnow()
    ids = [ln.id for ln, _, _ in rows]
    for part in range(0, len(ids), 5000):
        await session.execute(sa.delete(Reconciliation).where(Reconciliation.line_id.in_(ids[part:part + 5000])))
    for line, account, sid in rows:
        book = books.get(line.currency)
        if book is None:
            book = books[line.currency] = await load_book(session, company, line.currency)
        d: Decision = decide(book, _line(line, account.code), rules)
        status = {"auto": "auto", "review": "review", "none": "unmatched"}[d.status]
        cands = [_candidate_json(book, c) for c in d.candidates]
        if d.status == "auto":
            _act(fx, action=d.action, line=line, ref=f"{sid}/{line.line_no}", account=account, book=book,
                 candidate=d.candidates[0] if d.candidates else None, party=d.party)
        else:
            fx.status[line.id] = "review" if d.status == "review" else "unmatched"
        decisions.append({"line_id": line.id, "company_id": company, "rule": d.rule, "action": d.action,
                          "status": status, "candidates": cands, "chosen": 0 if d.status == "auto" and cands else None,
                          "party": d.party, "decided_by": actor, "decided_at": now})
        summary[status] += 1
        if d.status == "auto":
            summary[f"auto:{d.action}"] += 1
    await bulk_insert(session, Reconciliation.__table__, decisions)
    await fx.write(session, company)
    return dict(summary)


async def _review_line(session: AsyncSession, company: str, line_id: int):
    """The line, locked and as the lock read it (fincore.db.locked), then its decision, read
    after the lock: a decision another person or a reconciliation run committed while this one
    waited is seen, so one line is never acted on twice, nor on a decision that no longer
    exists. (Read in the locked statement, the decision came from the statement's snapshot,
    taken before the wait: a run replaces it, delete and insert, and only the locked line is
    read again.)"""
    row = (await session.execute(locked(
        sa.select(StatementLine, BankAccount, Statement.statement_id)
        .join(BankAccount, BankAccount.id == StatementLine.bank_account_id)
        .join(Statement, Statement.id == StatementLine.statement_id)
        .where(StatementLine.company_id == company, StatementLine.id == line_id),
        of=StatementLine))).first()
    if row is None:
        raise LookupError(f"no statement line {line_id} in company {company}")
    rec = (await session.execute(sa.select(Reconciliation).where(Reconciliation.line_id == line_id)
                                 .execution_options(populate_existing=True))).scalar_one_or_none()
    return (*row, rec)


async def accept(session: AsyncSession, company: str, line_id: int, *, candidate: int | None = None,
                 action: str | None = None, customer: str = "", actor: str) -> Reconciliation:
    """A person's decision on a line in review (or unmatched): one of its candidates, a known
    customer's receipt on account (`customer`, AR applies it oldest-first), or the suspense
    account (`action="suspense"`), or for a charge or interest the bank did not code."""
    line, account, sid, rec = await _review_line(session, company, line_id)
    if line.status not in ("review", "unmatched"):
        raise ReviewError(f"line {line_id} is {line.status}: only a line in review or unmatched is decided")
    ref = f"{sid}/{line.line_no}"
    fx = _Effects()
    chosen, party = None, ""
    if candidate is not None:
        if rec is None or not 0 <= candidate < len(rec.candidates):
            raise ReviewError(f"line {line_id} has no candidate {candidate}")
        c = rec.candidates[candidate]
        if "other-currency" in c["flags"]:
            raise ReviewError(f"line {line_id}: {'; '.join(c['reasons'])}: AR cannot book it as the customer's "
                              "receipt; decide suspense (or reject)")
        book = await load_book(session, company, line.currency, except_line=line.id)
        missing = [i["key"] for i in c["items"] if i["key"] not in book.items]
        amounts = tuple(Decimal(a) for a in c["amounts"])
        for i, amount in zip(c["items"], amounts, strict=True):
            if i["key"] in book.items and abs(book.items[i["key"]].open) < abs(amount):
                missing.append(i["key"])
        if missing:
            raise ReviewError(f"candidate {candidate} of line {line_id} is no longer open: {', '.join(missing)}")
        action, party = rec.action, c["party"]
        chosen = candidate
        _act(fx, action=action, line=line, ref=ref, account=account, book=book, party=party,
             candidate=Candidate(tuple(i["key"] for i in c["items"]), amounts, c["score"], tuple(c["reasons"])))
    elif customer:
        p = await session.get(PartyRow, (company, customer))
        if p is None or p.kind != "customer":
            raise ReviewError(f"no customer {customer!r} in company {company} (as AR published it)")
        if p.currency and p.currency != line.currency:
            raise ReviewError(f"customer {customer} pays in {p.currency}; line {line_id} is in {line.currency}: "
                              "AR cannot book it as their receipt; decide suspense (or reject)")
        if line.amount <= 0:
            raise ReviewError("a customer's receipt is money in")
        action, party = "customer_receipt", customer
        _act(fx, action=action, line=line, ref=ref, account=account, book=None, candidate=None, party=party)
    elif action in ("suspense", "charge", "interest"):
        if action == "charge" and line.amount >= 0 or action == "interest" and line.amount <= 0:
            raise ReviewError(f"a line of {line.amount} is no {action}")
        _act(fx, action=action, line=line, ref=ref, account=account, book=None, candidate=None, party="")
    else:
        raise ReviewError("give a candidate, a customer, or an action (suspense, charge, interest)")
    await fx.write(session, company)
    values = dict(company_id=company, rule=rec.rule if rec else "", action=action, status="accepted",
                  candidates=rec.candidates if rec else [], chosen=chosen, party=party, decided_by=actor,
                  decided_at=utcnow())
    if rec is None:
        rec = Reconciliation(line_id=line.id, **values)
        session.add(rec)
    else:
        for k, v in values.items():
            setattr(rec, k, v)
    return rec


async def identify(session: AsyncSession, company: str, line_id: int, *, customer: str, actor: str) -> Reconciliation:
    """A line on the suspense account found to be a customer's receipt after all: the suspense
    is cleared against the bank (SuspenseCleared) and the money published as the customer's
    receipt (BankReceiptIdentified; AR applies it oldest-first), both at the line's date, so
    the bank never moves and the suspense account is back to zero."""
    line, account, sid, rec = await _review_line(session, company, line_id)
    if rec is None or rec.action != "suspense" or line.status != "posted":
        raise ReviewError(f"line {line_id} is not on the suspense account")
    if line.amount <= 0:
        raise ReviewError("only money in is identified as a customer's receipt")
    p = await session.get(PartyRow, (company, customer))
    if p is None or p.kind != "customer":
        raise ReviewError(f"no customer {customer!r} in company {company} (as AR published it)")
    if p.currency and p.currency != line.currency:
        raise ReviewError(f"customer {customer} pays in {p.currency}; line {line_id} is in {line.currency}")
    ref = f"{sid}/{line.line_no}"
    fx = _Effects()
    fx.events.append(event_row(ev.SuspenseCleared(
        company_id=company, document_number=ref, occurrence_date=dates.to_proto(line.booking_date),
        line_id=str(line.id), bank_account=account.code, direction="IN",
        amount=money.to_proto(line.amount, line.currency), identified_as=f"customer {customer}",
        gl_account=account.gl_account), source=SOURCE))
    _act(fx, action="customer_receipt", line=line, ref=ref, account=account, book=None, candidate=None,
         party=customer)
    await fx.write(session, company)
    rec.action, rec.status, rec.party, rec.decided_by, rec.decided_at = (
        "customer_receipt", "accepted", customer, actor, utcnow())
    return rec


async def reject(session: AsyncSession, company: str, line_id: int, *, actor: str) -> Reconciliation:
    """None of the candidates: the line stays unmatched (a later run or a person decides it)."""
    line, _, _, rec = await _review_line(session, company, line_id)
    if line.status != "review" or rec is None:
        raise ReviewError(f"line {line_id} is {line.status}: only a line in review is rejected")
    line.status = "unmatched"
    rec.status, rec.decided_by, rec.decided_at = "rejected", actor, utcnow()
    return rec


def decision_json(rec: Reconciliation, line: StatementLine, account_code: str, statement_id: str) -> dict:
    return {"line_id": line.id, "statement_id": statement_id, "line_no": line.line_no, "bank_account": account_code,
            "booking_date": line.booking_date.isoformat(), "amount": money.format_amount(line.amount, line.currency),
            "currency": line.currency, "reference": line.reference, "counterparty_name": line.counterparty_name,
            "counterparty_iban": line.counterparty_iban, "description": line.description, "line_status": line.status,
            "rule": rec.rule, "action": rec.action, "status": rec.status, "candidates": rec.candidates,
            "chosen": rec.chosen, "party": rec.party, "decided_by": rec.decided_by,
            "decided_at": rec.decided_at.isoformat()}



SETTLED_KINDS = ("ar_receipt", "ar_refund", "ap_payment", "transfer")  # booked by their own context


async def bank_balances(session: AsyncSession, company: str) -> list[dict]:
    """The bank reconciliation of each account: the last statement's closing balance, less the
    lines not yet reconciled (the bank has them, the ledger does not), plus the documents
    booked for the account that no statement line has matched yet (the ledger has them, the
    bank does not): what the ledger's bank sub-account holds once every event is posted."""
    out = []
    accounts = (await session.execute(sa.select(BankAccount).where(BankAccount.company_id == company)
                                      .order_by(BankAccount.code))).scalars().all()
    for a in accounts:
        last = (await session.execute(sa.select(Statement.statement_id, Statement.closing_balance,
                                                Statement.closing_date).where(Statement.bank_account_id == a.id)
                                      .order_by(Statement.seq.desc()).limit(1))).first()
        unreconciled = (await session.execute(sa.select(sa.func.coalesce(sa.func.sum(StatementLine.amount), 0)).where(
            StatementLine.bank_account_id == a.id,
            StatementLine.status.in_(("open", "review", "unmatched"))))).scalar_one()
        outstanding = (await session.execute(sa.select(sa.func.coalesce(sa.func.sum(OpenItemRow.open), 0)).where(
            OpenItemRow.company_id == company, OpenItemRow.bank_account == a.code, OpenItemRow.is_open,
            OpenItemRow.currency == a.currency, OpenItemRow.kind.in_(SETTLED_KINDS)))).scalar_one()
        statement = last.closing_balance if last else ZERO
        cur = a.currency
        out.append({"code": a.code, "currency": cur, "gl_account": a.gl_account,
                    "statement_id": last.statement_id if last else None,
                    "statement_date": last.closing_date.isoformat() if last else None,
                    "statement_balance": money.format_amount(statement, cur),
                    "unreconciled_lines": money.format_amount(Decimal(unreconciled), cur),
                    "outstanding_documents": money.format_amount(Decimal(outstanding), cur),
                    "reconciled_balance": money.format_amount(
                        statement - Decimal(unreconciled) + Decimal(outstanding), cur)})
    return out
