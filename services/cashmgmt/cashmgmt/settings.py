from fincore.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict


class CashmgmtSettings(ServiceSettings):
    """CASHMGMT_* variables (CASHMGMT_DATABASE_URL, CASHMGMT_HTTP_PORT...) plus the suite's shared ones."""

    model_config = SettingsConfigDict(env_prefix="CASHMGMT_", extra="ignore", populate_by_name=True)

    service_name: str = "cashmgmt"
    http_port: int = 8005
    # A month of a busy account's camt.053 is several megabytes (10,000 lines ~ 12 MB).
    http_max_body_bytes: int = 64 * 1024 * 1024
    # The cash-flow forecast reads AR, AP and the budget through their public APIs.
    ar_url: str = "http://127.0.0.1:8002"
    ap_url: str = "http://127.0.0.1:8003"
    budget_url: str = "http://127.0.0.1:8006"
    # Token presented to them (ar:read ap:read budget:read); empty = relay the caller's own token.
    forecast_token: str = ""
