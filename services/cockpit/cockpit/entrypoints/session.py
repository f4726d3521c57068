"""Who is signed in, and the forms' CSRF check.

The session is a signed cookie (itsdangerous; HttpOnly, SameSite=Lax, Secure unless the
development sign-in serves plain http://127.0.0.1) holding the user's access token and, when the
identity provider issued one, its refresh token: the cockpit keeps no session store, so replicas
need only share COCKPIT_SESSION_SECRET. The token is verified on every request as the APIs verify
it (fincore.auth), so a foreign token is a sign-in, never a half-working page. An access token
that has expired, or expires within REFRESH_AHEAD_S, is renewed with the refresh token before the
request is served (`renew`, run by a middleware), so a page and its live updates keep working
for as long as the provider's own session lasts; when the provider refuses, the user signs in.

CSRF: every form carries the value of a second signed cookie (double submit) and every POST
compares them; SameSite=Lax on the session already keeps other sites' forms from carrying it."""

from __future__ import annotations

import hmac
import logging
import secrets
import time
from dataclasses import dataclass

import jwt
from fastapi import Request
from fincore.auth import Authenticator, Principal
from fincore.errors import ProblemError
from itsdangerous import BadSignature, URLSafeTimedSerializer

from cockpit.settings import CockpitSettings

log = logging.getLogger(__name__)

SESSION_COOKIE = "cockpit_session"
# Renew an access token this long before it expires (a page's htmx requests must not meet an
# expired token halfway).
REFRESH_AHEAD_S = 60
# Browsers keep cookies up to 4096 bytes: above this the refresh token is left out (the session
# then ends with the access token) rather than the cookie being dropped silently.
MAX_COOKIE_BYTES = 3800
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

    def load(self, request: Request) -> dict | None:
        """The session cookie's content ({"token", optionally "refresh"}), if it is ours and recent."""
        raw = request.cookies.get(SESSION_COOKIE)
        if not raw:
            return None
        try:
            data = self.signer.loads(raw, max_age=self.settings.session_max_age_s)
        except BadSignature:
            return None
        return data if isinstance(data, dict) and isinstance(data.get("token"), str) else None

    def user(self, request: Request) -> User | None:
        renewed = getattr(request.state, "renewed_user", None)  # set by `renew` for this request
        if renewed is not None:
            return renewed
        data = self.load(request)
        if data is None:
            return None
        try:
            return User(data["token"], self.auth.decode(data["token"]))
        except ProblemError:
            return None

    def issue(self, token: str, refresh: str = "") -> str:
        if refresh:
            value = self.signer.dumps({"token": token, "refresh": refresh})
            if len(value) <= MAX_COOKIE_BYTES:
                return value
            log.warning("session cookie with the refresh token would be %d bytes; the session will end "
                        "when the access token expires", len(value))
        return self.signer.dumps({"token": token})

    async def renew(self, request: Request, refresh_grant) -> str | None:
        """Renew the access token if it has expired or is about to, with the session's refresh
        token: the new session cookie to set, or None (nothing to renew, or the provider refused;
        the user is then asked to sign in as usual). `refresh_grant(refresh_token)` returns the
        provider's token response."""
        data = self.load(request)
        if not data or not data.get("refresh"):
            return None
        try:
            exp = jwt.decode(data["token"], options={"verify_signature": False}).get("exp")
        except jwt.PyJWTError:
            exp = None
        if isinstance(exp, int | float) and exp - time.time() > REFRESH_AHEAD_S:
            return None
        try:
            tokens = await refresh_grant(data["refresh"])
            token = tokens["access_token"]
            user = User(token, self.auth.decode(token))
        except (ProblemError, KeyError, TypeError) as exc:
            log.info("session not renewed: %s", exc)
            return None
        request.state.renewed_user = user
        # Providers that rotate refresh tokens send a new one; others keep the old one valid.
        return self.issue(token, tokens.get("refresh_token") or data["refresh"])

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
