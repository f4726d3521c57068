"""The balances per counterparty (table counterparty_balance) that the balance sheet reads,
on PostgreSQL and the embedded SQLite: every path that writes journal lines keeps them
(events through the inbox consumer, a reversal, a revaluation and its automatic reversal),
a redelivered batch changes nothing, the balance sheet presents them as the lines say (whole
months from the table, a partial month from the lines too), and the migration that creates
the table fills it from the lines already posted with exactly what posting keeps. Also:
counterparty_total is counterparty_balance over all months (the balance sheet reads the total
less the months after its date).

Known answers (company in CNY, chart cas; USD at 7.00 from 1 October, 7.10 on 31 October):
- 5 Oct invoice K1 1,130.00 (1,000.00 + VAT 130.00); 10 Oct invoice K2 USD 100.00 = 700.00;
  20 Oct receipt from K1 1,500.00: 1,130.00 applied, 370.00 unapplied -> K1 owes -370.00,
  an advance from a customer (2203);
- October's revaluation: K2's USD 100.00 at 7.10 = 710.00, +10.00 on 31 Oct, reversed 1 Nov;
- 3 Nov supplier invoice S1 565.00 (500.00 + VAT 65.00); 5 Nov payment to S1 800.00 -> S1
  owes -235.00, a prepayment (1123);
- 20 Nov K2's invoice reversed: K2 owes nothing from then on.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal as D
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import sqlalchemy as sa
from aiokafka import ConsumerRecord
from finance.ap.v1 import events_pb2 as ap
from finance.ar.v1 import events_pb2 as ar
from finance.common.v1 import types_pb2
from fincore import dates, money
from fincore.db import Database, migrate, sync_url
from fincore.events import new_envelope
from fincore.inbox import InboxConsumer
from fincore.testing.rowlocks import scratch_url
from gl.adapters.tables import (
    Company,
    CounterpartyBalance,
    CounterpartyTotal,
    ExchangeRate,
    Journal,
    JournalLine,
    PeriodBalance,
)
from gl.bootstrap import MIGRATIONS, rulebook
from gl.service import reports
from gl.service.posting import Poster, create_company, revalue, reverse_journal
from gl.settings import GLSettings

pytestmark = pytest.mark.integration

CO = "CB1"


@pytest.fixture(params=["postgresql", "sqlite"])
def url(request, tmp_path):
    """A fresh database (PostgreSQL, dropped afterwards; or embedded SQLite)."""
    with scratch_url(request.param, tmp_path, "t_glcp") as url:
        yield url


def M(v: str, cur: str = "CNY") -> types_pb2.Money:  # noqa: N802
    return money.to_proto(D(v), cur)


def day(m: int, d: int):
    return dates.to_proto(dt.date(2026, m, d))


def events() -> list:
    h = lambda n, m, d: {"company_id": CO, "document_number": n, "occurrence_date": day(m, d)}  # noqa: E731
    return [
        ar.InvoiceIssued(**h("INV-1", 10, 5), invoice_id="inv1", customer_code="K1", currency="CNY",
                         net_total=M("1000.00"), tax_total=M("130.00"), gross_total=M("1130.00"),
                         lines=[ar.InvoiceLine(net=M("1000.00"), tax=M("130.00"))]),
        ar.InvoiceIssued(**h("INV-2", 10, 10), invoice_id="inv2", customer_code="K2", currency="USD",
                         net_total=M("100.00", "USD"), gross_total=M("100.00", "USD"),
                         lines=[ar.InvoiceLine(net=M("100.00", "USD"))]),
        ar.PaymentReceived(**h("RC-1", 10, 20), receipt_id="rc1", customer_code="K1", amount=M("1500.00"),
                           unapplied=M("370.00"),
                           applications=[ar.ReceiptApplication(invoice_id="inv1", amount=M("1130.00"))]),
        ap.InvoiceApproved(**h("PI-1", 11, 3), invoice_id="pi1", supplier_code="S1", kind=ap.INVOICE_KIND_EXPENSE,
                           gross_total=M("565.00"),
                           lines=[ap.PayableLine(net=M("500.00"), tax=M("65.00"),
                                                 dimensions=types_pb2.Dimensions(cost_centre="CC1"))]),
        ap.PaymentMade(**h("PY-1", 11, 5), payment_id="py1", supplier_code="S1", amount=M("800.00")),
    ]


def record(env) -> ConsumerRecord:
    return ConsumerRecord(env.topic, 0, 0, 0, 0, None, b"", None, 0, 0, [])


async def kept(s) -> dict:
    """counterparty_balance, after checking that counterparty_total is its sum over the months."""
    cb, ct = CounterpartyBalance.__table__, CounterpartyTotal.__table__
    rows = (await s.execute(sa.select(cb).where(cb.c.company_id == CO))).all()
    out = {(r.account_code, r.counterparty, r.currency, r.period): (D(r.debit), D(r.credit), D(r.txn_amount))
           for r in rows}
    totals: dict = {}
    for (a, who, cur, _), v in out.items():
        t = totals.setdefault((a, who, cur), [D(0), D(0), D(0)])
        for i in range(3):
            t[i] += v[i]
    stored = {(r.account_code, r.counterparty, r.currency): (D(r.debit), D(r.credit), D(r.txn_amount))
              for r in (await s.execute(sa.select(ct).where(ct.c.company_id == CO))).all()}
    assert stored == {k: tuple(v) for k, v in totals.items()}
    return out


async def period_balances_equal_the_lines(s) -> None:
    """period_balance is written by the same statement on PostgreSQL: it still adds up."""
    jl, pb = JournalLine.__table__, PeriodBalance.__table__
    stored = {(a, p): (D(dr), D(cr)) for a, p, dr, cr in (await s.execute(
        sa.select(pb.c.account_code, pb.c.period, pb.c.debit, pb.c.credit).where(pb.c.company_id == CO))).all()}
    lines: dict = {}
    for a, posted, dr, cr in (await s.execute(sa.select(jl.c.account_code, jl.c.posting_date, jl.c.debit,
                                                        jl.c.credit).where(jl.c.company_id == CO))).all():
        t = lines.setdefault((a, f"{posted:%Y-%m}"), [D(0), D(0)])
        t[0] += D(dr)
        t[1] += D(cr)
    assert stored == {k: tuple(v) for k, v in lines.items()} and len(stored) > 10


async def from_lines(s) -> dict:
    """The same, added up from the journal lines (the chart keeps 1122 by customer and
    220201 by supplier)."""
    jl = JournalLine.__table__
    out: dict = {}
    for account, dim in (("1122", jl.c.customer), ("220201", jl.c.supplier)):
        rows = (await s.execute(sa.select(jl.c.posting_date, dim, jl.c.txn_currency, jl.c.debit, jl.c.credit,
                                          jl.c.txn_amount)
                                .where(jl.c.company_id == CO, jl.c.account_code == account))).all()
        for posted, who, cur, dr, cr, txn in rows:
            t = out.setdefault((account, who, cur, f"{posted:%Y-%m}"), [D(0), D(0), D(0)])
            t[0] += D(dr)
            t[1] += D(cr)
            t[2] += D(txn)
    return {k: tuple(v) for k, v in out.items()}


def lines_of(bs: dict, details: dict) -> dict:
    """Balance-sheet line -> (amount, {counterparty or account: amount} of its sources). A source
    kept by a counterparty is one figure per account; its drill-down (`details`: line -> the
    answer of reports.counterparty_detail) lists the counterparties, which add up to it."""
    out = {}
    for section in ("assets", "liabilities"):
        for row in bs[section]["lines"]:
            parts = {}
            for src in row.get("sources", []):
                if "by" not in src:
                    parts[src["account"]] = D(src["amount"])
                    continue
                detail = details[row["line"]]
                assert src["drill_down"] == "/v1/statements/balance-sheet/counterparties?" + urlencode(
                    {"company": CO, "as_of": bs["as_of"], "line": row["line"]})
                mine = [x for x in detail["lines"] if x["account"] == src["account"]]
                assert len(mine) == src["counterparties"] and sum(D(x["amount"]) for x in mine) == D(src["amount"])
                assert detail["amount"] == src["amount"] and detail["total"] == src["counterparties"]
                for x in mine:
                    assert x["drill_down"] == (f"/v1/ledger?company={CO}&account={src['account']}&to={bs['as_of']}"
                                               f"&{src['by']}={x[src['by']]}")
                    parts[x[src["by"]]] = D(x["amount"])
            out[row["line"]] = (D(row["amount"]), parts)
    return out


def test_counterparty_balances_kept_on_every_path_and_read_by_the_balance_sheet(url):
    migrate(MIGRATIONS, url)
    batch = [(record(e), e) for e in (new_envelope(m, source="test") for m in events())]

    async def run():
        db = Database(url)
        try:
            async with db.transaction() as s:
                await create_company(s, company_id=CO, name="CB", functional_currency="CNY", chart_template="cas")
                s.add_all([ExchangeRate(company_id=CO, currency="USD", rate_date=dt.date(2026, 10, 1), rate=D("7.00")),
                           ExchangeRate(company_id=CO, currency="USD", rate_date=dt.date(2026, 10, 31),
                                        rate=D("7.10"))])
            consumer = InboxConsumer(db, GLSettings(database_url=url), name="gl-posting", topics=[],
                                     handler=Poster(rulebook()))
            await consumer._apply(batch)
            async with db.transaction() as s:
                await revalue(s, await s.get(Company, CO), "2026-10", actor="test")
            async with db.transaction() as s:
                inv2 = (await s.execute(sa.select(Journal.id).where(Journal.source_document == "INV-2"))).scalar_one()
                await reverse_journal(s, inv2, on=dt.date(2026, 11, 20), actor="test", reason="wrong customer")
            async with db.sessions() as s:
                first = await kept(s)
                assert first == await from_lines(s)
            await consumer._apply(batch)  # redelivered: the inbox skips it, the balances stay exact
            await consumer._apply(list(reversed(batch)))
            async with db.sessions() as s:
                assert await kept(s) == first == await from_lines(s)
                await period_balances_equal_the_lines(s)
                company = await s.get(Company, CO)
                sheets = {}
                for as_of in ((10, 31), (11, 15), (11, 30)):
                    day_ = dt.date(2026, *as_of)
                    details = {line: await reports.counterparty_detail(s, company, line=line, as_of=day_, dims={},
                                                                       limit=100, offset=0)
                               for line in ("1122", "2203", "220201", "1123")}
                    bs = await reports.balance_sheet(s, company, as_of=day_)
                    sheets[as_of] = lines_of(bs, details)
                    sheets[as_of + ("balanced",)] = bs["balanced"]
                    # The profit not yet closed drills down to an income statement of the same figure.
                    pnl = next(x for x in bs["equity"]["lines"] if x["line"] == "profit_not_yet_closed")
                    q = parse_qs(urlsplit(pnl["drill_down"]).query)
                    assert q["from"] == ["2026-10-01"] and q["include_closing"] == ["true"]
                    inc = await reports.income_statement(s, company, start=dt.date.fromisoformat(q["from"][0]),
                                                         end=dt.date.fromisoformat(q["to"][0]), include_closing=True)
                    assert inc["net_income"] == pnl["amount"], (as_of, inc["net_income"], pnl)
                with pytest.raises(KeyError, match="presents no balances per counterparty"):
                    await reports.counterparty_detail(s, company, line="1002", as_of=dt.date(2026, 11, 30), dims={},
                                                      limit=100, offset=0)
                # Paged: the second page of the advances from customers on 31 Oct is empty (one customer).
                second = await reports.counterparty_detail(s, company, line="2203", as_of=dt.date(2026, 10, 31),
                                                           dims={}, limit=1, offset=1)
                assert second["lines"] == [] and second["total"] == 1 and second["amount"] == "370.00"
                by_cp = {as_of: await reports.by_counterparty(s, CO, ("1122",), "customer", dt.date(2026, *as_of), {})
                         for as_of in ((10, 15), (11, 15))}
                by_cp_lines = {as_of: await reports.by_counterparty(s, CO, ("1122",), "customer",
                                                                    dt.date(2026, *as_of), {"customer": "K2"})
                               for as_of in ((10, 15), (11, 15))}
            return first, sheets, by_cp, by_cp_lines
        finally:
            await db.dispose()

    first, sheets, by_cp, by_cp_lines = asyncio.run(run())
    assert first[("1122", "K1", "", "2026-10")] == (D("1130.00"), D("1500.00"), D(0))
    assert first[("1122", "K2", "USD", "2026-10")] == (D("710.00"), D(0), D("100.00"))  # invoice + revaluation
    assert first[("1122", "K2", "USD", "2026-11")] == (D(0), D("710.00"), D("-100.00"))  # both reversed
    assert first[("220201", "S1", "", "2026-11")] == (D("800.00"), D("565.00"), D(0))
    assert len(first) == 4
    # 31 Oct (the table alone): K2 owes 710.00 (revalued), K1 has paid 370.00 in advance.
    oct31 = sheets[(10, 31)]
    assert oct31["1122"] == (D("710.00"), {"K2": D("710.00")})
    assert oct31["2203"] == (D("370.00"), {"K1": D("370.00")})
    assert "220201" not in oct31 and "1123" not in oct31
    # 15 Nov (October from the table, 1-15 November from the lines): revaluation reversed, S1 prepaid.
    nov15 = sheets[(11, 15)]
    assert nov15["1122"] == (D("700.00"), {"K2": D("700.00")})
    assert nov15["2203"] == (D("370.00"), {"K1": D("370.00")})
    assert nov15["1123"] == (D("235.00"), {"S1": D("235.00")})
    assert "220201" not in nov15
    # 30 Nov: K2's invoice reversed.
    nov30 = sheets[(11, 30)]
    assert "1122" not in nov30 and nov30["2203"] == (D("370.00"), {"K1": D("370.00")})
    assert all(v for k, v in sheets.items() if k[-1] == "balanced")
    # Mid-month from the table + lines equals the lines alone (a dimension filter reads only lines).
    assert by_cp[(10, 15)] == {("1122", "K1"): D("1130.00"), ("1122", "K2"): D("700.00")}
    assert by_cp_lines[(10, 15)] == {("1122", "K2"): D("700.00")}
    assert by_cp[(11, 15)] == {("1122", "K1"): D("-370.00"), ("1122", "K2"): D("700.00")}
    assert by_cp_lines[(11, 15)] == {("1122", "K2"): D("700.00")}

    # The migrations fill the tables from the lines already posted: drop them (downgrade to
    # 0013) and upgrade again; they hold exactly what posting kept.
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    command.downgrade(cfg, "0013")
    engine = sa.create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            assert not {"counterparty_balance", "counterparty_total"} & set(sa.inspect(conn).get_table_names())
    finally:
        engine.dispose()
    migrate(MIGRATIONS, url)

    async def backfilled():
        db = Database(url)
        try:
            async with db.sessions() as s:
                return await kept(s)
        finally:
            await db.dispose()

    assert asyncio.run(backfilled()) == first
