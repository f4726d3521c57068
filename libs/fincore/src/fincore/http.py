"""The HTTP shell every service shares: health, readiness, metrics, problem+json, tracing, admin."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, Histogram, generate_latest
from sqlalchemy import select

from fincore.auth import OPS_ADMIN, Authenticator, Principal
from fincore.dates import DateTime
from fincore.db import Database
from fincore.docs import serve_docs
from fincore.errors import PROBLEM_RESPONSES, Conflict, NotFound, install_problem_handlers, problem
from fincore.idempotency import IdempotentRoute
from fincore.inbox.consumer import InboxConsumer, ReplayFailed, dead_letter_json
from fincore.kafka import broker_reachable
from fincore.outbox.relay import republish
from fincore.schemas import RowId
from fincore.settings import ServiceSettings
from fincore.tables import DeadLetter

log = logging.getLogger(__name__)
REQUESTS = Histogram("http_request_duration_seconds", "HTTP request latency",
                     ["service", "method", "route", "status"])
ReadinessCheck = Callable[[], Awaitable[None]]


class Readiness:
    """Checks run by /readyz, cached briefly so probes do not hammer the broker."""

    def __init__(self, checks: dict[str, ReadinessCheck], ttl_s: float = 2.0) -> None:
        self.checks = checks
        self.ttl_s = ttl_s
        self._at = 0.0
        self._result: dict[str, str] = {}

    async def run(self) -> dict[str, str]:
        now = time.monotonic()
        if now - self._at < self.ttl_s and self._result:
            return self._result
        result = {}
        for name, check in self.checks.items():
            try:
                await asyncio.wait_for(check(), 5)
                result[name] = "ok"
            except Exception as exc:  # noqa: BLE001 - readiness reports any failure
                result[name] = f"error: {type(exc).__name__}: {exc}"[:300]
        self._at, self._result = now, result
        return result


MAX_OFFSET = 10**9  # far beyond any list, far inside a 64-bit OFFSET


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int


def add_operations_routes(app: FastAPI, service_name: str, readiness: Readiness, ready_what: str) -> None:
    """/healthz (liveness), /readyz (the readiness checks; 503 when one fails) and /metrics
    (Prometheus), the same on every HTTP process of the suite."""

    @app.get("/healthz", tags=["operations"], summary="Liveness")
    async def healthz() -> dict:
        return {"status": "ok", "service": service_name}

    @app.get("/readyz", tags=["operations"], summary=f"Readiness: {ready_what}")
    async def readyz():
        checks = await readiness.run()
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse({"status": "ok" if ok else "unavailable", "checks": checks},
                            status_code=200 if ok else 503)

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics")
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def pagination(default: int = 100, maximum: int = 1000) -> Callable[..., Page]:
    """A dependency for list routes: `page: Page = Depends(pagination())`; bounds checked (422)."""

    # Defaults, not Annotated: this module's annotations are strings, resolved at module level.
    def dependency(limit: int = Query(default, ge=1, le=maximum, description="rows per page"),
                   offset: int = Query(0, ge=0, le=MAX_OFFSET, description="rows to skip")) -> Page:
        return Page(limit, offset)

    return dependency


def service_router(**kwargs: Any) -> APIRouter:
    """The APIRouter every service's routes hang on: every POST honours Idempotency-Key
    (fincore.idempotency) and every operation documents its problem+json answers."""
    return APIRouter(route_class=IdempotentRoute, responses={**PROBLEM_RESPONSES, **kwargs.pop("responses", {})},
                     **kwargs)


def create_service_app(
    *,
    settings: ServiceSettings,
    db: Database,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    consumers: Sequence[InboxConsumer] = (),
    lifespan_hooks: Sequence[Callable[[FastAPI], Awaitable[None]]] = (),
) -> FastAPI:
    auth = Authenticator(settings)
    from fincore.metrics import watch_pool

    watch_pool(settings.service_name, db.engine)
    readiness = Readiness({"database": db.ping, "broker": lambda: broker_reachable(settings)})

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        for hook in lifespan_hooks:
            await hook(app)
        yield
        await db.dispose()

    app = FastAPI(title=title, description=description, version="1.0.0", lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json")
    serve_docs(app)  # Swagger UI and ReDoc from a pinned package, not a CDN
    app.state.settings, app.state.db, app.state.auth = settings, db, auth
    install_problem_handlers(app)
    app.add_middleware(CatchAll)  # innermost: every other layer sees a 500 as a response

    app.add_middleware(Metrics, service=settings.service_name)

    add_operations_routes(app, settings.service_name, readiness, "database and broker reachable")

    for router in routers:
        app.include_router(router)
    app.include_router(admin_router(db, auth, consumers))

    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz,metrics")
    app.add_middleware(BodyLimit, max_bytes=settings.http_max_body_bytes)  # outermost: before anything reads
    return app


class Metrics:
    """Request latency by route and status (pure ASGI: Starlette's BaseHTTPMiddleware would wrap
    the request body's exceptions, e.g. BodyLimit's 413, into a 400)."""

    def __init__(self, app, service: str) -> None:
        self.app, self.service = app, service

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start, status = time.perf_counter(), 500

        async def send_status(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            REQUESTS.labels(self.service, scope["method"], route, status).observe(time.perf_counter() - start)


class CatchAll:
    """Turns an unexpected exception into a 500 problem+json *here*, as a response.

    Why this exists: Starlette's outermost middleware answers an unhandled exception with the
    app's 500 handler and then re-raises it (for servers to log); uvicorn, seeing an
    exception after the response, closes the connection, so the client's next request on that
    keep-alive connection was reset. Nothing is re-raised from here."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def send_tracking(message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception as exc:  # noqa: BLE001 - the last line of defence: logged, answered 500
            from opentelemetry import trace

            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            trace.get_current_span().record_exception(exc)
            if not started:
                await problem(500, "Internal error", "an unexpected error occurred; it has been logged",
                              type_="internal", instance=scope.get("path", ""))(scope, receive, send)


class BodyLimit:
    """Refuses request bodies over `max_bytes` with 413 problem+json: by Content-Length before
    reading, and while reading a body sent without one (chunked)."""

    def __init__(self, app, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        too_large = f"the request body exceeds {self.max_bytes} bytes"
        length = dict(scope.get("headers") or ()).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            status, title = (413, "Content too large") if length.isdigit() else (400, "Bad request")
            detail = too_large if length.isdigit() else "invalid Content-Length"
            await problem(status, title, detail, type_="body-too-large" if status == 413 else "bad-request",
                          instance=scope.get("path", ""), headers={"Connection": "close"})(scope, receive, send)
            return
        seen = 0

        async def limited():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise HTTPException(413, too_large)  # FastAPI's: its body parser lets it through
            return message

        await self.app(scope, limited, send)


def admin_router(db: Database, auth: Authenticator, consumers: Sequence[InboxConsumer]) -> APIRouter:
    """Operations. Scope `admin` acts on the companies the token grants (a dead letter whose
    company could not be read is an operator's); scope `ops:admin` acts across companies and
    alone may re-publish the outbox (its rows are every company's)."""
    r = service_router(prefix="/v1/admin", tags=["operations"])
    by_name = {c.name: c for c in consumers}
    admin = auth.require("admin", OPS_ADMIN)

    def visible(principal: Principal):
        if OPS_ADMIN in principal.scopes:
            return sa.true()
        if "*" in principal.companies:
            return DeadLetter.company_id.is_not(None)
        return DeadLetter.company_id.in_(sorted(principal.companies))

    @r.get("/dead-letters", summary="Records that could not be handled, with their error")
    async def list_dead_letters(include_replayed: bool = False, company: str | None = None,
                                page: Page = Depends(pagination()),
                                principal: Principal = Depends(admin)) -> list[dict]:
        q = select(DeadLetter).where(visible(principal)).order_by(DeadLetter.id.desc())
        if company is not None:
            principal.require_company(company)
            q = q.where(DeadLetter.company_id == company)
        if not include_replayed:
            q = q.where(DeadLetter.replayed_at.is_(None))
        async with db.sessions() as s:
            rows = (await s.execute(q.limit(page.limit).offset(page.offset))).scalars().all()
        return [dead_letter_json(d) for d in rows]

    @r.post("/dead-letters/{dead_letter_id}/replay", summary="Handle a dead-lettered record again",
            responses={409: {**PROBLEM_RESPONSES[409], "description": "The record still fails: the cause is in "
                                                                      "the problem's detail (the attempt is counted)"}})
    async def replay(dead_letter_id: RowId, principal: Principal = Depends(admin)) -> dict:
        async with db.sessions() as s:
            dl = (await s.execute(select(DeadLetter).where(
                DeadLetter.id == dead_letter_id, visible(principal)))).scalar_one_or_none()
        if dl is None:
            raise NotFound(f"no dead letter {dead_letter_id}")
        if dl.consumer not in by_name:
            raise NotFound(f"consumer {dl.consumer!r} is not part of this service")
        try:
            await by_name[dl.consumer].replay(dead_letter_id)
        except ReplayFailed as exc:
            raise Conflict(f"dead letter {dead_letter_id} still fails: {exc.cause}", type_="replay-failed",
                           title="Replay failed", attempts=exc.attempts) from exc
        return {"replayed": dead_letter_id}

    @r.post("/outbox/republish", summary="Publish again the events written in a time range (scope ops:admin)")
    async def outbox_republish(since: DateTime, until: DateTime,
                               _: Principal = Depends(auth.require(OPS_ADMIN))) -> dict:
        return {"requeued": await republish(db, since=since, until=until)}

    return r
