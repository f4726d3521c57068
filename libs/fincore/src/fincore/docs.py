"""/docs (Swagger UI) and /redoc served from a pinned package's files, never from a CDN.

Why this exists: FastAPI's default pages load Swagger UI and ReDoc from jsDelivr (and ReDoc's
fonts from Google), so on a machine without internet /docs is a blank page. The assets come
from the `fastapi-offline` wheel (pinned in fincore's pyproject, locked in uv.lock; its files
are Swagger UI's and ReDoc's own dist bundles) and are served by the service itself under
/docs-assets. Swagger UI's validator badge (a request to validator.swagger.io) is turned off.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_PATH = "/docs-assets"
# The browser is told so too: ReDoc's footer shows Redocly's logo from their CDN, which this
# policy keeps from loading (the pages' own inline bootstrap scripts and styles are allowed).
CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
       "object-src 'none'; frame-ancestors 'none'")


def assets_dir() -> str:
    return str(files("fastapi_offline") / "static")


def _offline(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = CSP
    return page


def serve_docs(app: FastAPI, *, docs_url: str = "/docs", redoc_url: str = "/redoc") -> None:
    """Add /docs and /redoc to an app built with `docs_url=None, redoc_url=None`."""
    app.mount(ASSETS_PATH, StaticFiles(directory=assets_dir()), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"
    oauth2_redirect = f"{docs_url}/oauth2-redirect"
    title = app.title

    @app.get(docs_url, include_in_schema=False)
    async def swagger_ui():
        return _offline(get_swagger_ui_html(
            openapi_url=openapi_url, title=f"{title} - Swagger UI",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js", swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon.png", oauth2_redirect_url=oauth2_redirect,
            swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": True}))

    @app.get(oauth2_redirect, include_in_schema=False)
    async def swagger_ui_redirect():
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(redoc_url, include_in_schema=False)
    async def redoc():
        return _offline(get_redoc_html(openapi_url=openapi_url, title=f"{title} - ReDoc",
                                       redoc_js_url=f"{ASSETS_PATH}/redoc.standalone.js",
                                       redoc_favicon_url=f"{ASSETS_PATH}/favicon.png", with_google_fonts=False))
