# ruff: noqa: E501
"""Property: for any sequence of valid events over several months and currencies, with some
months closed and one currency without a rate,
- every journal balances, and the events that cannot post yet are parked, never lost;
- the trial balance the API serves (whole months from the period_balance table, partial
  months from the lines) equals, account by account, the journal lines it summarises, at
  every month end, mid-month and over a from/to range;
- the balances per counterparty the balance sheet reads (counterparty_balance and its total
  over the months, counterparty_total, kept at posting) equal the lines per account, customer or supplier, currency and month, and the
  balance sheet's receivables and payables per counterparty equal the lines at every date;
- handling the whole sequence again (redelivery, in any order) changes nothing;
- after the decisions (months reopened, the missing rate entered) every parked event posts
  once, and the trial balance still equals the lines.

Runs the real posting path (inbox consumer + Poster + migrations) and the real report
service on the embedded SQLite."""

import asyncio
import datetime as dt
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa
from aiokafka import ConsumerRecord
from finance.ap.v1 import events_pb2 as ap
from finance.ar.v1 import events_pb2 as ar
from finance.cashmgmt.v1 import events_pb2 as cm
from finance.common.v1 import types_pb2
from finance.inventory.v1 import events_pb2 as inv
from fincore import dates, money
from fincore.db import Database, migrate
from fincore.events import new_envelope
from fincore.inbox import InboxConsumer
from gl.adapters.tables import (
    Company,
    CounterpartyBalance,
    CounterpartyTotal,
    ExchangeRate,
    Journal,
    JournalLine,
    ParkedEvent,
)
from gl.bootstrap import MIGRATIONS, rulebook
from gl.domain.chart import load_chart
from gl.service import reports
from gl.service.posting import Poster, close_period, create_company, reopen_period, resolve_parked
from gl.settings import GLSettings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

MONTHS = ("2026-09", "2026-10", "2026-11", "2026-12")
RATES = {"USD": Decimal("7.1234"), "EUR": Decimal("7.8"), "JPY": Decimal("0.0482")}  # JPY: entered later
minor = st.integers(min_value=1, max_value=10_000_000)  # an amount in minor units of its currency
days = st.builds(lambda m, d: dt.date(2026, m, d), st.integers(9, 12), st.integers(1, 30))
CC = types_pb2.Dimensions(cost_centre="CC1")


def M(v: Decimal, cur: str = "CNY") -> types_pb2.Money:  # noqa: N802
    return money.to_proto(money.quantize(v, cur), cur)


@st.composite
def event(draw, company: str):
    n = str(uuid.uuid4())[:8]
    kind = draw(st.sampled_from(["invoice", "receipt", "payment", "received", "issued", "adjust", "charge", "expense"]))
    customer, supplier = draw(st.sampled_from(["K1", "K2"])), draw(st.sampled_from(["S1", "S2"]))
    day = draw(days)
    h = dict(company_id=company, document_number=f"{kind}-{n}", occurrence_date=dates.to_proto(day))
    # Sales and purchases may be in a foreign currency; stock and bank charges are in CNY.
    cur = draw(st.sampled_from(["CNY", "CNY", "USD", "EUR", "JPY"])) if kind in (
        "invoice", "receipt", "payment", "expense") else "CNY"
    q = lambda v: money.quantize(v, cur)  # noqa: E731
    amounts = minor.map(lambda n: Decimal(n).scaleb(-money.minor_units(cur)))  # 0.01 CNY, 1 JPY at least
    if kind == "invoice":
        lines = draw(st.lists(st.tuples(amounts, st.sampled_from(["0.13", "0.09", "0.06", "0"])), min_size=1, max_size=4))
        msg = ar.InvoiceIssued(**h, invoice_id=n, customer_code=customer, currency=cur)
        for net, rate in lines:
            msg.lines.append(ar.InvoiceLine(net=M(net, cur), tax=M(q(net) * Decimal(rate), cur)))
        gross = sum((money.from_proto(x.net) + money.from_proto(x.tax) for x in msg.lines), Decimal(0))
        msg.gross_total.CopyFrom(M(gross, cur))
        return msg
    amount = draw(amounts)
    if kind == "receipt":
        return ar.PaymentReceived(**h, receipt_id=n, customer_code=customer, amount=M(amount, cur))
    if kind == "payment":
        return ap.PaymentMade(**h, payment_id=n, supplier_code=supplier, amount=M(amount, cur))
    if kind == "received":
        return inv.GoodsReceived(**h, movement_id=n, total_cost=M(amount), lines=[inv.MovementLine(total_cost=M(amount))])
    if kind == "issued":
        return inv.GoodsIssued(**h, movement_id=n, total_cost=M(amount), lines=[inv.MovementLine(total_cost=M(amount))])
    if kind == "adjust":
        return inv.StockAdjusted(**h, movement_id=n, value_change=M(amount * draw(st.sampled_from([1, -1]))))
    if kind == "charge":
        return cm.BankChargeRecorded(**h, bank_account="B", amount=M(amount))
    tax = q(amount * Decimal("0.06"))
    return ap.InvoiceApproved(**h, invoice_id=n, supplier_code=supplier, kind=ap.INVOICE_KIND_EXPENSE,
                              gross_total=M(amount + tax, cur), lines=[ap.PayableLine(net=M(amount, cur), tax=M(tax, cur), dimensions=CC)])


def currency_of(msg) -> str:
    return {m.currency_code for m in (getattr(msg, f, None) for f in ("gross_total", "amount", "total_cost", "value_change"))
            if m is not None and m.currency_code}.pop()


@pytest.fixture(scope="module")
def ledger(tmp_path_factory):
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('gl') / 'gl.db'}"
    migrate(MIGRATIONS, url)
    return url


def record(env) -> ConsumerRecord:
    return ConsumerRecord(env.topic, 0, 0, 0, 0, None, b"", None, 0, 0, [])


async def trial_balance_equals_the_lines(s, company: str) -> None:
    """The served trial balance against the journal lines, account by account."""
    c = await s.get(Company, company)
    jl = JournalLine.__table__

    async def lines(lo: dt.date | None, hi: dt.date) -> dict[str, tuple[Decimal, Decimal]]:
        q = sa.select(jl.c.account_code, sa.func.sum(jl.c.debit), sa.func.sum(jl.c.credit)).where(
            jl.c.company_id == company, jl.c.posting_date <= hi)
        if lo:
            q = q.where(jl.c.posting_date >= lo)
        return {a: (Decimal(d), Decimal(cr)) for a, d, cr in (await s.execute(q.group_by(jl.c.account_code))).all()}

    for as_of in (dt.date(2026, 9, 30), dt.date(2026, 10, 15), dt.date(2026, 11, 30), dt.date(2026, 12, 31)):
        tb = await reports.trial_balance(s, c, start=None, end=as_of)
        assert tb["balanced"], tb["totals"]
        served = {x["account"]: Decimal(x["debit_balance"]) - Decimal(x["credit_balance"]) for x in tb["lines"]}
        expected = {a: d - cr for a, (d, cr) in (await lines(None, as_of)).items() if d != cr}
        assert {a: v for a, v in served.items() if v} == expected, as_of
        turnover = {x["account"]: (Decimal(x["debit_turnover"]), Decimal(x["credit_turnover"])) for x in tb["lines"]}
        assert {a: v for a, v in turnover.items() if any(v)} == {a: v for a, v in (await lines(None, as_of)).items() if any(v)}
    lo, hi = dt.date(2026, 10, 10), dt.date(2026, 12, 20)  # partial first and last month, whole months between
    tb = await reports.trial_balance(s, c, start=lo, end=hi)
    served = {x["account"]: (Decimal(x["debit_turnover"]), Decimal(x["credit_turnover"])) for x in tb["lines"]}
    assert {a: v for a, v in served.items() if any(v)} == {a: v for a, v in (await lines(lo, hi)).items() if any(v)}
    assert tb["totals"]["debit_turnover"] == tb["totals"]["credit_turnover"]
    await journal_counts_equal_the_journals(s, company)
    await counterparty_balances_equal_the_lines(s, company)


async def journal_counts_equal_the_journals(s, company: str) -> None:
    """The trial balance's number of journals (whole months from the journal-number counters,
    cut months from the journals) against a count of the journals, over whole, cut and empty
    ranges, from the beginning and from a date."""
    j = Journal.__table__

    async def counted(lo: dt.date | None, hi: dt.date) -> int:
        q = sa.select(sa.func.count()).where(j.c.company_id == company, j.c.posting_date <= hi)
        return (await s.execute(q.where(j.c.posting_date >= lo) if lo else q)).scalar_one()

    d = dt.date
    ends = (d(2026, 8, 31), d(2026, 9, 1), d(2026, 9, 30), d(2026, 10, 15), d(2026, 11, 30), d(2026, 12, 1),
            d(2026, 12, 31), d(2027, 2, 28))
    starts = (None, d(2026, 9, 1), d(2026, 9, 2), d(2026, 10, 15), d(2026, 11, 1), d(2026, 12, 31))
    for lo in starts:
        for hi in ends:
            if lo is None or lo <= hi:
                assert await reports.journal_count(s, company, lo, hi) == await counted(lo, hi), (lo, hi)


async def counterparty_balances_equal_the_lines(s, company: str) -> None:
    """The stored balances per counterparty against the lines, and what the balance sheet
    reads from them (whole months from the table, a partial month from the lines too)."""
    jl, cb = JournalLine.__table__, CounterpartyBalance.__table__
    kept_by = {"1122": "customer", "220201": "supplier"}  # the cas chart's reclassifications by a counterparty
    assert load_chart("cas").by_counterparty == kept_by
    expected: dict = {}
    for posted, code, customer, supplier, cur, dr, cr, txn in (await s.execute(sa.select(
            jl.c.posting_date, jl.c.account_code, jl.c.customer, jl.c.supplier, jl.c.txn_currency, jl.c.debit,
            jl.c.credit, jl.c.txn_amount).where(jl.c.company_id == company, jl.c.account_code.in_(kept_by)))).all():
        who = customer if kept_by[code] == "customer" else supplier
        t = expected.setdefault((code, who, cur, f"{posted:%Y-%m}"), [Decimal(0)] * 3)
        t[0], t[1], t[2] = t[0] + dr, t[1] + cr, t[2] + txn
    stored = {(r.account_code, r.counterparty, r.currency, r.period): [Decimal(r.debit), Decimal(r.credit),
                                                                        Decimal(r.txn_amount)]
              for r in (await s.execute(sa.select(cb).where(cb.c.company_id == company))).all()}
    assert stored == expected
    totals: dict = {}
    for (code, who, cur, _), v in expected.items():
        t = totals.setdefault((code, who, cur), [Decimal(0)] * 3)
        t[0], t[1], t[2] = t[0] + v[0], t[1] + v[1], t[2] + v[2]
    ct = CounterpartyTotal.__table__
    assert {(r.account_code, r.counterparty, r.currency): [Decimal(r.debit), Decimal(r.credit), Decimal(r.txn_amount)]
            for r in (await s.execute(sa.select(ct).where(ct.c.company_id == company))).all()} == totals
    expected_by_as_of: dict[dt.date, dict] = {}
    for as_of in (dt.date(2026, 9, 30), dt.date(2026, 10, 15), dt.date(2026, 11, 30), dt.date(2026, 12, 31)):
        expected_by_as_of[as_of] = {}
        for code, dim in kept_by.items():
            served = await reports.by_counterparty(s, company, (code,), dim, as_of, {})
            lines = {}
            for (c, who, _, period), (dr, cr, _) in expected.items():
                if c == code and period <= f"{as_of:%Y-%m}":
                    lines[(c, who)] = lines.get((c, who), Decimal(0)) + dr - cr
            if as_of.day == 15:  # lines after the date in its month are not part of it
                for who, dr, cr in (await s.execute(sa.select(jl.c[dim], jl.c.debit, jl.c.credit).where(
                        jl.c.company_id == company, jl.c.account_code == code, jl.c.posting_date > as_of,
                        jl.c.posting_date < as_of.replace(day=1) + dt.timedelta(days=31)))).all():
                    lines[(code, who)] -= dr - cr
            assert {k: v for k, v in served.items() if v} == {k: v for k, v in lines.items() if v}, (as_of, code)
            expected_by_as_of[as_of].update({k: v for k, v in lines.items() if v})
    # What the balance sheet presents from them: per account and side, the sum and the number of
    # counterparties (one aggregate), and the listing of each line (its drill-down), against the
    # lines' balances above (each rule of the chart has one account: the sign of a balance is
    # its side).
    rules = tuple(rule for rule in load_chart("cas").reclassify if rule.by)
    for as_of, balances in expected_by_as_of.items():
        sides: dict = {}
        for (code, _), v in balances.items():
            t = sides.setdefault((code, v > 0), [Decimal(0), 0])
            t[0], t[1] = t[0] + v, t[1] + 1
        assert await reports.counterparty_sides(s, company, rules, as_of, {}) == {k: tuple(v) for k, v in sides.items()}
        for rule in rules:
            for line, debit in ((rule.debit, True), (rule.credit, False)):
                listed = await reports.counterparties_of_line(s, company, rules, line, as_of, {}, 1000, 0)
                assert listed == sorted(((c, who, v) for (c, who), v in balances.items()
                                         if c in rule.accounts and (v > 0) == debit), key=lambda x: (x[1], x[0]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_valid_sequence_balances_parks_what_it_must_and_replaying_it_changes_nothing(ledger, data):
    company = f"P{uuid.uuid4().hex[:8]}"
    events = data.draw(st.lists(event(company), min_size=1, max_size=25))
    closed = data.draw(st.sets(st.sampled_from(MONTHS), max_size=2))
    envs = [new_envelope(m, source="prop") for m in events]
    # By hand: an event parks when its month is closed or its currency (JPY) has no rate yet.
    must_park = {e.id for e, m in zip(envs, events, strict=True)
                 if dates.period_of(dates.from_proto(m.occurrence_date)) in closed or currency_of(m) == "JPY"}

    async def run() -> tuple:
        db = Database(ledger)
        try:
            async with db.transaction() as s:
                await create_company(s, company_id=company, name="P", functional_currency="CNY", chart_template="cas")
                s.add_all([ExchangeRate(company_id=company, currency=cur, rate_date=dt.date(2026, 9, 1), rate=rate)
                           for cur, rate in RATES.items() if cur != "JPY"])
            async with db.transaction() as s:
                for period in sorted(closed):
                    await close_period(s, company_id=company, period=period, actor="prop")
            poster = Poster(rulebook())
            consumer = InboxConsumer(db, GLSettings(database_url=ledger), name="gl-posting", topics=[], handler=poster)
            batch = [(record(e), e) for e in envs]
            await consumer._apply(batch)

            async def snapshot():
                async with db.sessions() as s:
                    journals = (await s.execute(sa.select(Journal.id, Journal.total_debit, Journal.total_credit)
                                                .where(Journal.company_id == company))).all()
                    per_journal = (await s.execute(
                        sa.select(JournalLine.journal_id, sa.func.sum(JournalLine.debit), sa.func.sum(JournalLine.credit))
                        .where(JournalLine.company_id == company).group_by(JournalLine.journal_id))).all()
                    parked = (await s.execute(sa.select(ParkedEvent.event_id).where(
                        ParkedEvent.company_id == company, ParkedEvent.resolved_at.is_(None)))).scalars().all()
                    await trial_balance_equals_the_lines(s, company)
                return sorted(journals), sorted(per_journal), sorted(parked)

            first = await snapshot()
            await consumer._apply(batch)  # the whole sequence redelivered
            await consumer._apply(list(reversed(batch)))  # and again, in another order
            again = await snapshot()
            # The decisions: reopen the closed months, enter the missing rate, post what was parked.
            async with db.transaction() as s:
                for period in sorted(closed):
                    await reopen_period(s, company_id=company, period=period, actor="prop", reason="late events")
                s.add(ExchangeRate(company_id=company, currency="JPY", rate_date=dt.date(2026, 9, 1), rate=RATES["JPY"]))
            for event_id in first[2]:
                async with db.transaction() as s:
                    await resolve_parked(s, poster, event_id, actor="prop")
            return first, again, await snapshot()
        finally:
            await db.dispose()

    first, again, resolved = asyncio.run(run())
    journals, per_journal, parked = first
    assert set(parked) == must_park
    assert len(journals) == len(events) - len(must_park)
    assert all(d == c for _, d, c in journals)
    assert all(d == c for _, d, c in per_journal)
    assert again == first
    journals, per_journal, parked = resolved
    assert parked == [] and len(journals) == len(events)  # every event posted exactly once
    assert all(d == c for _, d, c in per_journal)
