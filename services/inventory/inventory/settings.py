from fincore.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict


class InventorySettings(ServiceSettings):
    """INVENTORY_* variables (INVENTORY_DATABASE_URL, INVENTORY_HTTP_PORT...) plus the suite's shared ones."""

    model_config = SettingsConfigDict(env_prefix="INVENTORY_", extra="ignore", populate_by_name=True)

    service_name: str = "inventory"
    http_port: int = 8004
