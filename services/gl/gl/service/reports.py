# ruff: noqa: E501
"""Reading the ledger: trial balance, general-ledger detail, balance sheet, income statement,
cash-flow statement (direct method), hledger export. All per company, in functional
currency, with dimension filters; every figure names the accounts it came from, and every
account line drills down to /v1/ledger (lines) -> /v1/journals/{id} -> the source event.

Whole months are read from `period_balance` and `counterparty_balance` (kept in the posting
transaction), partial months and dimension-filtered figures from the lines, so a report does
not scan a million lines to add up a year."""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from decimal import Decimal
from typing import NamedTuple
from urllib.parse import quote_plus, urlencode

import sqlalchemy as sa
from fincore import dates, money
from fincore.db import HotStatement
from fincore.sequences import DocumentSequence
from sqlalchemy.ext.asyncio import AsyncSession

from gl.adapters.tables import (
    NOT_FROM_EVENTS,
    Account,
    Amount,
    Company,
    CounterpartyBalance,
    CounterpartyTotal,
    Journal,
    JournalLine,
    PeriodBalance,
)
from gl.domain.cashflow import ITEMS as CF_ITEMS
from gl.domain.cashflow import SECTIONS as CF_SECTIONS
from gl.domain.chart import Reclassification, load_chart
from gl.domain.journal import DIMENSIONS
from gl.domain.presentation import Part, present
from gl.service import banks

ZERO = Decimal(0)
FOUR = sa.literal_column("4")  # the stored scale (Amount), inline: one statement text per report
Sums = dict[str, list[Decimal]]  # account -> [debit, credit]


def _month_start(d: dt.date) -> dt.date:
    return d.replace(day=1)


def _next_month(d: dt.date) -> dt.date:
    return dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def _period(d: dt.date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def _add(into: Sums, rows) -> None:
    for code, dr, cr in rows:
        s = into.setdefault(code, [ZERO, ZERO])
        s[0] += Decimal(dr or 0)
        s[1] += Decimal(cr or 0)


async def _line_sums(session: AsyncSession, company: str, start: dt.date | None, end: dt.date,
                     dims: dict[str, str], exclude_kinds: tuple[str, ...] = ()) -> Sums:
    jl = JournalLine.__table__
    q = sa.select(jl.c.account_code, sa.func.sum(jl.c.debit), sa.func.sum(jl.c.credit)).where(
        jl.c.company_id == company, jl.c.posting_date <= end)
    if start is not None:
        q = q.where(jl.c.posting_date >= start)
    for dim, value in dims.items():
        q = q.where(jl.c[dim] == value)
    if exclude_kinds:
        j = Journal.__table__
        q = q.where(~jl.c.journal_id.in_(
            sa.select(j.c.id).where(j.c.company_id == company, j.c.kind.in_(exclude_kinds))))
    out: Sums = {}
    _add(out, (await session.execute(q.group_by(jl.c.account_code))).all())
    return out


def _whole_months(since: bool) -> HotStatement:
    pb = PeriodBalance.__table__
    q = sa.select(pb.c.account_code, sa.func.sum(pb.c.debit), sa.func.sum(pb.c.credit),
                  sa.func.min(pb.c.period).filter(sa.or_(pb.c.debit != 0, pb.c.credit != 0))).where(
        pb.c.company_id == sa.bindparam("company", type_=sa.String), pb.c.period <= sa.bindparam("to", type_=sa.String))
    if since:
        q = q.where(pb.c.period >= sa.bindparam("from", type_=sa.String))
    return HotStatement(q.group_by(pb.c.account_code))


# Turnover of whole months per account (from the first month, or from a given one) and the
# first of those months with any, compiled once: the statement behind every trial balance and
# balance sheet.
_WHOLE_MONTHS = {False: _whole_months(False), True: _whole_months(True)}


async def sums(session: AsyncSession, company: str, start: dt.date | None, end: dt.date,
               dims: dict[str, str] | None = None, first_months: dict[str, str] | None = None) -> Sums:
    """Debit and credit turnover per account for postings dated in [start, end] (start None:
    from the beginning). Whole months come from period_balance, partial months from lines.
    `first_months`, when given, gets account -> the first whole month read with turnover."""
    dims = {k: v for k, v in (dims or {}).items() if v}
    if dims:
        return await _line_sums(session, company, start, end, dims)
    out: Sums = {}

    def merge(part: Sums) -> None:
        _add(out, [(k, v[0], v[1]) for k, v in part.items()])

    lo = start
    if lo is not None and lo.day != 1:  # head: a partial first month
        head_end = min(end, _next_month(lo) - dt.timedelta(days=1))
        merge(await _line_sums(session, company, lo, head_end, {}))
        lo = head_end + dt.timedelta(days=1)
        if lo > end:
            return out
    if end == _next_month(end) - dt.timedelta(days=1):
        full_end, tail_start = end, None
    else:
        full_end, tail_start = _month_start(end) - dt.timedelta(days=1), _month_start(end)
    if lo is None or lo <= full_end:  # body: whole months
        params = {"company": company, "to": _period(full_end)} | ({"from": _period(lo)} if lo is not None else {})
        rows = await _WHOLE_MONTHS[lo is not None].rows(await session.connection(), params)
        _add(out, (r[:3] for r in rows))
        if first_months is not None:
            first_months.update((r[0], r[3]) for r in rows if r[3] is not None)
    if tail_start is not None:  # tail: a partial last month
        merge(await _line_sums(session, company, max(tail_start, lo) if lo else tail_start, end, {}))
    return out


def _counterparty_nets(rules: tuple[Reclassification, ...], mid_month: bool, dims: tuple[str, ...] = ()):
    """A subquery of the balances per counterparty as of :as_of on the accounts of `rules` (each
    with a `by`): rule (its index in `rules`), account_code, counterparty, net (debit positive)
    and group_net, the counterparty's balance over all the accounts of its rule, whose sign says
    on which line the rule presents it (one customer's credit never nets against another's
    debt). Whole months come from counterparty_total less the months of counterparty_balance
    after :last (both kept at posting), a partial last month (from :start) and figures filtered
    by `dims` (bound by name) from the lines. Rounded to the stored scale, so the signs are
    exact on SQLite's floats too. Parameters: company, as_of, last, start, and each of `dims`."""
    jl, cb, ct = JournalLine.__table__, CounterpartyBalance.__table__, CounterpartyTotal.__table__
    codes = [code for rule in rules for code in rule.accounts]
    # The chart's codes, each a parameter with its value fixed when the statement is built (not
    # an expanding list: the statement is compiled once and run on the driver's connection).
    codes_sql = [sa.literal(code, sa.String) for code in codes]
    company = sa.bindparam("company", type_=sa.String)

    def from_lines(since: bool):
        who = sa.case({code: jl.c[rule.by] for rule in rules for code in rule.accounts}, value=jl.c.account_code)
        q = (sa.select(jl.c.account_code, who.label("counterparty"), (jl.c.debit - jl.c.credit).label("net"))
             .where(jl.c.company_id == company, jl.c.account_code.in_(codes_sql),
                    jl.c.posting_date <= sa.bindparam("as_of", type_=sa.Date),
                    *(jl.c[dim] == sa.bindparam(dim, type_=sa.String) for dim in dims)))
        return q.where(jl.c.posting_date >= sa.bindparam("start", type_=sa.Date)) if since else q

    if dims:
        parts = [from_lines(False)]
    else:
        # The total over all months less the months after `last` (none for the current month).
        parts = [sa.select(ct.c.account_code, ct.c.counterparty, (ct.c.debit - ct.c.credit).label("net"))
                 .where(ct.c.company_id == company, ct.c.account_code.in_(codes_sql)),
                 sa.select(cb.c.account_code, cb.c.counterparty, (cb.c.credit - cb.c.debit).label("net"))
                 .where(cb.c.company_id == company, cb.c.account_code.in_(codes_sql),
                        cb.c.period > sa.bindparam("last", type_=sa.String))]
        if mid_month:
            parts.append(from_lines(True))
    u = sa.union_all(*parts).subquery()
    per = (sa.select(u.c.account_code, u.c.counterparty,
                     sa.func.round(sa.func.sum(u.c.net), FOUR, type_=Amount).label("net"))
           .group_by(u.c.account_code, u.c.counterparty)).subquery()
    rule = sa.case({code: i for i, rule in enumerate(rules) for code in rule.accounts}, value=per.c.account_code)
    if all(len(r.accounts) == 1 for r in rules):  # a counterparty's balance is its group's: no window to sort
        group_net = per.c.net
    else:
        group_net = sa.func.round(sa.func.sum(per.c.net).over(partition_by=(rule, per.c.counterparty)), FOUR,
                                  type_=Amount)
    return sa.select(rule.label("rule"), per.c.account_code, per.c.counterparty, per.c.net,
                     group_net.label("group_net")).subquery()


def _nets_params(company: str, as_of: dt.date, dims: dict[str, str]) -> tuple[bool, dict]:
    """(mid-month?, the parameters of _counterparty_nets)."""
    month_end = as_of == _next_month(as_of) - dt.timedelta(days=1)
    last = _period(as_of if month_end else _month_start(as_of) - dt.timedelta(days=1))
    return not month_end, {"company": company, "as_of": as_of, "last": last, "start": _month_start(as_of), **dims}


async def by_counterparty(session: AsyncSession, company: str, accounts: tuple[str, ...], by: str, as_of: dt.date,
                          dims: dict[str, str]) -> dict[tuple[str, str], Decimal]:
    """(account, counterparty) -> balance (debit positive) as of a date, on accounts the chart
    keeps by the dimension `by` (_counterparty_nets)."""
    mid_month, params = _nets_params(company, as_of, dims)
    n = _counterparty_nets((Reclassification(tuple(accounts), by, "", ""),), mid_month, tuple(sorted(dims)))
    return {(code, who): Decimal(net) for code, who, net in
            (await session.execute(sa.select(n.c.account_code, n.c.counterparty, n.c.net), params)).all() if net}


@functools.cache
def _sides_statement(rules: tuple[Reclassification, ...], mid_month: bool, dims: tuple[str, ...]) -> HotStatement:
    n = _counterparty_nets(rules, mid_month, dims)
    side = (sa.select(n.c.account_code, n.c.net, (n.c.group_net > 0).label("debit"))
            .where(n.c.group_net != 0, n.c.net != 0)).subquery()
    return HotStatement(sa.select(side.c.account_code, side.c.debit, sa.func.sum(side.c.net, type_=Amount),
                                  sa.func.count()).group_by(side.c.account_code, side.c.debit))


async def counterparty_sides(session: AsyncSession, company: str, rules: tuple[Reclassification, ...],
                             as_of: dt.date, dims: dict[str, str]) -> dict[tuple[str, bool], tuple[Decimal, int]]:
    """(account, debit side?) -> (sum of the balances, number of counterparties) of the
    counterparties whose balance over their rule's accounts is a debit (presented on the rule's
    debit line) or a credit (its credit line): what the balance sheet presents, in one
    aggregate, without a row per customer. Compiled once per chart and shape (a report of
    a few milliseconds spent most of them building and compiling the statement)."""
    mid_month, params = _nets_params(company, as_of, dims)
    rows = await _sides_statement(rules, mid_month, tuple(sorted(dims))).rows(await session.connection(), params)
    return {(code, bool(debit)): (Decimal(total), count) for code, debit, total, count in rows}


async def counterparties_of_line(session: AsyncSession, company: str, rules: tuple[Reclassification, ...], line: str,
                                 as_of: dt.date, dims: dict[str, str], limit: int, offset: int
                                 ) -> list[tuple[str, str, Decimal]]:
    """The (account, counterparty, balance) presented on a balance-sheet line by `rules`
    (those with a `by` whose debit or credit line it is), by counterparty then account."""
    mid_month, params = _nets_params(company, as_of, dims)
    n = _counterparty_nets(rules, mid_month, tuple(sorted(dims)))
    sides = [sa.and_(n.c.rule == i, n.c.group_net != 0 if rule.debit == rule.credit else
                     n.c.group_net > 0 if rule.debit == line else n.c.group_net < 0)
             for i, rule in enumerate(rules) if line in (rule.debit, rule.credit)]
    q = (sa.select(n.c.account_code, n.c.counterparty, n.c.net)
         .where(n.c.net != 0, sa.or_(*sides)).order_by(n.c.counterparty, n.c.account_code).limit(limit).offset(offset))
    return [(code, who, Decimal(net)) for code, who, net in (await session.execute(q, params)).all()]


class AccountRow(NamedTuple):
    code: str
    name_zh: str
    name_en: str
    type: str
    cash: bool


_ACCOUNTS = HotStatement(sa.select(*(Account.__table__.c[k] for k in AccountRow._fields))
                         .where(Account.__table__.c.company_id == sa.bindparam("company", type_=sa.String)))


async def accounts_of(session: AsyncSession, company: str) -> dict[str, AccountRow]:
    """The company's chart of accounts, as rows (not ORM objects: every report reads it)."""
    return {r[0]: AccountRow(*r) for r in await _ACCOUNTS.rows(await session.connection(), {"company": company})}


def _first_period_statement() -> HotStatement:
    pb, acct = PeriodBalance.__table__, Account.__table__
    company = sa.bindparam("company", type_=sa.String)
    return HotStatement(sa.select(sa.func.min(pb.c.period)).where(
        pb.c.company_id == company, pb.c.period <= sa.bindparam("period", type_=sa.String),
        sa.or_(pb.c.debit != 0, pb.c.credit != 0),
        pb.c.account_code.in_(sa.select(acct.c.code).where(acct.c.company_id == company,
                                                          acct.c.type.op("IN")(sa.literal_column("('revenue', 'expense')"))))))


_FIRST_PL_PERIOD = _first_period_statement()


def _drill(company: str, account: str, start: dt.date | None, end: dt.date, dims: dict[str, str]) -> str:
    params = {"company": company, "account": account, "to": end.isoformat(), **{k: v for k, v in dims.items() if v}}
    if start:
        params["from"] = start.isoformat()
    return "/v1/ledger?" + urlencode(params)


def _month_end(d: dt.date) -> dt.date:
    return dates.period_end(dates.period_of(d))


async def journal_count(session: AsyncSession, company_id: str, start: dt.date | None, end: dt.date) -> int:
    """How many journals are dated in [start, end] (from the beginning when start is None).

    Whole months are read from the journal-number counters: a journal takes its number from its
    company and month's counter (`journal:<company>:<YYYY-MM>`, fincore.sequences) in the
    transaction that writes it, and numbers are neither skipped nor reused, so a month's counter
    is its number of journals. Only the days of a month cut by `start` or `end` are counted in
    the journal table. (Counting every journal to the date made the trial balance's cost grow
    with the ledger: 7.2 ms per read at ~20,000 journals a company under load, the GL database's
    most expensive statement in the lag bench; bench/README.md, lag.py, "Fifth pass".)"""
    j, seq = Journal.__table__, DocumentSequence.__table__
    first = start if start is None or start.day == 1 else _month_end(start) + dt.timedelta(days=1)
    last = end if end == _month_end(end) else end.replace(day=1) - dt.timedelta(days=1)
    ranges = []  # the days of cut months, counted in the journal table
    if first is not None and last < first:  # no whole month inside: count the days
        ranges.append((start, end))
        whole = None
    else:
        whole = (first, last)
        if start is not None and start < first:
            ranges.append((start, first - dt.timedelta(days=1)))
        if last < end:
            ranges.append((last + dt.timedelta(days=1), end))
    parts = [sa.select(sa.func.count()).where(j.c.company_id == company_id, j.c.posting_date.between(lo, hi))
             .scalar_subquery() for lo, hi in ranges]
    if whole is not None:
        prefix = f"journal:{company_id}:"
        lo = prefix + (whole[0].strftime("%Y-%m") if whole[0] else "0000-00")
        parts.append(sa.select(sa.func.coalesce(sa.func.sum(seq.c.last_value), 0)).where(
            seq.c.scope.between(lo, prefix + whole[1].strftime("%Y-%m")),
            sa.func.length(seq.c.scope) == len(prefix) + 7).scalar_subquery())
    return int(sum((await session.execute(sa.select(*parts))).one()))


async def trial_balance(session: AsyncSession, company: Company, *, start: dt.date | None, end: dt.date,
                        dims: dict[str, str] | None = None, group_by: str | None = None) -> dict:
    dims = {k: v for k, v in (dims or {}).items() if v}
    cur = company.functional_currency
    opening = await sums(session, company.id, None, start - dt.timedelta(days=1), dims) if start else {}
    turnover = await sums(session, company.id, start, end, dims)
    accounts = await accounts_of(session, company.id)
    lines = []
    tot = defaultdict(lambda: ZERO)
    for code in sorted(set(opening) | set(turnover)):
        o_dr, o_cr = opening.get(code, [ZERO, ZERO])
        t_dr, t_cr = turnover.get(code, [ZERO, ZERO])
        o_net, c_net = o_dr - o_cr, o_dr - o_cr + t_dr - t_cr
        if not any((o_net, t_dr, t_cr)):
            continue
        a = accounts.get(code)
        row = {
            "account": code, "name_zh": a.name_zh if a else "", "name_en": a.name_en if a else "",
            "type": a.type if a else "",
            "opening_debit": max(o_net, ZERO), "opening_credit": max(-o_net, ZERO),
            "debit_turnover": t_dr, "credit_turnover": t_cr,
            "debit_balance": max(c_net, ZERO), "credit_balance": max(-c_net, ZERO),
        }
        for k in ("opening_debit", "opening_credit", "debit_turnover", "credit_turnover", "debit_balance",
                  "credit_balance"):
            tot[k] += row[k]
            row[k] = money.format_amount(row[k], cur)
        row["drill_down"] = _drill(company.id, code, start, end, dims)
        lines.append(row)
    n_journals = await journal_count(session, company.id, start, end)
    balanced = tot["debit_turnover"] == tot["credit_turnover"] and tot["debit_balance"] == tot["credit_balance"]
    if group_by:
        # Closing balance of each account split by the values of one dimension.
        jl = JournalLine.__table__
        q = (sa.select(jl.c.account_code, jl.c[group_by], sa.func.sum(jl.c.debit - jl.c.credit))
             .where(jl.c.company_id == company.id, jl.c.posting_date <= end)
             .group_by(jl.c.account_code, jl.c[group_by]))
        for dim, value in dims.items():
            q = q.where(jl.c[dim] == value)
        split: dict[str, list] = {}
        for code, value, net in (await session.execute(q)).all():
            if net:
                split.setdefault(code, []).append({group_by: value, "balance": money.format_amount(Decimal(net), cur)})
        for row in lines:
            row["by_" + group_by] = sorted(split.get(row["account"], []), key=lambda x: x[group_by])
    return {
        "company": company.id, "from": start.isoformat() if start else None, "as_of": end.isoformat(),
        "currency": cur, "filters": dims, "journals": n_journals, "lines": lines,
        "totals": {k: money.format_amount(v, cur) for k, v in tot.items()} or {k: money.format_amount(ZERO, cur) for k in (
            "opening_debit", "opening_credit", "debit_turnover", "credit_turnover", "debit_balance",
            "credit_balance")},
        "balanced": balanced,
    }


def _section(accounts: dict[str, Account], sums_: Sums, types: tuple[str, ...], sign: int, cur: str,
             drill) -> tuple[list[dict], Decimal]:
    out, total = [], ZERO
    for code in sorted(sums_):
        a = accounts.get(code)
        if a is None or a.type not in types:
            continue
        amount = sign * (sums_[code][0] - sums_[code][1])
        if amount == 0:
            continue
        out.append({"account": code, "name_zh": a.name_zh, "name_en": a.name_en, "amount": money.format_amount(amount, cur),
                    "drill_down": drill(code)})
        total += amount
    return out, total


async def balance_sheet(session: AsyncSession, company: Company, *, as_of: dt.date,
                        dims: dict[str, str] | None = None) -> dict:
    """Assets, liabilities and equity as of a date. Balances on the wrong side are presented
    where they belong, per counterparty (gl.domain.presentation; nothing is posted): a line fed
    by such a reclassification lists its `sources`, each with its own drill-down. A source kept
    by a counterparty (receivables by customer, payables by supplier) is one figure per account
    with the number of counterparties in it, added up by the database; its drill-down lists
    them (`counterparty_detail`, /v1/statements/balance-sheet/counterparties), each with its
    ledger: a ledger of thousands of customers answers in a few rows."""
    cur = company.functional_currency
    dims = {k: v for k, v in (dims or {}).items() if v}
    first_months: dict[str, str] = {}
    s = await sums(session, company.id, None, as_of, dims, first_months)
    accts = await accounts_of(session, company.id)
    chart = load_chart(company.chart_template)
    drill = lambda code: _drill(company.id, code, None, as_of, dims)  # noqa: E731
    by_rules = tuple(rule for rule in chart.reclassify if rule.by)
    by_of = chart.by_counterparty
    balances: dict[tuple[str, str], Decimal] = {}
    for code, (dr, cr) in s.items():
        a = accts.get(code)
        if a is not None and a.type in ("asset", "liability", "equity") and code not in by_of:
            balances[(code, "")] = dr - cr
    presented = present(balances, [rule for rule in chart.reclassify if not rule.by])
    counts: dict[tuple[str, str], int] = {}  # (line, account) -> counterparties in the part
    if by_rules:
        line_of = {code: (rule.debit, rule.credit) for rule in by_rules for code in rule.accounts}
        for (code, debit), (total, n) in sorted((await counterparty_sides(
                session, company.id, by_rules, as_of, dims)).items()):
            line = line_of[code][0 if debit else 1]
            parts = presented.setdefault(line, [])
            if (line, code) in counts:  # a rule presenting both sides on one line
                i = next(i for i, p in enumerate(parts) if p.account == code)
                parts[i] = Part(code, "", parts[i].balance + total)
                counts[(line, code)] += n
            else:
                parts.append(Part(code, "", total))
                counts[(line, code)] = n
    reclassified = {code for rule in chart.reclassify for code in rule.accounts}
    sections: dict[str, list[dict]] = {"asset": [], "liability": [], "equity": []}
    totals = {"asset": ZERO, "liability": ZERO, "equity": ZERO}
    for line, parts in sorted(presented.items()):
        kind = accts[line].type if line in accts else chart.line_type(line)
        sign = 1 if kind == "asset" else -1
        amount = sign * sum((p.balance for p in parts), ZERO)
        if not amount:
            continue
        spec = accts.get(line) or chart.accounts.get(line) or chart.lines[line]
        row = {"line": line, "account": line if line in chart.accounts else "", "name_zh": spec.name_zh,
               "name_en": spec.name_en, "amount": money.format_amount(amount, cur)}
        sources = sorted((p for p in parts if p.account in reclassified), key=lambda p: p.account)
        if sources:
            detail = "/v1/statements/balance-sheet/counterparties?" + urlencode(
                {"company": company.id, "as_of": as_of.isoformat(), "line": line, **dims})
            row["sources"] = [{"account": p.account, "by": by_of[p.account], "counterparties": counts[(line, p.account)],
                               "amount": money.format_amount(sign * p.balance, cur), "drill_down": detail}
                              if p.account in by_of else
                              {"account": p.account, "amount": money.format_amount(sign * p.balance, cur),
                               "drill_down": drill(p.account)} for p in sources]
            accounts = sorted({p.account for p in sources})
            by = {by_of[a] for a in accounts if a in by_of}
            row["drill_down"] = (drill(accounts[0]) if len(accounts) == 1 and not by else
                                 "/v1/trial-balance?" + urlencode({"company": company.id, "as_of": as_of.isoformat(),
                                                                   **({"group_by": by.pop()} if by else {}), **dims}))
        else:
            row["drill_down"] = drill(line)
        sections[kind].append(row)
        totals[kind] += amount
    assets, liabilities, equity = sections["asset"], sections["liability"], sections["equity"]
    ta, tl, te = totals["asset"], totals["liability"], totals["equity"]
    _, pnl = _section(accts, s, ("revenue", "expense"), -1, cur, drill)  # profit not yet closed to equity
    if pnl:
        # Its drill-down: the income statement from the first month with a revenue or expense
        # posting, closing journals included, which adds up to exactly this figure (with a
        # dimension filter too: no line of it is earlier). The whole months' first months came
        # with their sums; none: every such posting is in the partial month of the date. With a
        # dimension filter the sums are read from lines: one statement on the period balances.
        if dims:
            first_period = (await _FIRST_PL_PERIOD.rows(await session.connection(), {
                "company": company.id, "period": _period(as_of)}))[0][0]
        else:
            first_period = min((p for code, p in first_months.items()
                                if code in accts and accts[code].type in ("revenue", "expense")), default=None)
        first = dt.date(int(first_period[:4]), int(first_period[5:7]), 1) if first_period else _month_start(as_of)
        link = "/v1/statements/income-statement?" + urlencode({
            "company": company.id, "from": first.isoformat(), "to": as_of.isoformat(), "include_closing": "true",
            **{k: v for k, v in (dims or {}).items() if v}})
        equity.append({"line": "profit_not_yet_closed", "account": "", "name_zh": "未结转利润",
                       "name_en": "Profit not yet closed to retained earnings",
                       "amount": money.format_amount(pnl, cur), "drill_down": link})
    return {
        "company": company.id, "as_of": as_of.isoformat(), "currency": cur, "filters": dims,
        "assets": {"lines": assets, "total": money.format_amount(ta, cur)},
        "liabilities": {"lines": liabilities, "total": money.format_amount(tl, cur)},
        "equity": {"lines": equity, "total": money.format_amount(te + pnl, cur)},
        "liabilities_and_equity": money.format_amount(tl + te + pnl, cur),
        "balanced": ta == tl + te + pnl,
    }


async def counterparty_detail(session: AsyncSession, company: Company, *, line: str, as_of: dt.date,
                              dims: dict[str, str] | None, limit: int, offset: int) -> dict:
    """The counterparties a balance-sheet line presents (a source kept by a counterparty, e.g.
    the customers whose balance is a credit, on advances from customers), each with its
    amount as the line shows it and its ledger as of the date; they add up to the line's
    sources of the same accounts. By counterparty, then account; paged."""
    cur = company.functional_currency
    dims = {k: v for k, v in (dims or {}).items() if v}
    chart = load_chart(company.chart_template)
    rules = tuple(rule for rule in chart.reclassify if rule.by)
    if not any(line in (rule.debit, rule.credit) for rule in rules):
        lines = sorted({x for rule in rules for x in (rule.debit, rule.credit)})
        raise KeyError(f"line {line!r} presents no balances per counterparty (those that do: {', '.join(lines)})")
    sign = 1 if chart.line_type(line) == "asset" else -1
    by_of = chart.by_counterparty
    sides = await counterparty_sides(session, company.id, rules, as_of, dims)
    line_of = {(code, True): rule.debit for rule in rules for code in rule.accounts} | {
        (code, False): rule.credit for rule in rules for code in rule.accounts}
    mine = [v for k, v in sides.items() if line_of[k] == line]
    base = {code: _drill(company.id, code, None, as_of, dims) for code in by_of}
    rows = []
    for code, who, net in await counterparties_of_line(session, company.id, rules, line, as_of, dims, limit, offset):
        by = by_of[code]
        link = base[code] if by in dims else \
            f"{base[code]}&{by}={who if who.isascii() and who.isalnum() else quote_plus(who)}"
        rows.append({"account": code, by: who, "amount": money.format_amount(sign * net, cur), "drill_down": link})
    spec = chart.accounts.get(line) or chart.lines[line]
    return {"company": company.id, "as_of": as_of.isoformat(), "currency": cur, "filters": dims, "line": line,
            "name_zh": spec.name_zh, "name_en": spec.name_en,
            "amount": money.format_amount(sign * sum((t for t, _ in mine), ZERO), cur),
            "total": sum(n for _, n in mine), "lines": rows}


async def income_statement(session: AsyncSession, company: Company, *, start: dt.date, end: dt.date,
                           dims: dict[str, str] | None = None, include_closing: bool = False) -> dict:
    """Revenue and expenses of [start, end]; year-end closing journals are not part of it
    unless `include_closing` (then it is what is not yet closed to retained earnings)."""
    cur = company.functional_currency
    dims = {k: v for k, v in (dims or {}).items() if v}
    if include_closing:
        s = await sums(session, company.id, start, end, dims)
    elif dims:
        s = await _line_sums(session, company.id, start, end, dims, exclude_kinds=("closing",))
    else:
        s = await sums(session, company.id, start, end)
        closing = await _closing_sums(session, company.id, start, end)
        for code, (dr, cr) in closing.items():
            s[code][0] -= dr
            s[code][1] -= cr
    accts = await accounts_of(session, company.id)
    drill = lambda code: _drill(company.id, code, start, end, dims)  # noqa: E731
    if not include_closing:  # the account ledgers show every line: say which to leave out
        drill = lambda code: _drill(company.id, code, start, end, dims) + "&exclude_kind=closing"  # noqa: E731
    revenue, tr = _section(accts, s, ("revenue",), -1, cur, drill)
    expenses, tx = _section(accts, s, ("expense",), 1, cur, drill)
    return {"company": company.id, "from": start.isoformat(), "to": end.isoformat(), "currency": cur,
            "filters": dims, "include_closing": include_closing, "revenue": {"lines": revenue, "total": money.format_amount(tr, cur)},
            "expenses": {"lines": expenses, "total": money.format_amount(tx, cur)}, "net_income": money.format_amount(tr - tx, cur)}


async def _closing_sums(session: AsyncSession, company: str, start: dt.date, end: dt.date) -> Sums:
    jl, j = JournalLine.__table__, Journal.__table__
    q = (sa.select(jl.c.account_code, sa.func.sum(jl.c.debit), sa.func.sum(jl.c.credit))
         .join(j, j.c.id == jl.c.journal_id)
         .where(j.c.company_id == company, j.c.kind == "closing", j.c.kind != NOT_FROM_EVENTS,
                j.c.posting_date >= start, j.c.posting_date <= end)
         .group_by(jl.c.account_code))
    out: Sums = {}
    _add(out, (await session.execute(q)).all())
    return out


async def cash_flow(session: AsyncSession, company: Company, *, start: dt.date, end: dt.date) -> dict:
    """Direct method: the cash accounts' lines grouped by the cash-flow item the rules gave them."""
    cur = company.functional_currency
    accts = await accounts_of(session, company.id)
    cash_codes = [c for c, a in accts.items() if a.cash]
    jl = JournalLine.__table__
    rows = (await session.execute(
        sa.select(jl.c.cash_flow_item, sa.func.sum(jl.c.debit - jl.c.credit))
        .where(jl.c.company_id == company.id, jl.c.account_code.in_(cash_codes), jl.c.posting_date >= start,
               jl.c.posting_date <= end).group_by(jl.c.cash_flow_item))).all()
    by_item = {item: Decimal(v or 0) for item, v in rows}
    opening_sums = await sums(session, company.id, None, start - dt.timedelta(days=1))
    closing_sums = await sums(session, company.id, None, end)
    def cash_of(s: Sums) -> Decimal:
        return sum((s[c][0] - s[c][1] for c in cash_codes if c in s), ZERO)

    opening, closing = cash_of(opening_sums), cash_of(closing_sums)
    cash_accounts = ",".join(sorted(cash_codes))

    def drill(item: str | None, lo: dt.date | None = start, hi: dt.date = end) -> str:
        """The cash accounts' ledger lines of one cash-flow item: they add up to the figure."""
        return "/v1/ledger?" + urlencode({"company": company.id, "account": cash_accounts, "to": hi.isoformat(),
                                          **({"from": lo.isoformat()} if lo else {}),
                                          **({"cash_flow_item": item} if item else {})})

    sections = {}
    net = ZERO
    for section in CF_SECTIONS:
        items = [{"item": k, "name_en": CF_ITEMS[k][1], "name_zh": CF_ITEMS[k][2], "amount": money.format_amount(by_item[k], cur),
                  "drill_down": drill(k)}
                 for k in CF_ITEMS if CF_ITEMS[k][0] == section and by_item.get(k)]
        total = sum((by_item.get(k, ZERO) for k in CF_ITEMS if CF_ITEMS[k][0] == section), ZERO)
        sections[section] = {"lines": items, "net": money.format_amount(total, cur)}
        net += total
    unclassified = sum((v for k, v in by_item.items() if k not in CF_ITEMS), ZERO)
    internal = by_item.get("internal_transfer", ZERO)
    fx = by_item.get("fx_effect", ZERO)
    return {"company": company.id, "from": start.isoformat(), "to": end.isoformat(), "currency": cur,
            **sections, "unclassified": money.format_amount(unclassified, cur), "internal_transfers": money.format_amount(internal, cur),
            "fx_effect": money.format_amount(fx, cur), "net_change": money.format_amount(net + unclassified + internal + fx, cur),
            "opening_cash": money.format_amount(opening, cur), "closing_cash": money.format_amount(closing, cur),
            "reconciles": opening + net + unclassified + internal + fx == closing,
            "drill_downs": {"internal_transfers": drill("internal_transfer"), "fx_effect": drill("fx_effect"),
                            "opening_cash": drill(None, None, start - dt.timedelta(days=1)),
                            "closing_cash": drill(None, None, end)}}


async def ledger_detail(session: AsyncSession, company: Company, *, account: str, start: dt.date | None,
                        end: dt.date, dims: dict[str, str], limit: int, offset: int,
                        exclude_kind: str | None = None) -> dict:
    """General-ledger detail of one account: opening balance, lines with their journal, running
    balance. `exclude_kind`: leave out journals of one kind (the income statement's drill-down
    leaves out year-end closing journals, as the statement does)."""
    cur = company.functional_currency
    dims = {k: v for k, v in dims.items() if v}
    codes = account.split(",")
    before = await sums(session, company.id, None, start - dt.timedelta(days=1), dims) if start else {}
    opening = sum((before[c][0] - before[c][1] for c in codes if c in before), ZERO)
    jl, j = JournalLine.__table__, Journal.__table__
    q = (sa.select(jl, j.c.number, j.c.description, j.c.source_event_type, j.c.source_document, j.c.kind)
         .join(j, j.c.id == jl.c.journal_id)
         .where(jl.c.company_id == company.id, jl.c.account_code.in_(codes), jl.c.posting_date <= end))
    if start:
        q = q.where(jl.c.posting_date >= start)
    for dim, value in dims.items():
        q = q.where(jl.c[dim] == value)
    if exclude_kind:
        q = q.where(j.c.kind != exclude_kind)
    total = (await session.execute(sa.select(sa.func.count()).select_from(q.subquery()))).scalar_one()
    rows = (await session.execute(q.order_by(jl.c.posting_date, jl.c.id).limit(limit).offset(offset))).mappings().all()
    running = opening
    if offset:
        prior = (await session.execute(
            sa.select(sa.func.sum(sa.literal_column("debit") - sa.literal_column("credit")))
            .select_from(q.order_by(jl.c.posting_date, jl.c.id).limit(offset).subquery()))).scalar()
        running += Decimal(prior or 0)
    out = []
    for r in rows:
        running += r["debit"] - r["credit"]
        out.append({"date": r["posting_date"].isoformat(), "account": r["account_code"],
                    "journal_id": r["journal_id"], "journal": r["number"],
                    "line_no": r["line_no"], "description": r["description"], "memo": r["memo"],
                    "debit": money.format_amount(r["debit"], cur), "credit": money.format_amount(r["credit"], cur), "balance": money.format_amount(running, cur),
                    "source": {"event_type": r["source_event_type"], "document": r["source_document"],
                               "kind": r["kind"]},
                    "dimensions": {d: r[d] for d in DIMENSIONS if r[d]}, "cash_flow_item": r["cash_flow_item"],
                    "drill_down": f"/v1/journals/{r['journal_id']}"})
    return {"company": company.id, "account": account, "from": start.isoformat() if start else None,
            "to": end.isoformat(), "currency": cur, "excluded_kind": exclude_kind, "opening_balance": money.format_amount(opening, cur),
            "total": total, "lines": out}


HLEDGER_TYPE = {"asset": "assets", "liability": "liabilities", "equity": "equity", "revenue": "revenues",
                "expense": "expenses"}


async def hledger_export(session: AsyncSession, company: Company, *, bank_assertions: bool = False):
    """Every posted journal in hledger journal format, oldest first (streamed). With
    `bank_assertions`, then a balance assertion per bank sub-account: it equals the closing
    balance of its bank account's last statement (gl.service.banks), so hledger checks that
    the ledger's bank equals the bank."""
    accts = await accounts_of(session, company.id)
    cur = company.functional_currency
    yield f"; {company.name} ({company.id}) - general ledger export, functional currency {cur}\n"
    yield "decimal-mark .\n"
    yield f"commodity 1,000.{'0' * money.minor_units(cur)} {cur}\n\n" if money.minor_units(cur) else \
        f"commodity 1,000 {cur}\n\n"
    for a in sorted(accts.values(), key=lambda a: a.code):
        yield f"account {HLEDGER_TYPE[a.type]}:{a.code}  ; {a.name_en}\n"
    yield "\n"
    j, jl = Journal.__table__, JournalLine.__table__
    q = (sa.select(j.c.id, j.c.number, j.c.posting_date, j.c.description, j.c.source_event_id, j.c.kind,
                   jl.c.account_code, jl.c.debit, jl.c.credit, jl.c.line_no)
         .join(jl, jl.c.journal_id == j.c.id).where(j.c.company_id == company.id)
         .order_by(j.c.posting_date, j.c.number, jl.c.line_no))
    current = None
    result = await session.stream(q.execution_options(yield_per=2000))
    async for r in result:
        if r.id != current:
            if current is not None:
                yield "\n"
            current = r.id
            desc = r.description.replace("\n", " ").replace(";", ",")
            event = r.source_event_id or ""
            yield f"{r.posting_date.isoformat()} ({r.number}) {desc}  ; kind:{r.kind}, event:{event}\n"
        a = accts.get(r.account_code)
        name = f"{HLEDGER_TYPE[a.type] if a else 'unknown'}:{r.account_code}"
        amount = money.quantize(r.debit - r.credit, cur)
        yield f"    {name}  {amount} {cur}\n"
    if current is not None:
        yield "\n"
    if bank_assertions:
        for chunk in await banks.statement_assertions(session, company.id, cur):
            yield chunk
