"""Who is signed in, and the forms' CSRF check.

The session is a signed cookie (itsdangerous; HttpOnly, SameSite=Lax, Secure unless the
development sign-in serves plain http://127.0.0.1) holding the user's access token: the cockpit
keeps no session store, so replicas need only share COCKPIT_SESSION_SECRET. The token is
verified on every request as the APIs verify it (fincore.auth), so an expired or foreign token
is a sign-in, never a half-working page.

CSRF: every form carries the value of a second signed cookie (double submit) and every POST
compares them; SameSite=Lax on the session already keeps other sites' forms from carrying it."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from fastapi import Request
from fincore.auth import Authenticator, Principal
from fincore.errors import ProblemError
from itsdangerous import BadSignature, URLSafeTimedSerializer

from cockpit.settings import CockpitSettings

SESSION_COOKIE = "cockpit_session"
CSRF_COOKIE = "cockpit_csrf"
LANG_COOKIE = "cockpit_lang"


class CsrfRefused(ProblemError):
    status, type_, title = 403, "csrf", "Form expired or forged"


@dataclass(frozen=True)
class User:
    token: str
    principal: Principal

    @property
    def name(self) -> str:
        return self.principal.subject

    def has(self, *scopes: str) -> bool:
        return bool(self.principal.scopes.intersection(scopes))


class Sessions:
    def __init__(self, settings: CockpitSettings, auth: Authenticator) -> None:
        self.settings = settings
        self.auth = auth
        secret = settings.session_secret or secrets.token_urlsafe(32)
        self.signer = URLSafeTimedSerializer(secret, salt="cockpit-session")
        self.flow_signer = URLSafeTimedSerializer(secret, salt="cockpit-oidc-flow")
        self.csrf_signer = URLSafeTimedSerializer(secret, salt="cockpit-csrf")

    def cookie_args(self, max_age: int | None) -> dict:
        return {"max_age": max_age, "httponly": True, "secure": self.settings.secure_cookies, "samesite": "lax",
                "path": "/"}

    def user(self, request: Request) -> User | None:
        raw = request.cookies.get(SESSION_COOKIE)
        if not raw:
            return None
        try:
            data = self.signer.loads(raw, max_age=self.settings.session_max_age_s)
            return User(data["token"], self.auth.decode(data["token"]))
        except (BadSignature, KeyError, TypeError, ProblemError):
            return None

    def issue(self, token: str) -> str:
        return self.signer.dumps({"token": token})

    # --- CSRF (double submit) ----------------------------------------------------------
    def csrf_token(self, request: Request) -> tuple[str, str | None]:
        """The form value for this browser, and a cookie to set when it has none yet."""
        raw = request.cookies.get(CSRF_COOKIE)
        if raw:
            try:
                self.csrf_signer.loads(raw)
                return raw, None
            except BadSignature:
                pass
        raw = self.csrf_signer.dumps(secrets.token_urlsafe(16))
        return raw, raw

    def check_csrf(self, request: Request, submitted: str | None) -> None:
        cookie = request.cookies.get(CSRF_COOKIE) or ""
        if not submitted or not cookie or not hmac.compare_digest(cookie, submitted):
            raise CsrfRefused("the form's security token does not match this browser's; reload the page")
        try:
            self.csrf_signer.loads(cookie)
        except BadSignature as exc:
            raise CsrfRefused("the form's security token is not ours; reload the page") from exc
