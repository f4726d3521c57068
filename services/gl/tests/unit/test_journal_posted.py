"""The JournalPosted event and outbox row `prepare_journals` builds for each journal: the
message is built in place for speed (lines added, their Money filled, no message made first and
copied), and must be exactly the message the plain constructor makes from the same draft, byte
for byte: other services decode it (budget actuals, cash position, consolidation)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from finance.gl.v1 import events_pb2 as gl_events
from fincore import dates, money
from gl.domain.journal import DraftLine, JournalDraft
from gl.service.posting import Staged, prepare_journals
from opentelemetry import context as otel_context


def reference(d: JournalDraft, journal_id: str) -> gl_events.JournalPosted:
    """The message as the constructor makes it, one Money per amount."""
    return gl_events.JournalPosted(
        company_id=d.company_id, occurrence_date=dates.to_proto(d.posting_date), journal_id=journal_id,
        period=d.period, source_event_id=d.source_event_id, source_event_type=d.source_event_type,
        source_document=d.source_document, rule_id=d.rule_id, rule_version=d.rule_version,
        lines=[gl_events.JournalLine(
            line_no=i, account_code=ln.account_code, debit=money.to_proto(ln.debit, ln.currency),
            credit=money.to_proto(ln.credit, ln.currency), dimensions=ln.dimensions, cash_flow_item=ln.cash_flow_item,
            transaction_amount=money.to_proto(ln.txn_amount, ln.txn_currency) if ln.txn_currency else None)
            for i, ln in enumerate(d.lines, 1)])


def test_the_event_built_in_place_is_the_constructors_byte_for_byte():
    z = Decimal(0)
    draft = JournalDraft(
        company_id="X", posting_date=dt.date(2026, 11, 30), currency="CNY", description="Receipt R-1",
        source_event_id="ev-1", source_event_type="finance.ar.PaymentReceived.v1", source_document="R-1",
        rule_id="ar.payment_received", rule_version=2,
        lines=(DraftLine("100201", Decimal("7130.05"), z, "CNY", cash_flow_item="sales_receipts",
                         txn_currency="USD", txn_amount=Decimal("1000.01")),
               DraftLine("1122", z, Decimal("7100.00"), "CNY", dimensions={"customer": "US-K", "region": "EAST"},
                         txn_currency="USD", txn_amount=Decimal("-1000.01"), open_item="INV-9"),
               DraftLine("660302", z, Decimal("30.05"), "CNY")))  # no dimensions, no foreign amount
    prepared = prepare_journals([Staged(draft, "t" * 32, otel_context.get_current(), chart_template="cas")])
    event, row = prepared.events[0], prepared.outbox[0]
    assert row["payload"] == b""  # serialized once, when numbered (write_prepared)
    want = reference(draft, prepared.journals[0]["id"])
    assert event.SerializeToString(deterministic=True) == want.SerializeToString(deterministic=True)
    assert [ln.HasField("dimensions") for ln in event.lines] == [True] * 3
    assert money.from_proto(event.lines[0].transaction_amount) == Decimal("1000.01")
    assert money.from_proto(event.lines[1].transaction_amount) == Decimal("-1000.01")
    assert prepared.journals[0]["total_debit"] == Decimal("7130.05") == draft.total_credit


def test_money_fill_is_to_proto_in_place():
    for amount, cur in ((Decimal("0"), "CNY"), (Decimal("-12.5"), "USD"), (Decimal("1000"), "JPY"),
                        (Decimal("0.000001"), "CNY"), (Decimal("-0.30"), "EUR"), (Decimal("123456789012.3456"), "KWD")):
        old = gl_events.JournalLine().debit.__class__(currency_code=cur, units=int(amount), nanos=int(
            ((amount - int(amount)) * money.NANOS).to_integral_value()))
        line = gl_events.JournalLine()
        assert money.fill(line.debit, amount, cur) == old == money.to_proto(amount, cur)
        assert line.debit == old
