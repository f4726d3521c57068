"""What each page shows, gathered from the APIs with the user's token. One function per page;
the arithmetic is in cockpit.domain.figures, the HTTP mapping in cockpit.entrypoints.pages."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode, urlsplit

from cockpit.adapters.apis import ApiError, Apis
from cockpit.domain import figures as fig
from cockpit.domain.figures import ZERO, Period, amount

PROFIT_DIMENSIONS = ("product", "customer", "region", "sales_team", "cost_centre", "department", "project")
PIVOT_MAX_VALUES = 20
TREND_MONTHS = 12
CUSTOMERS_MAX = 50


def local_link(api_link: str | None) -> str:
    """The cockpit page for a drill-down link the GL gave (its /v1/... path and query)."""
    if not api_link:
        return ""
    parts = urlsplit(api_link)
    query = parts.query
    pages = {"/v1/ledger": "/ledger", "/v1/statements/income-statement": "/statements/income-statement",
             "/v1/trial-balance": "/profit"}
    if parts.path in pages:
        return pages[parts.path] + ("?" + query if query else "")
    if parts.path.startswith("/v1/journals/"):
        return "/journals/" + parts.path.rsplit("/", 1)[1]
    if parts.path.startswith("/v1/events/"):
        return "/events/" + parts.path.rsplit("/", 1)[1]
    return ""


async def company_info(apis: Apis, token: str, company: str) -> dict:
    info = await apis.cached(60, "gl", f"/v1/companies/{company}", token)
    accounts = await apis.cached(60, "gl", f"/v1/companies/{company}/accounts", token)
    return {**info, "accounts": {a["code"]: a for a in accounts},
            "roles": fig.ROLES.get(info["chart_template"], fig.ROLES["cas"])}


def _income(apis: Apis, token: str, company: str, start: dt.date, end: dt.date, **dims):
    return apis.get("gl", "/v1/statements/income-statement", token, company=company, **{"from": start.isoformat()},
                    to=end.isoformat(), **dims)


async def overview(apis: Apis, token: str, company: str, period: Period) -> dict:
    """The tiles: five calls (the month, the prior month, the year to date, the trial balance at
    the period's end, the budget); the 12-month trend is a second request (`trend`), so the
    figures render first."""
    info = await company_info(apis, token, company)
    cur, roles, accounts = info["functional_currency"], info["roles"], info["accounts"]
    prior_period = period.plus(-1)
    got = await apis.gather(
        mtd=_income(apis, token, company, period.start, period.end),
        prior=_income(apis, token, company, prior_period.start, prior_period.end),
        ytd=_income(apis, token, company, period.year_start, period.end),
        tb=apis.get("gl", "/v1/trial-balance", token, company=company, as_of=period.end.isoformat()),
        budget=apis.get("budget", "/v1/reports/budget-vs-actual", token, company=company,
                        period_from=f"{period.year:04d}-01", period_to=str(period), group_by="cost_centre"))
    for key in ("mtd", "prior", "ytd", "tb"):
        if isinstance(got[key], ApiError):
            raise got[key]
    tb, mtd = got["tb"], got["mtd"]
    cash_accounts = tuple(code for code, a in accounts.items() if a["cash"])
    revenue_accounts = ",".join(ln["account"] for ln in mtd["revenue"]["lines"]) or ",".join(
        code for code, a in accounts.items() if a["type"] == "revenue")
    base = {"company": company}
    links = {
        "revenue": "/ledger?" + urlencode({**base, "account": revenue_accounts, "from": period.start.isoformat(),
                                           "to": period.end.isoformat(), "exclude_kind": "closing"}),
        "gross_profit": "/statements/income-statement?" + urlencode({**base, "period": str(period)}),
        "net_income": "/statements/income-statement?" + urlencode({**base, "period": str(period)}),
        "cash": "/ledger?" + urlencode({**base, "account": ",".join(cash_accounts), "to": period.end.isoformat()}),
        "open_receivables": "/receivables?" + urlencode({**base, "period": str(period)}),
        "open_payables": "/payables?" + urlencode({**base, "period": str(period)}),
        "budget": "/budget?" + urlencode({**base, "period": str(period)}),
    }
    budget = got["budget"]
    tiles = fig.overview(
        currency=cur, mtd=mtd, ytd=got["ytd"], prior=got["prior"],
        cash=fig.balance_of(tb, cash_accounts, "debit") if cash_accounts else ZERO,
        receivables=fig.balance_of(tb, roles["receivables"], "debit"),
        payables=fig.balance_of(tb, roles["payables"], "credit"),
        budget_total=None if isinstance(budget, ApiError) else budget.get("total"), roles=roles, links=links)
    return {"currency": cur, "company_name": info["name"], "tiles": tiles, "journals": tb["journals"],
            "unavailable": [g.service for g in got.values() if isinstance(g, ApiError)]}


async def trend(apis: Apis, token: str, company: str, period: Period) -> dict:
    """Revenue, gross profit and net income of the last TREND_MONTHS months."""
    info = await company_info(apis, token, company)
    months = period.last(TREND_MONTHS)
    got = await apis.gather(**{f"m{i}": _income(apis, token, company, p.start, p.end) for i, p in enumerate(months)})
    rows = []
    for i, p in enumerate(months):
        m = got[f"m{i}"]
        if isinstance(m, ApiError):
            raise m
        f = fig.income_figures(m, info["roles"]["cost_of_sales"])
        rows.append({"period": str(p), "revenue": f["revenue"], "net_income": f["net_income"],
                     "gross_profit": f["gross_profit"]})
    return {"currency": info["functional_currency"], "trend": rows}


async def balance_sheet(apis: Apis, token: str, company: str, period: Period, compare: str) -> dict:
    other = period.plus(-12 if compare == "prior_year" else -1)
    cur, prior = await asyncio.gather(
        apis.get("gl", "/v1/statements/balance-sheet", token, company=company, as_of=period.end.isoformat()),
        apis.get("gl", "/v1/statements/balance-sheet", token, company=company, as_of=other.end.isoformat()))
    sections = []
    for key in ("assets", "liabilities", "equity"):
        rows = fig.compare_lines(cur[key]["lines"], prior[key]["lines"], key="line")
        sections.append({"key": key, "rows": _linked(rows), "total": cur[key]["total"],
                         "prior_total": prior[key]["total"]})
    return {"currency": cur["currency"], "sections": sections, "other": other, "balanced": cur["balanced"],
            "total_le": cur["liabilities_and_equity"], "prior_total_le": prior["liabilities_and_equity"]}


async def income_statement(apis: Apis, token: str, company: str, period: Period, compare: str,
                           ytd: bool = False) -> dict:
    other = period.plus(-12 if compare == "prior_year" else -1)
    start = period.year_start if ytd else period.start
    o_start = other.year_start if ytd else other.start
    cur, prior = await asyncio.gather(_income(apis, token, company, start, period.end),
                                      _income(apis, token, company, o_start, other.end))
    sections = []
    for key in ("revenue", "expenses"):
        rows = fig.compare_lines(cur[key]["lines"], prior[key]["lines"])
        sections.append({"key": key, "rows": _linked(rows), "total": cur[key]["total"],
                         "prior_total": prior[key]["total"]})
    return {"currency": cur["currency"], "sections": sections, "other": other, "net_income": cur["net_income"],
            "prior_net_income": prior["net_income"], "from": start, "to": period.end}


async def cash_flow(apis: Apis, token: str, company: str, period: Period, compare: str) -> dict:
    other = period.plus(-12 if compare == "prior_year" else -1)

    def cf(p: Period):
        return apis.get("gl", "/v1/statements/cash-flow", token, company=company, **{"from": p.start.isoformat()},
                        to=p.end.isoformat())

    cur, prior = await asyncio.gather(cf(period), cf(other))
    sections = []
    for key in ("operating", "investing", "financing"):
        rows = fig.compare_lines(cur[key]["lines"], prior[key]["lines"], key="item")
        sections.append({"key": key, "rows": _linked(rows), "total": cur[key]["net"],
                         "prior_total": prior[key]["net"]})
    return {"currency": cur["currency"], "sections": sections, "other": other, "cf": cur, "prior": prior,
            "links": {k: local_link(v) for k, v in cur["drill_downs"].items()}}


def _linked(rows: list[dict]) -> list[dict]:
    return [{**r, "link": local_link(r.get("drill_down"))} for r in rows]


async def profit(apis: Apis, token: str, company: str, period: Period, rows_dim: str, cols_dim: str) -> dict:
    """Profit of the period per value of one dimension, and the pivot by two. The GL splits
    closing balances by a dimension; the period's profit is the balance at its end less the
    balance before it."""
    info = await company_info(apis, token, company)
    types = {code: a["type"] for code, a in info["accounts"].items()}
    before = period.start - dt.timedelta(days=1)

    async def split(dim: str, **filters) -> dict[str, Decimal]:
        end, start = await asyncio.gather(
            apis.get("gl", "/v1/trial-balance", token, company=company, as_of=period.end.isoformat(), group_by=dim,
                     **filters),
            apis.get("gl", "/v1/trial-balance", token, company=company, as_of=before.isoformat(), group_by=dim,
                     **filters))
        a, b = fig.profit_by(end, dim, types), fig.profit_by(start, dim, types)
        return {k: a.get(k, ZERO) - b.get(k, ZERO) for k in set(a) | set(b) if a.get(k, ZERO) - b.get(k, ZERO)}

    by_rows = await split(rows_dim)
    cells: dict[tuple[str, str], Decimal] = {}
    hidden = 0
    if cols_dim and cols_dim != rows_dim:
        col_values, hidden = fig.pivot_columns(await split(cols_dim), PIVOT_MAX_VALUES)
        parts = await asyncio.gather(*(split(rows_dim, **{cols_dim: v}) for v in col_values))
        for v, part in zip(col_values, parts, strict=True):
            for r, value in part.items():
                cells[(r, v)] = value
        # The remainder column: what has no value of the column dimension, and the values left
        # out past PIVOT_MAX_VALUES: the row's total less the columns shown, so every row and
        # the grand total still equal the profit above.
        for r, total in by_rows.items():
            rest = total - sum((cells.get((r, v), ZERO) for v in col_values), ZERO)
            if rest:
                cells[(r, "")] = rest
    rows, cols, matrix, totals = fig.pivot(cells) if cells else ([], [], [], {})
    return {"currency": info["functional_currency"], "by_rows": sorted(by_rows.items(), key=lambda kv: -kv[1]),
            "total": sum(by_rows.values(), ZERO), "pivot": {"rows": rows, "cols": cols, "matrix": matrix,
                                                            "totals": totals},
            "hidden_columns": hidden, "max_columns": PIVOT_MAX_VALUES}


async def receivables(apis: Apis, token: str, company: str, period: Period) -> dict:
    """AR ageing at the period's end and each customer's credit position (limit, exposure,
    available, credits) as AR computes it now."""
    ageing = await apis.get("ar", "/v1/ageing", token, company=company, as_of=period.end.isoformat())
    # a row per customer and currency: each customer's position once
    codes = list(dict.fromkeys(row["customer"] for row in ageing["customers"]))[:CUSTOMERS_MAX]
    positions = await apis.gather(**{f"c{i}": apis.get("ar", f"/v1/customers/{code}", token, company=company)
                                     for i, code in enumerate(codes)})
    return {"ageing": ageing, "credit": [p for p in positions.values() if not isinstance(p, ApiError)],
            "truncated": len(ageing["customers"]) > CUSTOMERS_MAX}


async def payables(apis: Apis, token: str, company: str, period: Period, today: dt.date) -> dict:
    got = await apis.gather(
        ageing=apis.get("ap", "/v1/ageing", token, company=company, as_of=period.end.isoformat()),
        invoices=apis.get("ap", "/v1/supplier-invoices", token, company=company, limit=1000))
    upcoming = []
    if not isinstance(got["invoices"], ApiError):
        items = got["invoices"]["items"] if isinstance(got["invoices"], dict) else got["invoices"]
        horizon = today + dt.timedelta(days=14)
        for inv in items:
            due = inv.get("due_date")
            if not due or inv.get("status") in ("paid", "cancelled", "held") or inv.get("payment_hold"):
                continue
            if amount(inv.get("open_amount", inv.get("gross_total"))) and dt.date.fromisoformat(due) <= horizon:
                upcoming.append(inv)
        upcoming.sort(key=lambda i: i["due_date"])
    got["upcoming"] = upcoming
    return got


async def budget(apis: Apis, token: str, company: str, period: Period) -> dict:
    report = await apis.get("budget", "/v1/reports/budget-vs-actual", token, company=company,
                            period_from=f"{period.year:04d}-01", period_to=str(period),
                            group_by="cost_centre,budget_item")
    for row in report["rows"]:
        row["flag"] = fig.budget_flag(row.get("pct_consumed"))
    return report


DEAD_LETTER_SERVICES = ("gl", "ar", "ap", "inventory", "budget")


async def operations(apis: Apis, token: str, company: str, metrics_urls: dict[str, str],
                     prometheus_url: str = "") -> dict:
    calls: dict[str, Any] = {f"dl_{s}": apis.get(s, "/v1/admin/dead-letters", token, limit=50)
                             for s in DEAD_LETTER_SERVICES}
    calls["parked"] = apis.get("gl", "/v1/parked-events", token, company=company)
    got = await apis.gather(**calls)
    lag = await (prometheus_lag(apis, prometheus_url) if prometheus_url else consumer_lag(apis, metrics_urls))
    return {"dead_letters": {s: got[f"dl_{s}"] for s in DEAD_LETTER_SERVICES}, "parked": got["parked"], "lag": lag}


# Every replica of every consumer, summed per consumer group and topic (as the alert rules do).
PROMETHEUS_LAG_QUERY = "sum by (consumer, topic) (kafka_consumer_lag_messages)"


async def prometheus_lag(apis: Apis, prometheus_url: str) -> list[dict]:
    """Consumer lag from Prometheus (Kubernetes: the consumers scale to several pods, so no one
    pod's /metrics has the whole figure): its HTTP API's instant query."""
    url = prometheus_url.rstrip("/") + "/api/v1/query"
    try:
        r = await apis.client.get(url, params={"query": PROMETHEUS_LAG_QUERY}, timeout=5)
        r.raise_for_status()
        body = r.json()
        if body.get("status") != "success":
            raise ValueError(body.get("error") or body)
        results = body["data"]["result"]
    except Exception as exc:  # noqa: BLE001 - shown on the page
        return [{"process": "prometheus", "error": f"{url}: {exc}"}]
    rows = [{"process": res["metric"].get("consumer", "?"),
             "metric": 'kafka_consumer_lag_messages{topic="' + res["metric"].get("topic", "?") + '"}',
             "value": res["value"][1]} for res in results]
    return sorted(rows, key=lambda x: (x["process"], x["metric"]))


LAG_METRICS = ("finance_consumer_lag", "consumer_lag")


async def consumer_lag(apis: Apis, metrics_urls: dict[str, str]) -> list[dict]:
    """Consumer lag gauges read from the consumers' /metrics (Prometheus text)."""
    async def one(name: str, url: str):
        try:
            r = await apis.client.get(url.rstrip("/") + "/metrics", timeout=3)
            return name, r.text
        except Exception as exc:  # noqa: BLE001 - shown on the page
            return name, exc

    out = []
    for name, text in await asyncio.gather(*(one(n, u) for n, u in metrics_urls.items())):
        if isinstance(text, Exception):
            out.append({"process": name, "error": str(text)})
            continue
        for line in text.splitlines():
            if line.startswith("#") or "lag" not in line.split("{")[0]:
                continue
            metric, _, value = line.rpartition(" ")
            out.append({"process": name, "metric": metric, "value": value})
    return out


async def ledger(apis: Apis, token: str, params: dict[str, str]) -> dict:
    data = await apis.get("gl", "/v1/ledger", token, **params)
    info = await company_info(apis, token, params["company"])
    for ln in data["lines"]:
        ln["name"] = info["accounts"].get(ln["account"], {})
    data["accounts"] = [info["accounts"].get(c, {"code": c}) for c in data["account"].split(",")]
    debit = sum((amount(ln["debit"]) for ln in data["lines"]), ZERO)
    credit = sum((amount(ln["credit"]) for ln in data["lines"]), ZERO)
    data["sum_debit"], data["sum_credit"] = debit, credit
    return data


def document_link(event: dict) -> tuple[str, str] | None:
    """(service, API path) of the business document behind a source event, when it has one."""
    kind, service, subject = event["type"], event["source"], event["subject"]
    name = kind.split(".")[-2] if kind.count(".") >= 3 else kind
    if service == "ar" and name.startswith("Invoice"):
        return "ar", f"/v1/invoices/{subject}"
    if service == "ap" and name.startswith("Invoice"):
        return "ap", f"/v1/supplier-invoices/{subject}"
    if service == "inventory":
        return "inventory", f"/v1/movements/{subject}"
    return None


async def consolidation(apis: Apis, token: str, group: str, period: Period) -> dict:
    """The latest consolidation run of a group ending at the period (final runs first)."""
    run = await apis.get("consolidation", f"/v1/groups/{group}/runs/latest", token, period_to=str(period))
    return {"run": run, "currency": run.get("currency") or run.get("balance_sheet", {}).get("currency", "")}


async def consolidated_figure(apis: Apis, token: str, run_id: str, account: str) -> dict:
    """A consolidated figure by entity (each with its accounts, drilling into that entity's ledger
    in the cockpit) and by consolidation journal."""
    f = await apis.get("consolidation", f"/v1/runs/{run_id}/figures/{account}", token)
    for e in f["entities"]:
        for a in e["accounts"]:
            ledger = a.get("ledger")
            a["link"] = local_link(urlsplit(ledger)._replace(scheme="", netloc="").geturl()) if ledger else ""
    return f


async def cash_position(apis: Apis, token: str, company: str, period: Period, today: dt.date | None = None) -> dict:
    """The live cash position as cash management serves it (`GET /v1/cash-position`, a view its
    worker keeps from the events; never the books): per bank account and currency, the ledger's
    booked balance beside the bank's last statement and its value-dated balance, and their
    difference at the statement's date; the ledger's other cash accounts; totals per currency.
    At the period's end, or today while the period runs. A 503 means the worker is restarting
    or recovering its tables: the page says so (state "recovering") and asks again by itself."""
    as_of = min(period.end, today or dt.date.today())
    try:
        pos = await apis.get("cashmgmt", "/v1/cash-position", token, company=company, as_of=as_of.isoformat())
    except ApiError as exc:
        if exc.status == 503:
            return {"state": "recovering", "as_of": as_of, "detail": exc.detail}
        raise

    def ledger(account: str) -> str:
        return "/ledger?" + urlencode({"company": company, "account": account, "to": as_of.isoformat()})

    return {"state": "ready", "as_of": as_of,
            "accounts": [{**a, "link": ledger(a["gl_account"]) if a.get("gl_account") else ""}
                         for a in pos["bank_accounts"]],
            "others": [{**o, "link": ledger(o["gl_account"])} for o in pos["other_cash_accounts"]],
            "totals": pos["totals"]}
