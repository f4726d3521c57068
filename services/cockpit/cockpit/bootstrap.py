"""Wiring: create_app(settings) builds the cockpit; only __main__ reads the environment."""

from __future__ import annotations

import datetime as dt
import secrets
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from fincore.auth import Authenticator
from fincore.docs import serve_docs
from fincore.errors import ProblemError, install_problem_handlers
from fincore.http import CatchAll, Metrics, Readiness, add_operations_routes
from fincore.kafka import broker_reachable

from cockpit.adapters.apis import Apis
from cockpit.adapters.live import TOPIC as LIVE_TOPIC
from cockpit.adapters.live import LiveFeed
from cockpit.entrypoints import pages, signin
from cockpit.entrypoints.pages import SignInRequired
from cockpit.entrypoints.session import CSRF_COOKIE, LANG_COOKIE, SESSION_COOKIE, Sessions
from cockpit.i18n import LANGUAGES, Translator, negotiate
from cockpit.settings import CockpitSettings

HERE = Path(__file__).resolve().parent
# Read by the live feed without a consumer group (deploy/k8s/generate.py gives the KafkaUser read on it).
API_READS_TOPICS = (LIVE_TOPIC,)
# Everything the pages load comes from this host: the CSP says so to the browser too.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "font-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'")


# Paths served without a session (no token to renew): assets, probes, metrics, the sign-in itself.
NO_SESSION_PATHS = ("/static", "/healthz", "/readyz", "/metrics", "/login", "/auth", "/docs", "/openapi.json")


def create_app(settings: CockpitSettings, *, apis: Apis | None = None, live: LiveFeed | None = None) -> FastAPI:
    auth = Authenticator(settings)
    sessions = Sessions(settings, auth)
    apis = apis or Apis(settings)
    live = live or LiveFeed(settings)
    oidc = signin.OidcClient(settings, apis.client)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals.update(static=static_url, languages=LANGUAGES)
    readiness = Readiness({"broker": lambda: broker_reachable(settings)})

    def render(request: Request, name: str, context: dict, status: int = 200) -> HTMLResponse:
        lang = negotiate(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))
        csrf, new_cookie = sessions.csrf_token(request)
        t = Translator(lang)
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        resp = templates.TemplateResponse(request, name, {"t": t, "lang": lang, "csrf": csrf, "here": path,
                                                          "settings": settings, "live_on": settings.live, **context},
                                          status_code=status)
        if new_cookie:
            resp.set_cookie(CSRF_COOKIE, new_cookie, httponly=True, samesite="strict", secure=settings.secure_cookies,
                            path="/")
        return resp

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if settings.live:
            await live.start()
        yield
        await live.stop()
        await apis.close()

    app = FastAPI(title="Finance cockpit", description="Web UI over the suite's APIs", version="1.0.0",
                  lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url="/openapi.json")
    serve_docs(app)
    app.state.settings, app.state.apis, app.state.live = settings, apis, live
    install_problem_handlers(app)
    app.add_middleware(CatchAll)
    app.add_middleware(Metrics, service=settings.service_name)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        resp = await call_next(request)
        resp.headers.setdefault("Content-Security-Policy", CSP)
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        return resp

    @app.middleware("http")
    async def renew_session(request: Request, call_next):
        """An access token about to expire is renewed with the session's refresh token before
        the page (or its htmx fragment, or the live stream) is served."""
        if not oidc.configured or request.url.path.startswith(NO_SESSION_PATHS):
            return await call_next(request)
        cookie = await sessions.renew(request, oidc.refresh)
        resp = await call_next(request)
        if cookie is not None:
            resp.set_cookie(SESSION_COOKIE, cookie, **sessions.cookie_args(settings.session_max_age_s))
        return resp

    @app.exception_handler(SignInRequired)
    async def to_sign_in(request: Request, exc: SignInRequired):
        target = "/login?next=" + quote(exc.target, safe="")
        if request.headers.get("hx-request"):  # htmx follows this header with a full page load
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(ProblemError)
    async def problem_page(request: Request, exc: ProblemError):
        if "text/html" not in request.headers.get("accept", ""):
            return JSONResponse({"type": exc.type_, "title": exc.title, "status": exc.status, "detail": exc.detail},
                                status_code=exc.status, media_type="application/problem+json")
        return render(request, "problem.html", {"problem": exc, "user": sessions.user(request)}, status=exc.status)

    add_operations_routes(app, settings.service_name, readiness, "broker reachable (live updates)")

    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(signin.build_router(settings, sessions, oidc, render))
    app.include_router(pages.build_router(settings, sessions, apis, live, render))

    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz,metrics,static,live")
    return app


_STAMP = secrets.token_hex(4) + dt.datetime.now().strftime("%H%M%S")


def static_url(path: str) -> str:
    """Static files with a per-process stamp, so a new version is never served from a stale cache."""
    return f"/static/{path}?v={_STAMP}"
