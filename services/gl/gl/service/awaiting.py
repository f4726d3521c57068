"""Settlements parked awaiting a document that does not come: the operators' way out.

Why this exists: a foreign-currency settlement read before the document it settles waits
(parked, `awaiting`) and posts by itself when the document posts. If the document never
reaches the ledger (lost upstream, published for another company, cancelled at the source
without an event), it would wait for ever. An operator (scope ops:admin, the API or
`finance-gl awaiting`) lists what waits and for how long (`gl_awaiting_document_oldest_age_seconds`
alerts), and decides one of:

- `post`: post it now, the document valued at the settlement's own (payment-date) rate, as
  a document booked before open items were tracked would be (an event awaiting a bank
  account, `bank-account:<code>`, that cash management never opens: on the chart's bank
  account); the journal's description says what never came and the operator's reason;
- `dead-letter`: take it out of the ledger's waiting list into the posting consumer's dead
  letters with the reason; nothing is posted. Once the cause is fixed (the document
  published), replaying the dead letter handles the event as new: it posts, or waits again.

Every decision is written to `awaiting_decision` (who, when, why, what it produced). Deciding
again on an event already decided the same way answers that decision and changes nothing;
a different decision on it is refused (409).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import replace

import sqlalchemy as sa
from fincore.events.envelope import Envelope, envelope_headers
from fincore.events.registry import registry
from fincore.tables import DeadLetter, InboxRecord, utcnow
from sqlalchemy.ext.asyncio import AsyncSession

from gl.adapters.tables import AwaitingDecision, ParkedEvent, SourceEvent
from gl.domain.rules import MissingRate, NothingToPost
from gl.domain.settlement import awaited_bank_account
from gl.service.posting import (
    LedgerError,
    Poster,
    documents_of,
    lock_documents,
    post_journal,
    refresh_revaluations,
    release_awaiting,
)

POST, DEAD_LETTER = "post", "dead-letter"
DONE = {POST: "posted", DEAD_LETTER: "dead_lettered"}


class AlreadyDecided(LedgerError):
    """The event was decided otherwise already (409)."""


class NotAwaiting(LookupError):
    """No settlement awaiting a document with this event id (404)."""


async def awaiting_settlements(session: AsyncSession, company: str | None = None,
                               now: dt.datetime | None = None) -> list[dict]:
    """Settlements parked awaiting a document, oldest first, with their age."""
    now = now or utcnow()
    q = (sa.select(ParkedEvent, SourceEvent).join(SourceEvent, SourceEvent.event_id == ParkedEvent.event_id)
         .where(ParkedEvent.resolved_at.is_(None), ParkedEvent.awaiting.is_not(None))
         .order_by(ParkedEvent.parked_at, ParkedEvent.event_id))
    if company is not None:
        q = q.where(ParkedEvent.company_id == company)
    return [{"event_id": p.event_id, "company": p.company_id, "event_type": e.event_type,
             "document": e.document_number, "occurrence_date": e.occurrence_date.isoformat(),
             "awaiting": p.awaiting, "reason": p.reason, "parked_at": _utc(p.parked_at).isoformat(),
             "age_seconds": int((now - _utc(p.parked_at)).total_seconds())}
            for p, e in (await session.execute(q)).all()]


def _utc(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)  # SQLite gives them back naive


def decision_json(d: AwaitingDecision) -> dict:
    return {"event_id": d.event_id, "company": d.company_id, "event_type": d.event_type,
            "document": d.document_number, "awaiting": d.awaiting, "action": d.action, "reason": d.reason,
            "decided_by": d.actor, "decided_at": _utc(d.decided_at).isoformat(),
            "parked_at": _utc(d.parked_at).isoformat(),
            "journal_id": d.journal_id, "dead_letter_id": d.dead_letter_id}


async def decide(session: AsyncSession, poster: Poster, event_id: str, *, action: str, reason: str, actor: str,
                 consumer: str) -> AwaitingDecision:
    """Post the awaiting settlement at the payment-date rate, or send it to `consumer`'s dead letters."""
    if action not in DONE:
        raise ValueError(f"unknown action {action!r}")
    if not reason.strip():
        raise LedgerError("a decision needs a reason")
    parked = await session.get(ParkedEvent, event_id)
    if parked is not None:
        await lock_documents(session, {parked.company_id})
        parked = await session.get(ParkedEvent, event_id, populate_existing=True, with_for_update=True)
    if parked is None or parked.resolved_at is not None or not parked.awaiting:
        last = (await session.execute(sa.select(AwaitingDecision).where(AwaitingDecision.event_id == event_id)
                                      .order_by(AwaitingDecision.id.desc()).limit(1))).scalar()
        if last is None:
            raise NotAwaiting(f"no settlement awaiting a document with event id {event_id}")
        if last.action != DONE[action]:
            raise AlreadyDecided(f"event {event_id} was already {last.action.replace('_', '-')} by {last.actor} "
                                 f"on {last.decided_at.isoformat()}: {last.reason}")
        return last
    src = await session.get(SourceEvent, event_id)
    decision = AwaitingDecision(event_id=event_id, company_id=parked.company_id, event_type=src.event_type,
                                document_number=src.document_number, awaiting=parked.awaiting,
                                action=DONE[action], reason=reason, actor=actor, decided_at=utcnow(),
                                parked_at=parked.parked_at)
    if action == POST:
        decision.journal_id = await _post_at_payment_rate(session, poster, parked, src, reason, actor)
    else:
        decision.dead_letter_id = await _to_dead_letters(session, parked, src, reason, actor, consumer)
    session.add(decision)
    await session.flush()
    return decision


async def _post_at_payment_rate(session: AsyncSession, poster: Poster, parked: ParkedEvent, src: SourceEvent,
                                reason: str, actor: str) -> str:
    msg = registry.by_type(src.event_type).message_class.FromString(src.payload)
    books = await poster.company(session, src.company_id)
    try:
        draft = await poster.draft(session, books, src.event_type, msg, src.event_id, await_documents=False)
    except MissingRate as exc:
        raise LedgerError(f"{exc}: enter the rate first") from exc
    except NothingToPost as exc:
        raise LedgerError(str(exc)) from exc
    if bank := awaited_bank_account(parked.awaiting):
        note = f"; bank account {bank} never opened in cash management: on the chart's bank account ({actor}: {reason})"
    else:
        note = f"; {parked.awaiting} never posted, valued at the payment-date rate ({actor}: {reason})"
    draft = replace(draft, description=(draft.description + note)[:500])
    journal = await post_journal(session, draft, posted_by=actor)
    parked.resolved_at, parked.resolved_by = utcnow(), actor
    parked.resolution = f"posted at the payment-date rate: {reason}"[:200]
    released = await release_awaiting(session, poster, documents_of([(draft, src.subject)]))
    await refresh_revaluations(session, [draft, *released])
    return journal["id"]


async def _to_dead_letters(session: AsyncSession, parked: ParkedEvent, src: SourceEvent, reason: str, actor: str,
                           consumer: str) -> int:
    """The event leaves the ledger (its parked row, stored source and inbox record) for the
    consumer's dead letters, from which a replay handles it as new."""
    spec = registry.by_type(src.event_type)
    env = Envelope(id=src.event_id, type=src.event_type, source=src.source, time=src.received_at,
                   subject=src.subject, topic=spec.topic, payload=spec.message_class.FromString(src.payload),
                   trace_headers={"traceparent": f"00-{src.trace_id}-{secrets.token_hex(8)}-01"}
                   if len(src.trace_id) == 32 else {})
    dead = DeadLetter(consumer=consumer, topic=spec.topic, partition=-1, offset=-1, event_id=src.event_id,
                      ce_type=src.event_type, msg_key=src.subject.encode(), headers=envelope_headers(env),
                      payload=src.payload, company_id=src.company_id, attempts=0, failed_at=utcnow(),
                      error=f"{parked.reason}\nsent to the dead letters by {actor}: {reason}")
    session.add(dead)
    await session.flush()
    await session.execute(sa.delete(InboxRecord).where(InboxRecord.consumer == consumer,
                                                       InboxRecord.event_id == src.event_id))
    await session.delete(parked)
    await session.flush()
    await session.delete(src)
    await session.flush()
    return dead.id
