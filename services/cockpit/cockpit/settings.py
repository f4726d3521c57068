from fincore.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict


class CockpitSettings(ServiceSettings):
    """COCKPIT_* variables plus the suite's shared ones (AUTH_JWT_*: the cockpit verifies the
    signed-in user's token as the APIs do; KAFKA_*: it listens to the ledger's JournalPosted)."""

    model_config = SettingsConfigDict(env_prefix="COCKPIT_", extra="ignore", populate_by_name=True)

    service_name: str = "cockpit"
    http_port: int = 8000
    # The other services' public APIs (the cockpit is one more client of theirs).
    gl_url: str = "http://127.0.0.1:8001"
    ar_url: str = "http://127.0.0.1:8002"
    ap_url: str = "http://127.0.0.1:8003"
    inventory_url: str = "http://127.0.0.1:8004"
    cashmgmt_url: str = "http://127.0.0.1:8005"
    budget_url: str = "http://127.0.0.1:8006"
    consolidation_url: str = "http://127.0.0.1:8007"
    api_timeout_s: float = 15.0

    # Sign-in: OIDC authorization code with PKCE against the identity provider that issues the
    # APIs' tokens (AUTH_JWT_ISSUER/AUDIENCE/PUBLIC_KEY verify them). `oidc_issuer` is where its
    # /.well-known/openid-configuration is; the cockpit is a public client unless a secret is set.
    oidc_issuer: str = ""
    oidc_client_id: str = "finance-cockpit"
    oidc_client_secret: str = ""
    oidc_scopes: str = "openid profile"
    # The cockpit's own address as the browser sees it (the redirect URI is <public_url>/auth/callback).
    public_url: str = "http://127.0.0.1:8000"
    # Development sign-in: mints the development token (fincore.auth.mint_token, every scope and
    # company). Off unless development mode is on (`make run` turns it on).
    dev_signin: bool = False
    # Signs the session and CSRF cookies. Empty: a random key per process (sessions end when it
    # restarts, and replicas do not share them); set it in production.
    session_secret: str = ""
    # Session cookie `Secure` flag. Default: on, except under the development sign-in (http://127.0.0.1).
    cookie_secure: bool | None = None
    session_max_age_s: int = 8 * 3600

    default_company: str = "DEMO"
    # Trace view: a trace backend's page for a trace id (e.g. "https://jaeger.example/trace/{trace_id}");
    # empty: the cockpit shows the spans from the trace files (OTEL_TRACES_EXPORTER=file).
    trace_url: str = ""
    # Operations page, consumer lag: a Prometheus that scrapes the consumers (Kubernetes: the
    # monitoring component sets it; lag is summed over every replica), else the metrics
    # endpoints to read it from directly, "name=url,name=url" (make run, tests).
    prometheus_url: str = ""
    metrics_urls: str = ""
    # Live updates: listen to finance.gl.events.v1 (JournalPosted) and push to open pages.
    live: bool = True

    @property
    def secure_cookies(self) -> bool:
        return (not self.dev_signin) if self.cookie_secure is None else self.cookie_secure

    @property
    def oidc_issuer_url(self) -> str:
        """The provider to sign in with: COCKPIT_OIDC_ISSUER, else the issuer the APIs accept
        tokens from (AUTH_JWT_ISSUER) when it is a URL, as an OIDC provider's issuer is."""
        if self.oidc_issuer:
            return self.oidc_issuer
        return self.auth_jwt_issuer if self.auth_jwt_issuer.startswith(("https://", "http://")) else ""

    def service_url(self, service: str) -> str:
        return getattr(self, f"{service}_url")
