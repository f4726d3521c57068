"""Sign-in against a stand-in identity provider (authorization code + PKCE S256, refresh
tokens, revocation, RP-initiated logout), the development sign-in, the session cookie's flags
and the forms' CSRF check."""

import base64
import datetime as dt
import hashlib
import re
import secrets
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cockpit.adapters.apis import Apis
from cockpit.bootstrap import create_app
from cockpit.entrypoints.signin import safe_next
from cockpit.settings import CockpitSettings
from fastapi import FastAPI, Form
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.testclient import TestClient
from fincore.auth import mint_token
from itsdangerous import URLSafeTimedSerializer

IDP = "https://idp.example"


def fake_idp(settings: CockpitSettings, tokens: dict) -> FastAPI:
    """Authorizes anyone; hands out a code bound to the PKCE challenge and redirect URI, and a
    token only to the holder of the matching verifier."""
    app = FastAPI()
    codes: dict[str, dict] = {}
    refresh_tokens: set[str] = set()  # valid ones; rotated on use, removed on revocation
    app.state.refresh_tokens, app.state.refreshed = refresh_tokens, []

    @app.get("/.well-known/openid-configuration")
    async def meta():
        return {"issuer": IDP, "authorization_endpoint": f"{IDP}/authorize", "token_endpoint": f"{IDP}/token",
                **tokens.get("meta", {})}

    @app.post("/revoke")
    async def revoke(token: str = Form(), client_id: str = Form(), token_type_hint: str = Form("")):
        refresh_tokens.discard(token)
        return {}

    @app.get("/authorize")
    async def authorize(response_type: str, client_id: str, redirect_uri: str, state: str, code_challenge: str,
                        code_challenge_method: str, scope: str, nonce: str):
        assert response_type == "code" and code_challenge_method == "S256" and client_id == "finance-cockpit"
        code = secrets.token_urlsafe(8)
        codes[code] = {"challenge": code_challenge, "redirect_uri": redirect_uri}
        return RedirectResponse(f"{redirect_uri}?code={code}&state={state}", status_code=302)

    def grant_tokens() -> dict:
        answer = {"access_token": tokens["access"], "token_type": "Bearer", "expires_in": 3600}
        if tokens.get("refresh"):
            answer["refresh_token"] = rt = secrets.token_urlsafe(12)
            refresh_tokens.add(rt)
        return answer

    @app.post("/token")
    async def token(grant_type: str = Form(), client_id: str = Form(), code: str = Form(""),
                    redirect_uri: str = Form(""), code_verifier: str = Form(""), refresh_token: str = Form("")):
        if grant_type == "refresh_token":
            if refresh_token not in refresh_tokens:
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            refresh_tokens.discard(refresh_token)  # rotation: each refresh token is good once
            app.state.refreshed.append(refresh_token)
            tokens["access"] = tokens["next_access"]
            return grant_tokens()
        grant = codes.pop(code, None)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest()).rstrip(b"=").decode()
        if grant is None or grant["challenge"] != challenge or grant["redirect_uri"] != redirect_uri:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        return grant_tokens()

    return app


@pytest.fixture
def setup():
    settings = CockpitSettings(oidc_issuer=IDP, live=False, public_url="https://cockpit.example",
                               session_secret="s" * 32)
    tokens = {"access": mint_token(settings, subject="alice", scopes=["gl:read"], companies=["DEMO"])}
    idp = fake_idp(settings, tokens)
    apis = Apis(settings, transport=httpx.ASGITransport(app=idp))
    client = TestClient(create_app(settings, apis=apis), base_url="https://cockpit.example", follow_redirects=False)
    return settings, client, TestClient(idp, base_url=IDP, follow_redirects=False), tokens


def test_authorization_code_with_pkce(setup):
    settings, cockpit, idp, _ = setup
    r = cockpit.get("/overview")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Foverview"
    assert "/login/oidc" in cockpit.get("/login", headers={"accept": "text/html"}).text
    r = cockpit.get("/login/oidc", params={"next": "/cash?company=DEMO"})
    assert r.status_code == 303
    auth_url = urlsplit(r.headers["location"])
    q = {k: v[0] for k, v in parse_qs(auth_url.query).items()}
    assert q["redirect_uri"] == "https://cockpit.example/auth/callback" and q["code_challenge_method"] == "S256"
    back = idp.get("/authorize", params=q)
    callback = urlsplit(back.headers["location"])
    r = cockpit.get(f"/auth/callback?{callback.query}")
    assert r.status_code == 303 and r.headers["location"] == "/cash?company=DEMO", r.text
    session_cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("cockpit_session="))
    assert "HttpOnly" in session_cookie and "Secure" in session_cookie and "SameSite=lax" in session_cookie
    page = cockpit.get("/cash?company=DEMO", headers={"accept": "text/html"})
    # signed in (the page itself answers what the stand-in, which serves no APIs, gives it)
    assert page.status_code != 303 and "Signed in as <strong>alice</strong>" in page.text
    # The code was spent: replaying the callback signs no one in.
    assert cockpit.get(f"/auth/callback?{callback.query}").status_code == 400


def test_callback_refuses_a_foreign_state_and_a_wrong_verifier(setup):
    _, cockpit, idp, _ = setup
    r = cockpit.get("/login/oidc")
    q = {k: v[0] for k, v in parse_qs(urlsplit(r.headers["location"]).query).items()}
    code = parse_qs(urlsplit(idp.get("/authorize", params=q).headers["location"]).query)["code"][0]
    assert cockpit.get("/auth/callback", params={"code": code, "state": "forged"}).status_code == 400
    # Another browser (no flow cookie) cannot complete it either.
    other = TestClient(cockpit.app, base_url="https://cockpit.example", follow_redirects=False)
    assert other.get("/auth/callback", params={"code": code, "state": q["state"]}).status_code == 400
    assert "cockpit_session" not in other.cookies


def test_a_token_the_apis_would_refuse_is_no_session(setup):
    settings, cockpit, idp, tokens = setup
    tokens["access"] = mint_token(settings.model_copy(update={"auth_jwt_secret": "another-secret-0123456789abcdef"}),
                                  subject="mallory", scopes=["gl:read"], companies=["*"])
    r = cockpit.get("/login/oidc")
    q = {k: v[0] for k, v in parse_qs(urlsplit(r.headers["location"]).query).items()}
    r = cockpit.get("/auth/callback?" + urlsplit(idp.get("/authorize", params=q).headers["location"]).query)
    assert r.status_code == 400 and "cockpit_session" not in cockpit.cookies


def test_development_sign_in_only_in_development_mode_and_with_the_forms_token():
    off = TestClient(create_app(CockpitSettings(live=False)), follow_redirects=False)
    off.get("/login")
    csrf = off.cookies.get("cockpit_csrf")
    assert off.post("/login/dev", data={"csrf": csrf}).status_code == 400

    settings = CockpitSettings(live=False, dev_signin=True)
    assert settings.secure_cookies is False  # plain http://127.0.0.1 under make run
    dev = TestClient(create_app(settings), follow_redirects=False)
    page = dev.get("/login", headers={"accept": "text/html"})
    form_token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    assert dev.post("/login/dev", data={"csrf": "forged", "next": "/"}).status_code == 403
    r = dev.post("/login/dev", data={"csrf": form_token, "next": "https://evil.example/"})
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert dev.get("/cash", headers={"accept": "text/html"}).status_code == 200
    # Signing out is a form too.
    assert dev.post("/logout", data={"csrf": "forged"}).status_code == 403
    assert dev.post("/logout", data={"csrf": form_token}).status_code == 303
    assert dev.get("/cash").status_code == 303


def test_the_provider_defaults_to_the_issuer_the_apis_trust():
    assert CockpitSettings(auth_jwt_issuer="https://idp.example/realms/finance").oidc_issuer_url == \
        "https://idp.example/realms/finance"
    assert CockpitSettings().oidc_issuer_url == ""  # the development issuer is not a URL
    assert CockpitSettings(oidc_issuer=IDP, auth_jwt_issuer="https://other").oidc_issuer_url == IDP


@pytest.mark.parametrize(("target", "safe"), [("/overview?a=1", "/overview?a=1"), ("//evil.example/x", "/"),
                                              ("https://evil.example", "/"), ("", "/"), ("overview", "/")])
def test_next_is_a_path_on_this_site(target, safe):
    assert safe_next(target) == safe


def test_pages_send_a_policy_that_forbids_other_hosts():
    c = TestClient(create_app(CockpitSettings(live=False)))
    r = c.get("/login")
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert c.get("/healthz").json() == {"status": "ok", "service": "cockpit"}
    assert c.get("/static/vendor/htmx-2.0.11.min.js").status_code == 200
    assert c.get("/docs").status_code == 200


def sign_in(cockpit: TestClient, idp: TestClient, next_: str = "/") -> None:
    r = cockpit.get("/login/oidc", params={"next": next_})
    q = {k: v[0] for k, v in parse_qs(urlsplit(r.headers["location"]).query).items()}
    back = urlsplit(idp.get("/authorize", params=q).headers["location"])
    assert cockpit.get(f"/auth/callback?{back.query}").status_code == 303


def test_an_expiring_access_token_is_renewed_with_the_refresh_token(setup):
    """The provider issues a 30-second access token with a refresh token: the next page renews
    it (inside REFRESH_AHEAD_S of expiry) and the user stays signed in, with the new token; the
    old refresh token is spent (rotation). A refresh token the provider refuses signs the user out."""
    settings, cockpit, idp, tokens = setup
    tokens["access"] = mint_token(settings, subject="alice", scopes=["gl:read"], companies=["DEMO"],
                                  ttl=dt.timedelta(seconds=30))
    tokens["next_access"] = mint_token(settings, subject="alice", scopes=["gl:read", "ar:read"], companies=["DEMO"])
    tokens["refresh"] = True
    sign_in(cockpit, idp)
    first_refresh = next(iter(idp.app.state.refresh_tokens))
    page = cockpit.get("/cash?company=DEMO", headers={"accept": "text/html"})
    assert page.status_code != 303 and "Signed in as <strong>alice</strong>" in page.text
    assert idp.app.state.refreshed == [first_refresh]
    assert any(h.startswith("cockpit_session=") for h in page.headers.get_list("set-cookie"))
    # The renewed token (one hour) is not renewed again on the next page.
    assert cockpit.get("/cash?company=DEMO", headers={"accept": "text/html"}).status_code != 303
    assert idp.app.state.refreshed == [first_refresh]

    # A session whose access token has expired and whose refresh token the provider no longer
    # honours (revoked, or its own session ended): sign in again.
    expired = mint_token(settings, subject="alice", scopes=["gl:read"], companies=["DEMO"],
                         ttl=dt.timedelta(seconds=-5))
    cockpit.cookies.set("cockpit_session", URLSafeTimedSerializer(settings.session_secret, salt="cockpit-session")
                        .dumps({"token": expired, "refresh": "revoked-long-ago"}))
    r = cockpit.get("/cash?company=DEMO")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_signing_out_revokes_the_refresh_token_and_ends_the_providers_session(setup):
    settings, cockpit, idp, tokens = setup
    tokens["refresh"] = True
    tokens["meta"] = {"revocation_endpoint": f"{IDP}/revoke", "end_session_endpoint": f"{IDP}/logout"}
    sign_in(cockpit, idp)
    assert len(idp.app.state.refresh_tokens) == 1
    page = cockpit.get("/cash?company=DEMO", headers={"accept": "text/html"})
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = cockpit.post("/logout", data={"csrf": csrf})
    assert r.status_code == 303
    end = urlsplit(r.headers["location"])
    assert f"{end.scheme}://{end.netloc}{end.path}" == f"{IDP}/logout"
    assert parse_qs(end.query) == {"client_id": ["finance-cockpit"],
                                   "post_logout_redirect_uri": ["https://cockpit.example/login"]}
    assert not idp.app.state.refresh_tokens, "the refresh token was revoked"
    assert cockpit.get("/cash?company=DEMO").status_code == 303
