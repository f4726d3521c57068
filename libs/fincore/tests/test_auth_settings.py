import datetime as dt

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from fincore.auth import Authenticator, Principal, mint_token
from fincore.errors import install_problem_handlers
from fincore.settings import ServiceSettings


def app_with(settings: ServiceSettings) -> FastAPI:
    auth = Authenticator(settings)
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/books/{company}")
    async def books(company: str, p: Principal = Depends(auth.require("gl:read"))):
        p.require_company(company)
        return {"ok": True}

    return app


@pytest.fixture
def settings():
    return ServiceSettings(service_name="t")


def test_token_scopes_and_companies(settings):
    c = TestClient(app_with(settings))
    good = mint_token(settings, subject="u", scopes=["gl:read"], companies=["A"])
    assert c.get("/books/A", headers={"Authorization": f"Bearer {good}"}).status_code == 200
    r = c.get("/books/B", headers={"Authorization": f"Bearer {good}"})
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    wrong_scope = mint_token(settings, subject="u", scopes=["ar:read"], companies=["A"])
    assert c.get("/books/A", headers={"Authorization": f"Bearer {wrong_scope}"}).status_code == 403
    r = c.get("/books/A")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    expired = mint_token(settings, subject="u", scopes=["gl:read"], companies=["A"], ttl=dt.timedelta(seconds=-5))
    assert c.get("/books/A", headers={"Authorization": f"Bearer {expired}"}).status_code == 401
    other = ServiceSettings(auth_jwt_secret="another-secret-another-secret-0123")
    forged = mint_token(other, subject="u", scopes=["gl:read"], companies=["*"])
    assert c.get("/books/A", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_settings_shared_variables_have_no_prefix(monkeypatch):
    class GL(ServiceSettings):
        model_config = ServiceSettings.model_config | {"env_prefix": "GL_"}
        service_name: str = "gl"

    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "k:1")
    monkeypatch.setenv("GL_DATABASE_URL", "postgresql+psycopg://x/y")
    monkeypatch.setenv("KAFKA_IDEMPOTENT_PRODUCER", "false")
    s = GL()
    assert s.kafka_bootstrap_servers == "k:1"
    assert s.resolved_database_url() == "postgresql+psycopg://x/y"
    assert s.kafka_idempotent_producer is False
    assert s.events_topic == "finance.gl.events.v1" and s.dlq_topic == "finance.gl.dlq.v1"
