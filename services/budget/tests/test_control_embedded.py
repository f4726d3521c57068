"""The budget's use cases on the embedded database (SQLite, as `make run` uses): versions,
reserve/commit/release, lapsed reservations, actuals from JournalPosted, running totals that
always equal the rows they sum, and the events."""

import asyncio
import datetime as dt
from decimal import Decimal as D

import pytest
import sqlalchemy as sa
from budget.adapters.tables import Actual, BudgetLine, Commitment, Reservation
from budget.bootstrap import MIGRATIONS
from budget.service.actuals import ActualsFromLedger
from budget.service.budgets import BudgetDataError, LineIn, add_lines, approve, create_version, upsert_item
from budget.service.control import BudgetError, check_budget, commit, release, reserve
from budget.service.report import budget_report
from finance.common.v1 import types_pb2
from finance.gl.v1 import events_pb2 as gl
from fincore import dates, money
from fincore.db import Database, migrate
from fincore.events import new_envelope
from fincore.tables import OutboxRecord

TTL = dt.timedelta(days=1)


@pytest.fixture()
def db(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'budget.db'}"
    migrate(MIGRATIONS, url)
    d = Database(url)
    asyncio.run(_seed(d))
    yield d
    asyncio.run(d.dispose())


async def _seed(db):
    async with db.transaction() as s:
        await upsert_item(s, "C", "OFFICE", "Office", ["6602"])
        await upsert_item(s, "C", "NOACCT", "Unmapped", [])
        v = await create_version(s, company="C", code="V1", kind="original", currency="EUR", description="",
                                 created_by="t")
        await add_lines(s, v, [LineIn("ADM", "OFFICE", "2026-11", D("1000.00"), "block", D("0")),
                               LineIn("OPS", "OFFICE", "2026-11", D("500.00"), "block", D("0")),
                               LineIn("ADM", "NOACCT", "2026-11", D("50.00"), "block", D("0"))])
        await approve(s, v, "t")


def run(coro):
    return asyncio.run(coro)


async def _reserve(db, ref, amount, ttl=TTL):
    async with db.engine.begin() as conn:
        return await reserve(conn, "C", "ADM", "OFFICE", "2026-11", D(amount), ref, ttl=ttl)


async def _totals_match(db):
    async with db.sessions() as s:
        lines = (await s.execute(sa.select(BudgetLine))).scalars().all()
    for line in lines:
        await _line_totals_match(db, line)


async def _line_totals_match(db, line):
    async with db.sessions() as s:
        res = (await s.execute(sa.select(sa.func.coalesce(sa.func.sum(Reservation.amount), 0)).where(
            Reservation.line_id == line.id, Reservation.status == "reserved"))).scalar()
        com = (await s.execute(sa.select(sa.func.coalesce(sa.func.sum(Commitment.amount - Commitment.actualised), 0))
                               .where(Commitment.line_id == line.id))).scalar()
        act = (await s.execute(sa.select(sa.func.coalesce(sa.func.sum(Actual.amount), 0)).where(
            Actual.line_id == line.id))).scalar()
    assert (line.reserved_total, line.committed_total, line.actual_total) == (D(res), D(com), D(act))


def journal(amount: str, source_document: str, cc="ADM", account="6602") -> gl.JournalPosted:
    m = lambda v: money.to_proto(D(v), "EUR")  # noqa: E731
    return gl.JournalPosted(
        company_id="C", document_number="JV-1", occurrence_date=dates.to_proto(dt.date(2026, 11, 20)),
        journal_id=f"J-{source_document}-{amount}", period="2026-11", source_document=source_document,
        source_event_type="finance.ap.InvoiceApproved.v1" if source_document else "", lines=[
            gl.JournalLine(line_no=1, account_code=account, debit=m(amount), credit=m("0"),
                           dimensions=types_pb2.Dimensions(cost_centre=cc)),
            gl.JournalLine(line_no=2, account_code="220201", debit=m("0"), credit=m(amount))])


def test_the_budget_cycle_on_the_embedded_database(db):
    d = run(_reserve(db, "PR-1", "600.00"))
    assert d.allowed and d.figures.reserved == D("600.00")
    again = run(_reserve(db, "PR-1", "600.00"))
    assert again.allowed and "already reserved" in again.reason and again.figures.reserved == D("600.00")
    refused = run(_reserve(db, "PR-2", "500.00"))
    assert not refused.allowed and "over budget by 100.00" in refused.reason

    async def check(amount="1.00", item="OFFICE", cc="ADM"):
        async with db.autocommit.connect() as conn:
            return await check_budget(conn, "C", cc, item, "2026-11", D(amount))

    assert run(check()).figures.available == D("400.00")
    assert "mapped to no GL account" in run(check(item="NOACCT")).reason
    assert "no approved budget" in run(check(cc="OTHER")).reason

    async def do_commit(ref, amount, invoice):
        async with db.transaction() as s:
            return await commit(s, "C", ref, D(amount), invoice)

    c = run(do_commit("PR-1", "650.00", "PI-1"))  # 50.00 more than reserved: checked, fits
    assert c.allowed and (c.figures.reserved, c.figures.committed) == (D("0"), D("650.00"))
    assert run(do_commit("PR-1", "650.00", "PI-1")).reason == "already committed for PI-1"
    with pytest.raises(BudgetError):
        run(do_commit("NOPE", "1.00", "PI-9"))

    # the invoice's journal arrives: commitment -> actual, not both; a manual journal adds actual
    async def consume(msg):
        async with db.transaction() as s:
            await ActualsFromLedger()(s, new_envelope(msg, source="gl"))

    run(consume(journal("650.00", "PI-1")))
    run(consume(journal("20.00", "")))
    run(consume(journal("5.00", "", cc="")))  # no cost centre: not this budget's
    run(_totals_match(db))

    async def report():
        async with db.sessions() as s:
            return (await budget_report(s, "C", budget_item="OFFICE", cost_centre="ADM"))["rows"][0]

    r = run(report())
    assert (r["actual"], r["committed"], r["consumed"], r["reserved"], r["available"]) == \
        ("670.00", "0.00", "670.00", "0.00", "330.00")

    # an invoice whose journal reaches no budget line (a stock purchase: GRNI, no cost centre;
    # here an account no item maps): its commitment becomes the actual where it was committed,
    # once, however often the journal is delivered; one whose journal lands on another budget
    # line: the actual counts there and the commitment is cleared
    run(_reserve(db, "PR-9", "100.00"))
    run(do_commit("PR-9", "100.00", "PI-9"))
    assert run(report())["committed"] == "100.00"
    stock = journal("100.00", "PI-9", account="6601")
    run(consume(stock))
    run(consume(stock))  # delivered again (the inbox would drop it): the commitment is already actual
    r = run(report())
    assert (r["actual"], r["committed"]) == ("770.00", "0.00")  # 670.00 + 100.00
    run(_reserve(db, "PR-10", "30.00"))
    run(do_commit("PR-10", "30.00", "PI-10"))
    run(consume(journal("30.00", "PI-10", cc="OPS")))
    r = run(report())
    assert (r["actual"], r["committed"], r["reserved"]) == ("770.00", "0.00", "0.00")
    run(_totals_match(db))

    # an abandoned request lapses; a released one frees its budget
    assert run(_reserve(db, "PR-LAPSE", "100.00", ttl=dt.timedelta(seconds=-1))).allowed
    assert run(check()).figures.reserved == 0
    run(_reserve(db, "PR-3", "100.00"))

    async def do_release(ref):
        async with db.transaction() as s:
            return await release(s, "C", ref)

    assert run(do_release("PR-3")).requested == D("100.00")
    assert run(do_release("PR-3")).requested == 0
    run(_totals_match(db))

    async def events():
        async with db.sessions() as s:
            return [r.ce_type for r in (await s.execute(sa.select(OutboxRecord).order_by(OutboxRecord.id))).scalars()]

    # 80 % reached once (by the 100.00 that lapsed: 770 + 100 of 1,000), not again when PR-3 crossed it
    assert run(events()).count("finance.budget.BudgetThresholdReached.v1") == 1


def test_versions(db):
    async def go():
        async with db.transaction() as s:
            v = await create_version(s, company="C", code="V2", kind="revised", currency="EUR", description="",
                                     created_by="t")
            with pytest.raises(BudgetDataError, match="unknown budget item"):
                await add_lines(s, v, [LineIn("ADM", "TRAVEL", "2026-11", D("1.00"))])
            await add_lines(s, v, [LineIn("ADM", "OFFICE", "2026-11", D("2000.00"), "warn", D("5"))])
            await approve(s, v, "t")
            with pytest.raises(BudgetDataError, match="already approved"):
                await approve(s, v, "t")
        async with db.autocommit.connect() as conn:
            return await check_budget(conn, "C", "ADM", "OFFICE", "2026-11", D("2200.00"))

    d = run(go())
    assert d.allowed and d.warning and d.figures.budget == D("2000.00")


def test_a_spend_in_another_currency_is_converted_at_the_ledgers_rate(db):
    """The EUR budget line ADM/OFFICE (1,000.00) of company C; the ledger (functional CNY) has
    EUR 7.80 and USD 7.10 from 1 Nov. USD -> EUR = 7.10 / 7.80 = 0.9102564103."""
    from fincore import rates

    async def scenario():
        async with db.transaction() as s:
            await rates.LedgerRatesConsumer()(s, new_envelope(gl.ExchangeRatesSet(
                company_id="C", functional_currency="CNY", occurrence_date=dates.to_proto(dt.date(2026, 11, 1)),
                rates=[gl.ExchangeRate(currency=c, rate_date=dates.to_proto(dt.date(2026, 11, 1)), rate=r)
                       for c, r in (("EUR", "7.80"), ("USD", "7.10"))]), source="gl"))
        async with db.engine.begin() as conn:
            # USD 1,200.00 x 0.9102564103 = EUR 1,092.31 > 1,000.00: refused, nothing reserved.
            over = await reserve(conn, "C", "ADM", "OFFICE", "2026-11", D("1200.00"), "PR:1", ttl=TTL, currency="USD")
            # USD 500.00 -> EUR 455.13 (455.12820515): reserved in EUR, the USD amount and rate beside it.
            fits = await reserve(conn, "C", "ADM", "OFFICE", "2026-11", D("500.00"), "PR:2", ttl=TTL, currency="USD")
            with pytest.raises(rates.RateUnavailable, match="GBP/EUR"):
                await check_budget(conn, "C", "ADM", "OFFICE", "2026-11", D("1.00"), "GBP")
        async with db.sessions() as s:
            r = await s.get(Reservation, ("C", "PR:2"))
            res = (r.amount, r.original_amount, r.original_currency, r.rate, r.rate_date)
            # the invoice in USD 520.00 -> EUR 473.33: 455.13 reserved, 18.20 more checked and committed
            done = await commit(s, "C", "PR:2", D("520.00"), "PI-1", currency="USD")
            await s.commit()
            com = await s.get(Commitment, ("C", "PR:2", "PI-1"))
        return over, fits, res, done, com

    over, fits, res, done, com = run(scenario())
    assert not over.allowed and over.requested == D("1092.31") and "asked as USD 1200.00 at 0.9102564103" in over.reason
    assert fits.allowed and fits.requested == D("455.13") and fits.figures.reserved == D("455.13")
    assert res == (D("455.13"), D("500.00"), "USD", D("0.9102564103"), dt.date(2026, 11, 1))
    assert done.allowed and done.requested == D("473.33") and done.figures.committed == D("473.33")
    assert (com.amount, com.original_amount, com.original_currency) == (D("473.33"), D("520.00"), "USD")
    run(_totals_match(db))
