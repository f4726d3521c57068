"""The cash position's pure part: entries are absolute values keyed by their fact, so writing
one twice changes nothing; the position is computed from them when read."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from cashmgmt.domain.position import CashLine, journal_entries, newer_statement, position, statement_entry

D = dt.date


def test_a_journal_is_one_absolute_entry_per_cash_account_and_a_replay_writes_the_same():
    lines = [CashLine("100201", "CNY", Decimal("100.00"), Decimal("100.00")),
             CashLine("100201", "CNY", Decimal("-30.00"), Decimal("-30.00")),
             CashLine("100202", "EUR", Decimal("-10.00"), Decimal("-79.00"))]
    first = journal_entries("C", "j1", D(2026, 11, 5), lines)
    assert first == journal_entries("C", "j1", D(2026, 11, 5), lines)  # a replay: the same keys and values
    assert {k: (v["amount"], v["functional"]) for k, v in first.items()} == {
        "C|100201|CNY|j1": ("70.00", "70.00"), "C|100202|EUR|j1": ("-10.00", "-79.00")}


def test_position_per_account_with_the_bank_value_dated_and_the_difference_at_the_statement_date():
    table: dict[str, dict] = {}
    for jid, day, amount in (("j1", 5, "100.00"), ("j2", 20, "50.00"), ("j3", 31, "7.00")):
        table.update(journal_entries("C", jid, D(2026, 11, 5) if day == 5 else
                                     D(2026, 11, 20) if day == 20 else D(2026, 12, 1),
                                     [CashLine("100201", "CNY", Decimal(amount), Decimal(amount))]))
    table.update(journal_entries("C", "j4", D(2026, 11, 6), [CashLine("1001", "CNY", Decimal("5.00"),
                                                                       Decimal("5.00"))]))
    st = statement_entry(statement_id="S1", closing_date=D(2026, 11, 30), closing_balance=Decimal("160.00"),
                         currency="CNY", pending_value=[(D(2026, 12, 2), Decimal("40.00"))])
    assert newer_statement(None, st) and not newer_statement(st, {**st, "closing_date": "2026-10-31"})
    p = position("C", accounts={"B1": {"currency": "CNY", "gl_account": "100201", "name": "Main"}},
                 booked=list(table.values()), statements={"B1": st}, as_of=D(2026, 12, 1))
    (b1,) = p["bank_accounts"]
    # booked by 1 Dec: 100 + 50 + 7 = 157.00; by the statement's 30 Nov: 150.00, 10.00 short of the
    # bank's 160.00; value-dated on 1 Dec: 160.00 less 40.00 valued on 2 Dec = 120.00
    assert (b1["booked"], b1["bank_balance"], b1["bank_value_dated"], b1["booked_at_statement_date"],
            b1["difference_at_statement_date"]) == ("157.00", "160.00", "120.00", "150.00", "-10.00")
    assert p["other_cash_accounts"] == [{"gl_account": "1001", "currency": "CNY", "booked": "5.00",
                                         "booked_functional": "5.00"}]
    assert p["totals"] == [{"currency": "CNY", "booked": "162.00", "bank_value_dated": "120.00"}]


def test_a_journal_line_in_the_functional_currency_has_no_transaction_amount_and_counts_its_functional_one():
    from cashmgmt.entrypoints.position_stream import cash_line
    from finance.gl.v1 import events_pb2 as gl
    from fincore import money

    cny = gl.JournalLine(account_code="100201", debit=money.to_proto(Decimal("5.00"), "CNY"),
                         credit=money.to_proto(Decimal(0), "CNY"), cash_flow_item="sales_receipts")
    eur = gl.JournalLine(account_code="100202", debit=money.to_proto(Decimal(0), "CNY"),
                         credit=money.to_proto(Decimal("79.00"), "CNY"),
                         transaction_amount=money.to_proto(Decimal("-10.00"), "EUR"), cash_flow_item="x")
    assert cash_line(cny) == CashLine("100201", "CNY", Decimal("5.00"), Decimal("5.00"))
    assert cash_line(eur) == CashLine("100202", "EUR", Decimal("-10.00"), Decimal("-79.00"))
