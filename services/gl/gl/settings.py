from fincore.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict


class GLSettings(ServiceSettings):
    """GL_* variables (GL_DATABASE_URL, GL_HTTP_PORT...) plus the suite's shared ones."""

    model_config = SettingsConfigDict(env_prefix="GL_", extra="ignore", populate_by_name=True)

    service_name: str = "gl"
    http_port: int = 8001
    # Topics the posting consumer reads; empty = every topic carrying an event a rule posts.
    posting_topics: str = ""
    posting_group: str = "gl-posting"
    # The author of a manual journal cannot post it (GL_SEGREGATE_DUTIES=false for a one-person books).
    segregate_duties: bool = True
