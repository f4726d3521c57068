from fincore.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict


class ARSettings(ServiceSettings):
    """AR_* variables (AR_DATABASE_URL, AR_HTTP_PORT...) plus the suite's shared ones."""

    model_config = SettingsConfigDict(env_prefix="AR_", extra="ignore", populate_by_name=True)

    service_name: str = "ar"
    http_port: int = 8002
    grpc_port: int = 50052
