"""An event id sent again with another payload is not a copy but a conflict (issue 15, the
chaos fault "same event id, different payload"): the posting consumer refuses it
(PermanentError: the inbox consumer dead-letters it, dead_letters_pending alerts) and the
journal of the first stays as it was; a true copy is still skipped without a word."""

import asyncio
import copy
import datetime as dt
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa
from aiokafka import ConsumerRecord
from finance.ar.v1 import events_pb2 as ar
from fincore import dates, money
from fincore.db import Database, migrate
from fincore.events import new_envelope
from fincore.inbox import InboxConsumer, PermanentError
from gl.adapters.tables import Journal
from gl.bootstrap import MIGRATIONS, rulebook
from gl.service.posting import Poster, create_company
from gl.settings import GLSettings


def cny(v: str):
    return money.to_proto(Decimal(v), "CNY")


def record(env) -> tuple[ConsumerRecord, object]:
    value = env.payload.SerializeToString()
    return ConsumerRecord("t", 0, 0, 0, 0, None, value, None, 0, len(value), []), env


def test_a_second_payload_under_a_posted_id_is_refused_and_changes_nothing(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'gl.db'}"
    migrate(MIGRATIONS, url)
    company = f"C{uuid.uuid4().hex[:8]}"
    invoice = ar.InvoiceIssued(company_id=company, document_number="INV-1", invoice_id="inv1", customer_code="K",
                               currency="CNY", occurrence_date=dates.to_proto(dt.date(2026, 12, 5)),
                               gross_total=cny("1130.00"), net_total=cny("1000.00"), tax_total=cny("130.00"),
                               lines=[ar.InvoiceLine(net=cny("1000.00"), tax=cny("130.00"), tax_code="VAT13")])
    first = new_envelope(invoice, source="test")
    changed = copy.copy(first)
    changed.payload = ar.InvoiceIssued()
    changed.payload.CopyFrom(invoice)
    changed.payload.gross_total.CopyFrom(cny("9130.00"))

    async def run():
        db = Database(url)
        try:
            async with db.transaction() as s:
                await create_company(s, company_id=company, name="C", functional_currency="CNY", chart_template="cas")
            consumer = InboxConsumer(db, GLSettings(database_url=url), name="gl-posting", topics=[],
                                     handler=Poster(rulebook()))
            await consumer._apply([record(first)])
            await consumer._apply([record(first)])  # a true copy: skipped
            with pytest.raises(PermanentError, match="different payload"):
                await consumer._apply([record(changed)])  # across polls: against the stored event
            with pytest.raises(PermanentError, match="different payload"):
                other = new_envelope(invoice, source="test")
                twin = copy.copy(other)
                twin.payload = changed.payload
                await consumer._apply([record(other), record(twin)])  # within one poll
            async with db.sessions() as s:
                totals = (await s.execute(sa.select(Journal.total_debit).where(Journal.company_id == company))).all()
            return [Decimal(t[0]) for t in totals]
        finally:
            await db.dispose()

    assert asyncio.run(run()) == [Decimal("1130.00")]
