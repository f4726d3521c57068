"""The pages: HTTP in, a use case from cockpit.service, a template out. Every page is for a
company and a period chosen at the top; every figure links to the page it is made of."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fincore.auth import OPS_ADMIN
from fincore.tracefile import read_trace, trace_dir

from cockpit import forecast as fc_svc
from cockpit import service as svc
from cockpit.adapters.apis import ApiError, Apis
from cockpit.adapters.live import LiveFeed
from cockpit.domain.figures import Period
from cockpit.entrypoints.session import LANG_COOKIE, Sessions, User
from cockpit.i18n import LANGUAGES
from cockpit.settings import CockpitSettings

LEDGER_PARAMS = ("company", "account", "from", "to", "cash_flow_item", "exclude_kind", "limit", "offset",
                 "cost_centre", "department", "product", "customer", "supplier", "project", "region", "sales_team")


class SignInRequired(Exception):
    def __init__(self, target: str) -> None:
        self.target = target


def build_router(settings: CockpitSettings, sessions: Sessions, apis: Apis, live: LiveFeed, render) -> APIRouter:
    r = APIRouter(include_in_schema=False)
    metrics_urls = dict(part.split("=", 1) for part in settings.metrics_urls.split(",") if "=" in part)

    def user_of(request: Request) -> User:
        user = sessions.user(request)
        if user is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise SignInRequired(target)
        return user

    def selection(request: Request, user: User) -> tuple[str, Period]:
        company = request.query_params.get("company") or settings.default_company
        try:
            period = Period.parse(request.query_params.get("period", ""))
        except ValueError:
            period = Period.of(dt.date.today())
        return company, period

    async def page(request: Request, template: str, load, **extra) -> HTMLResponse:
        user = user_of(request)
        company, period = selection(request, user)
        error = None
        data: dict = {}
        try:
            data = await load(user, company, period)
        except ApiError as exc:
            error = exc
        keep = urlencode({"company": company, "period": str(period)})  # drill-down links keep the selection
        return render(request, template, {"user": user, "company": company, "period": period, "data": data,
                                          "keep": keep,
                                          "error": error, "as_of": dt.datetime.now(dt.UTC), **extra},
                      status=200 if error is None or error.status >= 500 else error.status)

    @r.get("/")
    async def home(request: Request):
        user_of(request)
        return RedirectResponse("/overview" + (f"?{request.url.query}" if request.url.query else ""), status_code=303)

    @r.get("/overview")
    async def overview(request: Request):
        async def load(user, company, period):
            return await svc.overview(apis, user.token, company, period)
        return await page(request, "overview.html", load, page_key="overview")

    @r.get("/overview/trend")
    async def overview_trend(request: Request):
        """The overview's trend section (htmx loads it after the tiles)."""
        async def load(user, company, period):
            return await svc.trend(apis, user.token, company, period)
        return await page(request, "_trend.html", load, page_key="overview")

    @r.get("/statements/{kind}")
    async def statement(request: Request, kind: str, compare: str = "prior_period", ytd: bool = False):
        compare = compare if compare in ("prior_period", "prior_year") else "prior_period"
        loaders = {"balance-sheet": lambda u, c, p: svc.balance_sheet(apis, u.token, c, p, compare),
                   "income-statement": lambda u, c, p: svc.income_statement(apis, u.token, c, p, compare, ytd),
                   "cash-flow": lambda u, c, p: svc.cash_flow(apis, u.token, c, p, compare)}
        if kind not in loaders:
            return Response(status_code=404)
        return await page(request, f"{kind.replace('-', '_')}.html", loaders[kind],
                          page_key=kind.replace("-", "_"), compare=compare, ytd=ytd)

    @r.get("/profit")
    async def profit(request: Request, rows: str = "product", cols: str = "region"):
        rows = rows if rows in svc.PROFIT_DIMENSIONS else "product"
        cols = cols if cols in svc.PROFIT_DIMENSIONS or cols == "" else "region"
        return await page(request, "profit.html", lambda u, c, p: svc.profit(apis, u.token, c, p, rows, cols),
                          page_key="profit", rows=rows, cols=cols, dimensions=svc.PROFIT_DIMENSIONS)

    @r.get("/receivables")
    async def receivables(request: Request):
        return await page(request, "receivables.html", lambda u, c, p: svc.receivables(apis, u.token, c, p),
                          page_key="receivables")

    @r.get("/payables")
    async def payables(request: Request):
        return await page(request, "payables.html",
                          lambda u, c, p: svc.payables(apis, u.token, c, p, dt.date.today()), page_key="payables")

    @r.get("/budget")
    async def budget(request: Request):
        return await page(request, "budget.html", lambda u, c, p: svc.budget(apis, u.token, c, p), page_key="budget")

    @r.get("/cash")
    async def cash(request: Request):
        return await page(request, "cash.html", lambda u, c, p: svc.cash_position(apis, u.token, c, p),
                          page_key="cash_position")

    # --- the 13-week cash-flow forecast (cash management makes and keeps it) -------------
    @r.get("/cash/forecast")
    async def cash_forecast(request: Request, id: str = "", outcome: str = ""):
        return await page(request, "forecast.html", lambda u, c, p: fc_svc.cash_forecast(apis, u.token, c, id),
                          page_key="cash_forecast", outcome=outcome, today=dt.date.today())

    @r.post("/cash/forecast")
    async def make_forecast(request: Request, company: str = Form(...), as_of: str = Form(...),
                            csrf: str = Form("")):
        user = user_of(request)
        sessions.check_csrf(request, csrf)
        back = {"company": company}
        try:
            fc = await fc_svc.make_forecast(apis, user.token, company, as_of,
                                            f"cockpit-forecast-{company}-{as_of}-{dt.datetime.now().timestamp()}")
            back["id"] = fc["id"]
        except ApiError as exc:
            back["outcome"] = f"{exc.status}: {exc.detail}"
        return RedirectResponse("/cash/forecast?" + urlencode(back), status_code=303)

    @r.get("/cash/forecast/documents")
    async def cash_forecast_documents(request: Request, id: str, currency: str, week: str, source: str = ""):
        return await page(request, "forecast_documents.html",
                          lambda u, c, p: fc_svc.forecast_documents(apis, u.token, c, id, currency, week, source),
                          page_key="cash_forecast")

    @r.get("/consolidation")
    async def consolidation(request: Request):
        """The company chosen at the top is the group's id here."""
        return await page(request, "consolidation.html",
                          lambda u, c, p: svc.consolidation(apis, u.token, c, p), page_key="consolidation")

    @r.get("/consolidation/runs/{run_id}/figures/{account}")
    async def consolidated_figure(request: Request, run_id: str, account: str):
        return await page(request, "consolidation_figure.html",
                          lambda u, c, p: svc.consolidated_figure(apis, u.token, run_id, account),
                          page_key="consolidation", run_id=run_id)

    @r.get("/operations")
    async def operations(request: Request):
        async def load(user, company, period):
            return await svc.operations(apis, user.token, company, metrics_urls, settings.prometheus_url)
        user = sessions.user(request)
        return await page(request, "operations.html", load, page_key="operations",
                          can_replay=bool(user and user.has(OPS_ADMIN, "admin")))

    @r.post("/operations/dead-letters/{service}/{dead_letter_id}/replay")
    async def replay(request: Request, service: str, dead_letter_id: int, csrf: str = Form("")):
        user = user_of(request)
        sessions.check_csrf(request, csrf)
        if service not in svc.DEAD_LETTER_SERVICES:
            return Response(status_code=404)
        try:
            await apis.post(service, f"/v1/admin/dead-letters/{dead_letter_id}/replay", user.token,
                            idempotency_key=f"cockpit-replay-{service}-{dead_letter_id}-{dt.datetime.now().timestamp()}")
            outcome = "replayed"
        except ApiError as exc:
            outcome = f"{exc.status}: {exc.detail}"
        back = "/operations?" + urlencode({"company": request.query_params.get("company", settings.default_company),
                                           "replay": f"{service}/{dead_letter_id}", "outcome": outcome})
        return RedirectResponse(back, status_code=303)

    # --- drill-down --------------------------------------------------------------------
    @r.get("/ledger")
    async def ledger(request: Request):
        params = {k: v for k, v in request.query_params.items() if k in LEDGER_PARAMS}
        if "to" not in params or "account" not in params:
            return Response("account and to are required", status_code=422)

        async def load(user, company, period):
            return await svc.ledger(apis, user.token, {**params, "company": company})
        return await page(request, "ledger.html", load, page_key="ledger")

    @r.get("/journals/{journal_id}")
    async def journal(request: Request, journal_id: str):
        async def load(user, company, period):
            j = await apis.get("gl", f"/v1/journals/{journal_id}", user.token)
            info = await svc.company_info(apis, user.token, j["company"])
            return {"journal": j, "accounts": info["accounts"]}
        return await page(request, "journal.html", load, page_key="journal")

    @r.get("/events/{event_id}")
    async def event(request: Request, event_id: str):
        async def load(user, company, period):
            e = await apis.get("gl", f"/v1/events/{event_id}", user.token)
            doc_ref = svc.document_link(e)
            document = None
            if doc_ref:
                try:
                    document = await apis.get(doc_ref[0], doc_ref[1], user.token)
                except ApiError as exc:
                    document = {"error": str(exc)}
            return {"event": e, "document": document, "document_service": doc_ref and doc_ref[0],
                    "payload_json": json.dumps(e["payload"], indent=2, ensure_ascii=False),
                    "document_json": json.dumps(document, indent=2, ensure_ascii=False) if document else ""}
        return await page(request, "event.html", load, page_key="source_event")

    @r.get("/traces/{trace_id}")
    async def trace(request: Request, trace_id: str):
        async def load(user, company, period):
            if not all(c in "0123456789abcdef" for c in trace_id) or len(trace_id) != 32:
                raise ApiError("trace", 422, "a trace id is 32 hexadecimal digits")
            spans = await asyncio.to_thread(read_trace, trace_dir(), trace_id)
            return {"spans": layout_spans(spans), "backend": settings.trace_url.format(trace_id=trace_id)
                    if settings.trace_url else ""}
        return await page(request, "trace.html", load, page_key="trace", trace_id=trace_id)

    # --- live --------------------------------------------------------------------------
    @r.get("/live")
    async def live_stream(request: Request, company: str):
        user = sessions.user(request)
        if user is None or not user.principal.can_access(company):
            return Response(status_code=401)
        queue = live.subscribe(company)

        async def events():
            try:
                yield "retry: 2000\n\n"
                while True:
                    try:
                        journal = await asyncio.wait_for(queue.get(), timeout=15)
                    except TimeoutError:
                        yield ": keep-alive\n\n"
                        continue
                    yield f"event: journal-posted\ndata: {json.dumps({'journal': journal})}\n\n"
            finally:
                live.unsubscribe(company, queue)

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    @r.get("/lang/{lang}")
    async def set_language(request: Request, lang: str, next: str = "/"):
        from cockpit.entrypoints.signin import safe_next

        resp = RedirectResponse(safe_next(next), status_code=303)
        if lang in LANGUAGES:
            resp.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, httponly=True, samesite="lax",
                            secure=settings.secure_cookies)
        return resp

    return r


async def _nothing(user, company, period) -> dict:
    return {}


def layout_spans(spans: list[dict]) -> list[dict]:
    """Spans as rows of a timeline: depth under their parent, offset and width in % of the trace."""
    if not spans:
        return []
    spans = sorted(spans, key=lambda s: s["start_ns"])
    t0 = spans[0]["start_ns"]
    t1 = max(s["end_ns"] for s in spans)
    total = max(t1 - t0, 1)
    by_id = {s["span_id"]: s for s in spans}

    def depth(s: dict) -> int:
        d, seen = 0, set()
        while s["parent_span_id"] in by_id and s["span_id"] not in seen:
            seen.add(s["span_id"])
            s = by_id[s["parent_span_id"]]
            d += 1
        return d

    return [{**s, "depth": depth(s), "offset_ms": Decimal(s["start_ns"] - t0) / 1_000_000,
             "duration_ms": Decimal(s["end_ns"] - s["start_ns"]) / 1_000_000,
             "left": round(100 * (s["start_ns"] - t0) / total, 2),
             "width": max(round(100 * (s["end_ns"] - s["start_ns"]) / total, 2), 0.3)} for s in spans]


TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
