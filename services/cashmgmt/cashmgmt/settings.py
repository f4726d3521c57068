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

    # The live cash position (faust worker, `finance-cashmgmt position`): its web port (0: HTTP
    # port + 4000), its app id (also its consumer group and changelog topics' prefix: a new id
    # rebuilds the view from the topics), and its changelog producer's batch size in bytes. 1 (one
    # record per batch) because the development broker's ListOffsets is wrong for batches and
    # recovery would stop short; on Apache Kafka raise it (16384).
    position_port: int = 0
    position_app_id: str = "cashmgmt-position"
    position_producer_max_batch_size: int = 1
    position_producer_linger_s: float = 0.0  # how long the changelog producer waits to fill a batch
    position_url: str = ""  # where the API finds the worker; empty: http://<http_host>:<position_port>

    def resolved_position_port(self) -> int:
        return self.position_port or self.http_port + 4000

    def resolved_position_url(self) -> str:
        return self.position_url or f"http://{self.http_host}:{self.resolved_position_port()}"
