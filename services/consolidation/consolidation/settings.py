from fincore.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict


class ConsolidationSettings(ServiceSettings):
    """CONSOLIDATION_* variables (CONSOLIDATION_DATABASE_URL, ..._HTTP_PORT...) plus the suite's shared ones."""

    model_config = SettingsConfigDict(env_prefix="CONSOLIDATION_", extra="ignore", populate_by_name=True)

    service_name: str = "consolidation"
    http_port: int = 8007
    # Where the drill-down's ledger links point (the GL's HTTP API); empty: relative links.
    gl_url: str = "http://127.0.0.1:8001"
