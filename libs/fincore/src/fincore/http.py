"""The HTTP shell every service shares: health, readiness, metrics, problem+json, tracing, admin."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, Histogram, generate_latest
from sqlalchemy import select

from fincore.auth import Authenticator
from fincore.db import Database
from fincore.errors import PROBLEM_RESPONSES, NotFound, install_problem_handlers
from fincore.idempotency import IdempotentRoute
from fincore.inbox.consumer import InboxConsumer, dead_letter_json
from fincore.kafka import broker_reachable
from fincore.outbox.relay import republish
from fincore.settings import ServiceSettings
from fincore.tables import DeadLetter

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
                  docs_url="/docs", openapi_url="/openapi.json")
    app.state.settings, app.state.db, app.state.auth = settings, db, auth
    install_problem_handlers(app)

    @app.middleware("http")
    async def _metrics(request: Request, call_next):
        start = time.perf_counter()
        response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        REQUESTS.labels(settings.service_name, request.method, route, response.status_code).observe(
            time.perf_counter() - start)
        return response

    @app.get("/healthz", tags=["operations"], summary="Liveness")
    async def healthz() -> dict:
        return {"status": "ok", "service": settings.service_name}

    @app.get("/readyz", tags=["operations"], summary="Readiness: database and broker reachable")
    async def readyz():
        checks = await readiness.run()
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse({"status": "ok" if ok else "unavailable", "checks": checks},
                            status_code=200 if ok else 503)

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics")
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    for router in routers:
        app.include_router(router)
    app.include_router(admin_router(db, auth, consumers))

    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz,metrics")
    return app


def admin_router(db: Database, auth: Authenticator, consumers: Sequence[InboxConsumer]) -> APIRouter:
    r = service_router(prefix="/v1/admin", tags=["operations"])
    by_name = {c.name: c for c in consumers}

    @r.get("/dead-letters", summary="Records that could not be handled, with their error")
    async def list_dead_letters(include_replayed: bool = False, limit: int = Query(100, le=1000),
                                _=Depends(auth.require("admin"))) -> list[dict]:
        async with db.sessions() as s:
            q = select(DeadLetter).order_by(DeadLetter.id.desc()).limit(limit)
            if not include_replayed:
                q = q.where(DeadLetter.replayed_at.is_(None))
            return [dead_letter_json(d) for d in (await s.execute(q)).scalars().all()]

    @r.post("/dead-letters/{dead_letter_id}/replay", summary="Handle a dead-lettered record again")
    async def replay(dead_letter_id: int, _=Depends(auth.require("admin"))) -> dict:
        async with db.sessions() as s:
            dl = await s.get(DeadLetter, dead_letter_id)
        if dl is None:
            raise NotFound(f"no dead letter {dead_letter_id}")
        if dl.consumer not in by_name:
            raise NotFound(f"consumer {dl.consumer!r} is not part of this service")
        await by_name[dl.consumer].replay(dead_letter_id)
        return {"replayed": dead_letter_id}

    @r.post("/outbox/republish", summary="Publish again the events written in a time range")
    async def outbox_republish(since: dt.datetime, until: dt.datetime,
                               _=Depends(auth.require("admin"))) -> dict:
        return {"requeued": await republish(db, since=since, until=until)}

    return r
