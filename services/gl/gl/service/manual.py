"""Manual journals: a person drafts one, a person posts it. With duties segregated (the
default, GL_SEGREGATE_DUTIES) the author cannot post their own journal, so every manual
entry in the books has been seen by two people. The lines pass the same check as every
journal the rules make (gl.domain.postable); control accounts take none."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from fincore.tables import utcnow
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils import uuid7

from gl.adapters.tables import Company, ManualJournal
from gl.domain.chart import load_chart
from gl.domain.journal import JournalDraft
from gl.domain.postable import ManualLine, manual_draft
from gl.service.posting import LedgerError, post_journal


class DutiesNotSegregated(LedgerError):
    """The author of a manual journal tried to post it while duties are segregated."""


class NotADraft(LedgerError):
    pass


def _draft(company: Company, mj: ManualJournal, lines: Sequence[ManualLine]) -> JournalDraft:
    return manual_draft(company_id=company.id, currency=company.functional_currency,
                        chart=load_chart(company.chart_template), posting_date=mj.posting_date,
                        description=mj.description, lines=lines, document=mj.id)


def _stored(lines: Sequence[ManualLine]) -> list[dict]:
    return [{**dataclasses.asdict(ln), "debit": str(ln.debit), "credit": str(ln.credit)} for ln in lines]


def _loaded(raw: list[dict]) -> list[ManualLine]:
    return [ManualLine(**{**ln, "debit": Decimal(str(ln.get("debit", "0"))),
                          "credit": Decimal(str(ln.get("credit", "0"))),
                          "dimensions": dict(ln.get("dimensions") or {})}) for ln in raw]


async def create_manual_journal(session: AsyncSession, company: Company, *, posting_date: dt.date,
                                description: str, lines: Sequence[ManualLine], author: str, post: bool,
                                segregate_duties: bool) -> tuple[ManualJournal, dict | None]:
    """Save a draft (checked now, so a draft that could never post is refused at once); with
    `post`, post it in the same transaction, which segregated duties forbid the author."""
    if post and segregate_duties:
        raise DutiesNotSegregated(f"{author} cannot post a journal they drafted: save it as a draft "
                                  "and have someone else post it")
    mj = ManualJournal(id=str(uuid7()), company_id=company.id, posting_date=posting_date, description=description,
                       lines=_stored(lines), status="draft", created_by=author, created_at=utcnow())
    draft = _draft(company, mj, lines)
    session.add(mj)
    journal = None
    if post:
        journal = await post_journal(session, draft, kind="manual", posted_by=author, drafted_by=author)
        mj.status, mj.journal_id = "posted", journal["id"]
    return mj, journal


async def post_manual_journal(session: AsyncSession, company: Company, mj: ManualJournal, *, poster: str,
                              segregate_duties: bool) -> dict:
    await session.refresh(mj, with_for_update=True)  # two posts of one draft: the second waits, then sees it posted
    if mj.status != "draft":
        raise NotADraft(f"manual journal {mj.id} is {mj.status}")
    if segregate_duties and poster == mj.created_by:
        raise DutiesNotSegregated(f"{poster} drafted manual journal {mj.id} and cannot also post it")
    journal = await post_journal(session, _draft(company, mj, _loaded(mj.lines)), kind="manual", posted_by=poster,
                                 drafted_by=mj.created_by)
    mj.status, mj.journal_id = "posted", journal["id"]
    return journal
