from fincore.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict


class GLSettings(ServiceSettings):
    """GL_* variables (GL_DATABASE_URL, GL_HTTP_PORT...) plus the suite's shared ones."""

    model_config = SettingsConfigDict(env_prefix="GL_", extra="ignore", populate_by_name=True)

    service_name: str = "gl"
    http_port: int = 8001
    # Topics the posting consumer reads (every context's events that carry postings).
    posting_topics: str = "finance.ar.events.v1"
    posting_group: str = "gl-posting"
