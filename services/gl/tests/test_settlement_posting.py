"""The posting path with open items (inbox consumer + Poster + migrations, embedded SQLite):
a receipt read before its invoice in the same poll still relieves the invoice at its booked
amount, and a redelivered batch changes nothing."""

import asyncio
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
from fincore.inbox import InboxConsumer
from gl.adapters.tables import ExchangeRate, JournalLine, LegacyOpenItem, ParkedEvent
from gl.bootstrap import MIGRATIONS, rulebook
from gl.domain.settlement import OpenItem
from gl.service.posting import Poster, close_period, create_company, reopen_period, resolve_parked
from gl.settings import GLSettings


def eur(v: str):
    return money.to_proto(Decimal(v), "EUR")


def test_receipt_before_its_invoice_in_one_batch(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'gl.db'}"
    migrate(MIGRATIONS, url)
    company = f"S{uuid.uuid4().hex[:8]}"
    invoice = ar.InvoiceIssued(company_id=company, document_number="INV-1", invoice_id="inv1", customer_code="K",
                               currency="EUR", occurrence_date=dates.to_proto(dt.date(2026, 12, 5)),
                               gross_total=eur("2000.00"), lines=[ar.InvoiceLine(net=eur("2000.00"))])
    receipt = ar.PaymentReceived(company_id=company, document_number="RC-1", receipt_id="rc1", customer_code="K",
                                 occurrence_date=dates.to_proto(dt.date(2026, 12, 20)), amount=eur("2000.00"),
                                 unapplied=eur("0"),
                                 applications=[ar.ReceiptApplication(invoice_id="inv1", amount=eur("2000.00"))])
    batch = [(ConsumerRecord("t", 0, 0, 0, 0, None, b"", None, 0, 0, []), new_envelope(m, source="test"))
             for m in (receipt, invoice)]  # the receipt first, as from another partition

    async def run():
        db = Database(url)
        try:
            async with db.transaction() as s:
                await create_company(s, company_id=company, name="S", functional_currency="CNY", chart_template="cas")
                s.add_all([ExchangeRate(company_id=company, currency="EUR", rate_date=dt.date(2026, 12, 1),
                                        rate=Decimal("7.80")),
                           ExchangeRate(company_id=company, currency="EUR", rate_date=dt.date(2026, 12, 20),
                                        rate=Decimal("7.75"))])
            consumer = InboxConsumer(db, GLSettings(database_url=url), name="gl-posting", topics=[],
                                     handler=Poster(rulebook()))
            await consumer._apply(batch)
            await consumer._apply(batch)  # redelivered: no second effect

            async with db.sessions() as s:
                jl = JournalLine.__table__
                lines = (await s.execute(sa.select(jl.c.account_code, jl.c.debit, jl.c.credit, jl.c.open_item)
                                         .where(jl.c.company_id == company).order_by(jl.c.id))).all()
                item = (await s.execute(sa.select(sa.func.sum(jl.c.txn_amount), sa.func.sum(jl.c.debit - jl.c.credit))
                                        .where(jl.c.company_id == company, jl.c.open_item == "inv1"))).one()
            return lines, item
        finally:
            await db.dispose()

    lines, item = asyncio.run(run())
    # Invoice: 2,000 EUR at 7.80 = 15,600.00. Receipt at 7.75 = 15,500.00 relieves the booked
    # 15,600.00 and realises a 100.00 loss; the invoice's item is 0.00 in EUR and in CNY.
    got = sorted((a, Decimal(d), Decimal(c), o) for a, d, c, o in lines)
    assert got == sorted([("1122", Decimal("15600"), Decimal(0), "inv1"), ("6001", Decimal(0), Decimal("15600"), ""),
                          ("1002", Decimal("15500"), Decimal(0), ""), ("1122", Decimal(0), Decimal("15600"), "inv1"),
                          ("660302", Decimal("100"), Decimal(0), "")])
    assert (Decimal(item[0]), Decimal(item[1])) == (Decimal(0), Decimal(0))


# --- a settlement consumed before its document has posted -------------------------------

def _events(company: str):
    invoice = ar.InvoiceIssued(company_id=company, document_number="INV-1", invoice_id="inv1", customer_code="K",
                               currency="EUR", occurrence_date=dates.to_proto(dt.date(2026, 12, 5)),
                               gross_total=eur("2000.00"), lines=[ar.InvoiceLine(net=eur("2000.00"))])
    receipt = ar.PaymentReceived(company_id=company, document_number="RC-1", receipt_id="rc1", customer_code="K",
                                 occurrence_date=dates.to_proto(dt.date(2026, 12, 20)), amount=eur("2000.00"),
                                 unapplied=eur("0"),
                                 applications=[ar.ReceiptApplication(invoice_id="inv1", amount=eur("2000.00"))])
    return invoice, receipt


def _batch(*msgs):
    return [(ConsumerRecord("t", 0, 0, 0, 0, None, b"", None, 0, 0, []), new_envelope(m, source="test"))
            for m in msgs]


async def _ledger(db: Database, company: str):
    """The company's journal lines, the invoice's open item (EUR, CNY) and its parked events."""
    async with db.sessions() as s:
        jl = JournalLine.__table__
        lines = (await s.execute(sa.select(jl.c.account_code, jl.c.debit, jl.c.credit, jl.c.open_item)
                                 .where(jl.c.company_id == company))).all()
        item = (await s.execute(sa.select(sa.func.coalesce(sa.func.sum(jl.c.txn_amount), 0),
                                          sa.func.coalesce(sa.func.sum(jl.c.debit - jl.c.credit), 0))
                                .where(jl.c.company_id == company, jl.c.open_item == "inv1"))).one()
        parked = (await s.execute(sa.select(ParkedEvent.event_id, ParkedEvent.reason, ParkedEvent.awaiting,
                                            ParkedEvent.resolved_by, ParkedEvent.resolution)
                                  .where(ParkedEvent.company_id == company)
                                  .order_by(ParkedEvent.parked_at, ParkedEvent.event_id))).all()
    got = sorted((a, Decimal(d), Decimal(c), o) for a, d, c, o in lines)
    return got, (Decimal(item[0]), Decimal(item[1])), parked


# Invoice 2,000 EUR at 7.80 = 15,600.00; receipt at 7.75 = 15,500.00 relieves the booked
# 15,600.00 and realises a 100.00 loss (660302); the invoice's item ends 0.00 EUR, 0.00 CNY.
SETTLED = sorted([("1122", Decimal("15600"), Decimal(0), "inv1"), ("6001", Decimal(0), Decimal("15600"), ""),
                  ("1002", Decimal("15500"), Decimal(0), ""), ("1122", Decimal(0), Decimal("15600"), "inv1"),
                  ("660302", Decimal("100"), Decimal(0), "")])


async def _setup(url: str, company: str, rates: list[tuple[dt.date, str]]) -> tuple[Database, InboxConsumer, Poster]:
    db = Database(url)
    async with db.transaction() as s:
        await create_company(s, company_id=company, name="S", functional_currency="CNY", chart_template="cas")
        s.add_all([ExchangeRate(company_id=company, currency="EUR", rate_date=d, rate=Decimal(r)) for d, r in rates])
    poster = Poster(rulebook())
    consumer = InboxConsumer(db, GLSettings(database_url=url), name="gl-posting", topics=[], handler=poster)
    return db, consumer, poster


def test_receipt_in_a_batch_before_its_invoice_waits_and_posts_with_the_invoice(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'gl.db'}"
    migrate(MIGRATIONS, url)
    company = f"S{uuid.uuid4().hex[:8]}"
    invoice, receipt = _events(company)
    receipts, invoices = _batch(receipt), _batch(invoice)

    async def run():
        db, consumer, _ = await _setup(url, company, [(dt.date(2026, 12, 1), "7.80"), (dt.date(2026, 12, 20), "7.75")])
        try:
            await consumer._apply(receipts)
            await consumer._apply(receipts)  # redelivered: still one parked event
            waiting = await _ledger(db, company)
            await consumer._apply(invoices)
            await consumer._apply(invoices)  # redelivered: no second journal
            await consumer._apply(receipts)  # and the receipt again: already posted, once
            return waiting, await _ledger(db, company)
        finally:
            await db.dispose()

    (lines0, item0, parked0), (lines, item, parked) = asyncio.run(run())
    receipt_id = receipts[0][1].id
    # Before its invoice: no journal (never the receipt at 7.75 against an unknown item), parked.
    assert lines0 == [] and item0 == (0, 0)
    assert [(e, r.split(":")[0], a, b) for e, r, a, b, _ in parked0] == [
        (receipt_id, "awaiting-document inv1", "inv1", None)]
    # The invoice's batch posts the invoice and the receipt, at its carrying amount.
    assert lines == SETTLED
    assert item == (Decimal(0), Decimal(0))
    assert [(e, b, res) for e, _, _, b, res in parked] == [(receipt_id, "gl-posting", "posted when inv1 posted")]


def test_receipt_waits_for_an_invoice_parked_for_its_rate_and_posts_when_it_is_decided(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'gl.db'}"
    migrate(MIGRATIONS, url)
    company = f"S{uuid.uuid4().hex[:8]}"
    invoice, receipt = _events(company)
    batch = _batch(invoice, receipt)

    async def run():
        # Only the receipt's rate is known: the invoice (5 December) parks for its rate.
        db, consumer, poster = await _setup(url, company, [(dt.date(2026, 12, 20), "7.75")])
        try:
            await consumer._apply(batch)
            waiting = await _ledger(db, company)
            async with db.transaction() as s:  # the rate is entered, the invoice's parked event posted
                s.add(ExchangeRate(company_id=company, currency="EUR", rate_date=dt.date(2026, 12, 1),
                                   rate=Decimal("7.80")))
            async with db.transaction() as s:
                await resolve_parked(s, poster, batch[0][1].id, actor="clerk")
            return waiting, await _ledger(db, company)
        finally:
            await db.dispose()

    (lines0, _, parked0), (lines, item, parked) = asyncio.run(run())
    invoice_id, receipt_id = batch[0][1].id, batch[1][1].id
    assert lines0 == []
    assert sorted((e, r.split(" on ")[0] if a is None else r.split(":")[0], a) for e, r, a, _, _ in parked0) == sorted([
        (invoice_id, "no exchange rate for EUR", None), (receipt_id, "awaiting-document inv1", "inv1")])
    assert lines == SETTLED
    assert item == (Decimal(0), Decimal(0))
    assert sorted((e, b, res) for e, _, _, b, res in parked) == sorted([
        (invoice_id, "clerk", "posted after reopening"), (receipt_id, "gl-posting", "posted when inv1 posted")])


def test_receipt_waits_for_an_invoice_of_its_batch_parked_in_a_closed_month(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'gl.db'}"
    migrate(MIGRATIONS, url)
    company = f"S{uuid.uuid4().hex[:8]}"
    invoice, receipt = _events(company)
    batch = _batch(receipt, invoice)

    async def run():
        db, consumer, poster = await _setup(url, company, [(dt.date(2026, 12, 1), "7.80"),
                                                           (dt.date(2026, 12, 20), "7.75")])
        try:
            async with db.transaction() as s:
                await close_period(s, company_id=company, period="2026-12", actor="clerk")
            await consumer._apply(batch)  # the invoice parks (closed month): the receipt must not rely on it
            waiting = await _ledger(db, company)
            async with db.transaction() as s:
                await reopen_period(s, company_id=company, period="2026-12", actor="clerk", reason="late invoice")
            async with db.transaction() as s:
                await resolve_parked(s, poster, batch[1][1].id, actor="clerk")
            return waiting, await _ledger(db, company)
        finally:
            await db.dispose()

    (lines0, _, parked0), (lines, item, parked) = asyncio.run(run())
    assert lines0 == []
    assert sorted(r.split(":")[0] for _, r, _, _, _ in parked0) == sorted([
        f"period 2026-12 of company {company} is closed", "awaiting-document inv1"])
    assert lines == SETTLED
    assert item == (Decimal(0), Decimal(0))
    assert sorted((b, res) for _, _, _, b, res in parked) == sorted([
        ("clerk", "posted after reopening"), ("gl-posting", "posted when inv1 posted")])


@pytest.mark.parametrize("batches", ["one event per batch", "all in one batch"])
def test_receipt_for_an_invoice_booked_before_open_items_relieves_its_carrying_amount(tmp_path, batches):
    """An invoice and a part payment posted by the November rules carry no open item; the
    ledger derives the invoice's item from those journals (gl.service.legacy), so the December
    receipt of the rest relieves the carrying amount and realises the difference, and the
    invoice ends 0.00 in EUR and in CNY. Posted journals are not touched."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'gl.db'}"
    migrate(MIGRATIONS, url)
    company = f"S{uuid.uuid4().hex[:8]}"
    invoice, receipt = _events(company)
    invoice.occurrence_date.CopyFrom(dates.to_proto(dt.date(2026, 11, 28)))
    part = ar.PaymentReceived(company_id=company, document_number="RC-0", receipt_id="rc0", customer_code="K",
                              occurrence_date=dates.to_proto(dt.date(2026, 11, 29)), amount=eur("500.00"),
                              unapplied=eur("0"),
                              applications=[ar.ReceiptApplication(invoice_id="inv1", amount=eur("500.00"))])
    receipt.amount.CopyFrom(eur("1500.00"))
    receipt.applications[0].amount.CopyFrom(eur("1500.00"))

    async def run():
        db, consumer, _ = await _setup(url, company, [(dt.date(2026, 11, 1), "7.80"), (dt.date(2026, 11, 29), "7.70"),
                                                      (dt.date(2026, 12, 20), "7.75")])
        try:
            if batches == "all in one batch":
                await consumer._apply(_batch(receipt, invoice, part))
            else:
                for m in (invoice, part, receipt):
                    await consumer._apply(_batch(m))
            async with db.sessions() as s:
                legacy = (await s.execute(sa.select(LegacyOpenItem.open_item, LegacyOpenItem.txn_amount,
                                                    LegacyOpenItem.functional)
                                          .where(LegacyOpenItem.company_id == company))).all()
            return await _ledger(db, company), sorted((r, Decimal(t), Decimal(f)) for r, t, f in legacy)
        finally:
            await db.dispose()

    (lines, item, parked), legacy = asyncio.run(run())
    assert parked == []
    # November, as the old rules posted them: the invoice 2,000 x 7.80 = 15,600.00; 500 EUR
    # received at 7.70 = 3,850.00 (no exchange difference then). Their parts of the invoice's item:
    assert legacy == [("inv1", Decimal("-500"), Decimal("-3850")), ("inv1", Decimal("2000"), Decimal("15600"))]
    # December: 1,500 EUR at 7.75 = 11,625.00 relieves what is left, 15,600 - 3,850 = 11,750.00:
    # a loss of 125.00 = (7.70 - 7.80) x 500 + (7.75 - 7.80) x 1,500, both receipts' differences.
    assert ("1002", Decimal("11625"), Decimal(0), "") in lines
    assert ("1122", Decimal(0), Decimal("11750"), "inv1") in lines
    assert ("660302", Decimal("125"), Decimal(0), "") in lines
    assert sum(d - c for a, d, c, _ in lines if a == "1122") == 0
    # the invoice's item, tagged lines plus legacy parts: 0.00 EUR, 0.00 CNY
    assert (item[0] + sum(t for _, t, _ in legacy), item[1] + sum(f for *_, f in legacy)) == (0, 0)


def test_supplier_payment_before_its_invoice_waits_and_realises_the_difference(tmp_path):
    from finance.ap.v1 import events_pb2 as ap
    from finance.common.v1 import types_pb2

    url = f"sqlite+aiosqlite:///{tmp_path / 'gl.db'}"
    migrate(MIGRATIONS, url)
    company = f"S{uuid.uuid4().hex[:8]}"
    invoice = ap.InvoiceApproved(company_id=company, document_number="PI-1", invoice_id="inv1", supplier_code="S",
                                 kind=ap.INVOICE_KIND_EXPENSE, currency="EUR", gross_total=eur("1000.00"),
                                 occurrence_date=dates.to_proto(dt.date(2026, 12, 5)),
                                 lines=[ap.PayableLine(net=eur("1000.00"),
                                                     dimensions=types_pb2.Dimensions(cost_centre="CC1"))])
    payment = ap.PaymentMade(company_id=company, document_number="PAY-1", payment_id="pay1", supplier_code="S",
                             occurrence_date=dates.to_proto(dt.date(2026, 12, 25)), amount=eur("1000.00"),
                             applications=[ap.PaymentApplication(invoice_id="inv1", amount=eur("1000.00"))])

    async def run():
        db, consumer, _ = await _setup(url, company, [(dt.date(2026, 12, 1), "7.80"), (dt.date(2026, 12, 25), "7.95")])
        try:
            await consumer._apply(_batch(payment))
            waiting = await _ledger(db, company)
            await consumer._apply(_batch(invoice))
            return waiting, await _ledger(db, company)
        finally:
            await db.dispose()

    (lines0, _, parked0), (lines, item, parked) = asyncio.run(run())
    assert lines0 == [] and [r.split(":")[0] for _, r, _, _, _ in parked0] == ["awaiting-document inv1"]
    # The invoice books 1,000 EUR at 7.80 = 7,800.00 payable; paid at 7.95 = 7,950.00 from the
    # bank, the payable is relieved at 7,800.00 and 150.00 is a realised loss (660302).
    assert [ln for ln in lines if ln[0] in ("1002", "220201", "660302")] == sorted([
        ("220201", Decimal(0), Decimal("7800"), "inv1"), ("220201", Decimal("7800"), Decimal(0), "inv1"),
        ("1002", Decimal(0), Decimal("7950"), ""), ("660302", Decimal("150"), Decimal(0), "")])
    assert item == (Decimal(0), Decimal(0))
    assert [(b, res) for *_, b, res in parked] == [("gl-posting", "posted when inv1 posted")]


def test_receipt_for_two_invoices_waits_for_each_in_turn(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'gl.db'}"
    migrate(MIGRATIONS, url)
    company = f"S{uuid.uuid4().hex[:8]}"
    inv1, _ = _events(company)
    inv2 = ar.InvoiceIssued()
    inv2.CopyFrom(inv1)
    inv2.document_number, inv2.invoice_id = "INV-2", "inv2"
    inv2.gross_total.CopyFrom(eur("1000.00"))
    inv2.lines[0].net.CopyFrom(eur("1000.00"))
    receipt = ar.PaymentReceived(company_id=company, document_number="RC-1", receipt_id="rc1", customer_code="K",
                                 occurrence_date=dates.to_proto(dt.date(2026, 12, 20)), amount=eur("3000.00"),
                                 unapplied=eur("0"),
                                 applications=[ar.ReceiptApplication(invoice_id="inv1", amount=eur("2000.00")),
                                               ar.ReceiptApplication(invoice_id="inv2", amount=eur("1000.00"))])

    async def run():
        db, consumer, _ = await _setup(url, company, [(dt.date(2026, 12, 1), "7.80"), (dt.date(2026, 12, 20), "7.75")])
        try:
            states = []
            for batch in (_batch(receipt), _batch(inv1), _batch(inv2)):
                await consumer._apply(batch)
                states.append(await _ledger(db, company))
            return states
        finally:
            await db.dispose()

    first, second, third = asyncio.run(run())
    assert [(a, res) for _, _, a, _, res in first[2]] == [("inv1", None)]
    assert [(a, res) for _, _, a, _, res in second[2]] == [("inv2", None)]  # inv1 posted: now waits for inv2
    assert not any(a == "1002" for a, *_ in second[0])
    # 3,000 EUR at 7.75 = 23,250.00 relieves 15,600.00 + 7,800.00 = 23,400.00: a 150.00 loss.
    lines = third[0]
    assert ("1002", Decimal("23250"), Decimal(0), "") in lines and ("660302", Decimal("150"), Decimal(0), "") in lines
    assert third[1] == (Decimal(0), Decimal(0))  # inv1's item
    assert sum(d - c for a, d, c, o in lines if o == "inv2") == 0
    assert [res for *_, res in third[2]] == ["posted when inv2 posted"]


def test_operators_decide_settlements_whose_document_never_comes(tmp_path):
    """Two receipts wait for invoices that have not posted. The operator posts one at the
    payment-date rate (with the reason in the journal) and sends the other to the dead
    letters; deciding again changes nothing; once its invoice posts, replaying the dead
    letter posts that receipt at the invoice's carrying amount."""
    from gl.adapters.tables import AwaitingDecision, Journal
    from gl.service import awaiting
    from gl.service.posting import LedgerError

    url = f"sqlite+aiosqlite:///{tmp_path / 'gl.db'}"
    migrate(MIGRATIONS, url)
    company = f"S{uuid.uuid4().hex[:8]}"
    invoice, receipt = _events(company)  # INV-1 (inv1) 2,000 EUR on 12-05; RC-1 pays it on 12-20
    lost = ar.PaymentReceived()
    lost.CopyFrom(receipt)
    lost.document_number, lost.receipt_id = "RC-9", "rc9"
    lost.applications[0].invoice_id = "inv-never"

    async def run():
        db, consumer, poster = await _setup(url, company, [(dt.date(2026, 12, 1), "7.80"),
                                                           (dt.date(2026, 12, 20), "7.75")])
        try:
            b_lost, b_receipt = _batch(lost), _batch(receipt)
            await consumer._apply(b_lost + b_receipt)
            async with db.sessions() as s:
                waiting = await awaiting.awaiting_settlements(s, company)
            ids = {w["document"]: w["event_id"] for w in waiting}

            async def decide(doc, action, reason="the invoice was never issued"):
                async with db.transaction() as s:
                    d = await awaiting.decide(s, poster, ids[doc], action=action, reason=reason, actor="ops-anna",
                                              consumer="gl-posting")
                    return awaiting.decision_json(d)

            posted = await decide("RC-9", "post")
            again = await decide("RC-9", "post", "asked twice")
            try:
                await decide("RC-9", "dead-letter")
                other = None
            except LedgerError as exc:
                other = type(exc).__name__
            dead = await decide("RC-1", "dead-letter", "invoice INV-1 not published yet")
            async with db.sessions() as s:
                journal = await s.get(Journal, posted["journal_id"])
                still = await awaiting.awaiting_settlements(s, company)
                decisions = (await s.execute(sa.select(AwaitingDecision.action, AwaitingDecision.actor)
                                             .order_by(AwaitingDecision.id))).all()
            after_decisions = await _ledger(db, company)
            await consumer._apply(_batch(invoice))
            await consumer.replay(dead["dead_letter_id"])
            return waiting, posted, again, other, journal, still, decisions, after_decisions, await _ledger(db, company)
        finally:
            await db.dispose()

    waiting, posted, again, other, journal, still, decisions, (lines0, _, _), (lines, item, _) = asyncio.run(run())
    assert sorted((w["document"], w["awaiting"]) for w in waiting) == [("RC-1", "inv1"), ("RC-9", "inv-never")]
    assert all(w["age_seconds"] >= 0 for w in waiting)
    # RC-9: 2,000 EUR at the payment-date rate 7.75 = 15,500.00 on both sides, nothing realised;
    # the journal says why, and who decided.
    assert sorted(ln for ln in lines0 if ln[3] == "inv-never") == [("1122", Decimal(0), Decimal("15500"), "inv-never")]
    assert "inv-never never posted, valued at the payment-date rate (ops-anna: the invoice was never issued)" \
        in journal.description and journal.posted_by == "ops-anna"
    assert again == posted and other == "AlreadyDecided"  # the same decision again: nothing new
    assert still == [] and decisions == [("posted", "ops-anna"), ("dead_lettered", "ops-anna")]
    assert not any(o == "inv1" for *_, o in lines0)  # RC-1 left the ledger for the dead letters
    # INV-1 posts (15,600.00); the replayed RC-1 relieves it at 15,600.00: loss 100.00 (as SETTLED).
    assert sorted(ln for ln in lines if ln[3] == "inv1" or ln[0] == "660302") == sorted(
        [x for x in SETTLED if x[3] == "inv1" or x[0] == "660302"])
    assert item == (Decimal(0), Decimal(0))


def test_the_operators_command_derives_open_items_of_journals_posted_before_it_existed(tmp_path):
    """Journals posted by the November rules before this release have no legacy parts: the
    command (legacy.scan) derives them once; run again, it derives nothing."""
    from gl.adapters.tables import LegacyOpenItemScan
    from gl.service import legacy
    from gl.service.posting import lock_documents

    url = f"sqlite+aiosqlite:///{tmp_path / 'gl.db'}"
    migrate(MIGRATIONS, url)
    company = f"S{uuid.uuid4().hex[:8]}"
    invoice, _ = _events(company)
    invoice.occurrence_date.CopyFrom(dates.to_proto(dt.date(2026, 11, 28)))

    async def run():
        db, consumer, poster = await _setup(url, company, [(dt.date(2026, 11, 1), "7.80")])
        try:
            await consumer._apply(_batch(invoice))
            async with db.transaction() as s:  # as before this release: no parts, never scanned
                await s.execute(sa.delete(LegacyOpenItem))
                await s.execute(sa.delete(LegacyOpenItemScan))
            results = []
            for _ in range(2):
                async with db.transaction() as s:
                    await lock_documents(s, {company})
                    results.append((await legacy.scan(s, poster.rules, await poster.company(s, company),
                                                      actor="ops")).as_dict())
            async with db.sessions() as s:
                items = await legacy.legacy_items(s, company, {"inv1"})
            return results, items
        finally:
            await db.dispose()

    (first, again), items = asyncio.run(run())
    assert first == {"journals_read": 1, "parts_derived": 1, "skipped": []}
    assert again["parts_derived"] == 0
    # 2,000 EUR at 7.80 = 15,600.00, the invoice's whole receivable line
    assert items == {"inv1": OpenItem("EUR", Decimal("2000"), Decimal("15600"))}
