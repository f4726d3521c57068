"""Sign-in: OIDC authorization code with PKCE (RFC 7636, S256) against the identity provider
that issues the APIs' tokens, and a development sign-in for `make run`.

The access token the provider returns is what the cockpit sends to the APIs; it is verified
with the APIs' own settings (AUTH_JWT_*) before a session is made, so a provider configured
for something else fails at sign-in, not on every page. The flow's state, nonce and code
verifier travel in a short-lived signed cookie (no server-side store). The refresh token, when
the provider gives one, renews the access token before it expires (session.Sessions.renew);
signing out revokes it and ends the provider's session too (RP-initiated logout)."""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import time
from urllib.parse import urlencode, urlsplit

import httpx
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from fincore.auth import ALL_SCOPES, mint_token
from fincore.errors import ProblemError
from itsdangerous import BadSignature

from cockpit.entrypoints.session import SESSION_COOKIE, Sessions
from cockpit.settings import CockpitSettings

log = logging.getLogger(__name__)

FLOW_COOKIE = "cockpit_oidc"
FLOW_MAX_AGE_S = 600


class SignInFailed(ProblemError):
    status, type_, title = 400, "sign-in-failed", "Sign-in failed"


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, code_challenge) with the S256 method."""
    verifier = secrets.token_urlsafe(48)  # 64 characters of [A-Za-z0-9-_]
    return verifier, pkce_challenge(verifier)


def pkce_challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def safe_next(target: str | None) -> str:
    """Only a path on this site (no open redirect to another host)."""
    if not target or not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
        return "/"
    return target


class OidcClient:
    def __init__(self, settings: CockpitSettings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.http = http
        self._meta: tuple[float, dict] | None = None

    @property
    def configured(self) -> bool:
        return bool(self.settings.oidc_issuer_url)

    @property
    def _client_auth(self) -> tuple[str, str] | None:
        """HTTP Basic credentials of a confidential client; a public client (PKCE only) has none."""
        secret = self.settings.oidc_client_secret
        return (self.settings.oidc_client_id, secret) if secret else None

    @property
    def redirect_uri(self) -> str:
        return self.settings.public_url.rstrip("/") + "/auth/callback"

    async def metadata(self) -> dict:
        if self._meta and self._meta[0] > time.monotonic():
            return self._meta[1]
        url = self.settings.oidc_issuer_url.rstrip("/") + "/.well-known/openid-configuration"
        try:
            r = await self.http.get(url)
            r.raise_for_status()
            meta = r.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise SignInFailed(f"the identity provider's configuration could not be read ({url}): {exc}") from exc
        self._meta = (time.monotonic() + 3600, meta)
        return meta

    async def exchange(self, code: str, verifier: str) -> dict:
        return await self._token({"grant_type": "authorization_code", "code": code,
                                  "redirect_uri": self.redirect_uri, "code_verifier": verifier}, "the code")

    async def refresh(self, refresh_token: str) -> dict:
        """A new access token for the session's refresh token (RFC 6749 section 6)."""
        return await self._token({"grant_type": "refresh_token", "refresh_token": refresh_token},
                                 "the refresh token")

    async def _token(self, form: dict, what: str) -> dict:
        meta = await self.metadata()
        form = {**form, "client_id": self.settings.oidc_client_id}
        try:
            r = await self.http.post(meta["token_endpoint"], data=form, auth=self._client_auth)
        except httpx.HTTPError as exc:
            raise SignInFailed(f"the identity provider did not answer: {exc}") from exc
        if r.status_code != 200:
            raise SignInFailed(f"the identity provider refused {what}: {r.status_code} {r.text[:300]}")
        try:
            return r.json()
        except ValueError as exc:
            raise SignInFailed(f"the identity provider's token answer is not JSON: {r.text[:300]}") from exc

    async def sign_out_url(self, refresh_token: str | None) -> str | None:
        """End the session at the provider too: revoke the refresh token (RFC 7009) where the
        provider offers revocation, and the provider's end-session address to send the browser
        to (OpenID Connect RP-Initiated Logout), coming back to the cockpit's sign-in page.
        Best effort: a provider that cannot be reached still leaves the cockpit signed out."""
        try:
            meta = await self.metadata()
        except SignInFailed as exc:
            log.warning("signing out without the identity provider: %s", exc)
            return None
        if refresh_token and meta.get("revocation_endpoint"):
            try:
                await self.http.post(meta["revocation_endpoint"], data={
                    "token": refresh_token, "token_type_hint": "refresh_token",
                    "client_id": self.settings.oidc_client_id}, auth=self._client_auth)
            except httpx.HTTPError as exc:
                log.warning("refresh token not revoked: %s", exc)
        end = meta.get("end_session_endpoint")
        if not end:
            return None
        back = self.settings.public_url.rstrip("/") + "/login"
        return end + ("&" if "?" in end else "?") + urlencode(
            {"client_id": self.settings.oidc_client_id, "post_logout_redirect_uri": back})


def build_router(settings: CockpitSettings, sessions: Sessions, oidc: OidcClient, render) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get("/login")
    async def login(request: Request, next: str = "/"):
        return render(request, "login.html", {"next": safe_next(next), "oidc": oidc.configured,
                                              "dev": settings.dev_signin})

    @r.get("/login/oidc")
    async def login_oidc(next: str = "/"):
        if not oidc.configured:
            raise SignInFailed("no identity provider is configured (COCKPIT_OIDC_ISSUER)")
        meta = await oidc.metadata()
        verifier, challenge = pkce_pair()
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        query = {"response_type": "code", "client_id": settings.oidc_client_id, "redirect_uri": oidc.redirect_uri,
                 "scope": settings.oidc_scopes, "state": state, "nonce": nonce,
                 "code_challenge": challenge, "code_challenge_method": "S256"}
        resp = RedirectResponse(meta["authorization_endpoint"] + "?" + urlencode(query), status_code=303)
        flow = sessions.flow_signer.dumps({"state": state, "verifier": verifier, "next": safe_next(next)})
        resp.set_cookie(FLOW_COOKIE, flow, **sessions.cookie_args(FLOW_MAX_AGE_S))
        return resp

    @r.get("/auth/callback")
    async def callback(request: Request, state: str = "", code: str = "", error: str = "",
                       error_description: str = ""):
        if error:
            raise SignInFailed(f"the identity provider answered {error}: {error_description}")
        try:
            flow = sessions.flow_signer.loads(request.cookies.get(FLOW_COOKIE, ""), max_age=FLOW_MAX_AGE_S)
        except BadSignature as exc:
            raise SignInFailed("the sign-in took too long or was started elsewhere; sign in again") from exc
        if not state or not secrets.compare_digest(state, flow["state"]) or not code:
            raise SignInFailed("the answer does not belong to this sign-in (state mismatch)")
        tokens = await oidc.exchange(code, flow["verifier"])
        token = tokens.get("access_token", "")
        try:
            sessions.auth.decode(token)  # the APIs must accept it
        except ProblemError as exc:
            raise SignInFailed("the identity provider's access token is not one the APIs accept: "
                               f"{exc.detail}") from exc
        resp = RedirectResponse(flow["next"], status_code=303)
        resp.delete_cookie(FLOW_COOKIE, path="/")
        resp.set_cookie(SESSION_COOKIE, sessions.issue(token, tokens.get("refresh_token") or ""),
                        **sessions.cookie_args(settings.session_max_age_s))
        return resp

    @r.post("/login/dev")
    async def login_dev(request: Request, csrf: str = Form(""), next: str = Form("/")):
        if not settings.dev_signin:
            raise SignInFailed("the development sign-in is off (COCKPIT_DEV_SIGNIN)")
        sessions.check_csrf(request, csrf)
        token = mint_token(settings, subject="developer", scopes=ALL_SCOPES, companies=["*"])
        resp = RedirectResponse(safe_next(next), status_code=303)
        resp.set_cookie(SESSION_COOKIE, sessions.issue(token), **sessions.cookie_args(settings.session_max_age_s))
        return resp

    @r.post("/logout")
    async def logout(request: Request, csrf: str = Form("")):
        sessions.check_csrf(request, csrf)
        data = sessions.load(request) or {}
        target = None
        if oidc.configured and data.get("refresh"):  # signed in at the provider, not by the dev sign-in
            target = await oidc.sign_out_url(data["refresh"])
        resp = RedirectResponse(target or "/login", status_code=303)
        resp.delete_cookie(SESSION_COOKIE, path="/")
        return resp

    return r
