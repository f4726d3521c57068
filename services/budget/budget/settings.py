from fincore.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict


class BudgetSettings(ServiceSettings):
    """BUDGET_* variables (BUDGET_DATABASE_URL, BUDGET_HTTP_PORT...) plus the suite's shared ones."""

    model_config = SettingsConfigDict(env_prefix="BUDGET_", extra="ignore", populate_by_name=True)

    service_name: str = "budget"
    http_port: int = 8006
    grpc_port: int = 50056
    # An uncommitted reservation lapses after this long unless the caller asks for another expiry.
    reservation_ttl_s: int = 30 * 24 * 3600
