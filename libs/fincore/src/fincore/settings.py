"""Settings shared by every service, read from the environment by `main`, passed in everywhere else.

A service subclasses `ServiceSettings` with its own prefix (``GL_``, ``AR_``...) for what is
its own (database URL, ports); what the whole suite shares (the Kafka cluster, the token
issuer) is read without a prefix so one variable points every service at the same place.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _shared(name: str) -> AliasChoices:
    return AliasChoices(name)


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    service_name: str = "service"
    # Embedded default: a SQLite file per service under .data/ (make run needs nothing installed).
    database_url: str = ""
    # PostgreSQL connections per process: at most db_pool_size kept open plus db_max_overflow
    # opened under a burst. Size them against the server's max_connections (or PgBouncer's):
    # every API, relay, consumer and gRPC replica of every service has its own pool.
    db_pool_size: int = Field(10, ge=1, le=200)
    db_max_overflow: int = Field(10, ge=0, le=200)
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    # Larger request bodies are refused (413) before they are parsed.
    http_max_body_bytes: int = 4 * 1024 * 1024
    grpc_port: int = 0
    # /metrics, /healthz and /readyz of the relay, consume and grpc processes (the API serves
    # them on its HTTP port). 0: the HTTP port + 1000 (relay), + 2000 (consume), + 3000 (grpc),
    # so `make run` has no clashes; Kubernetes sets 9464 (each pod has its own network).
    metrics_port: int = 0
    # A relay or consumer loop that has not turned for this long fails /healthz (restart it).
    stall_after_s: float = 120.0

    kafka_bootstrap_servers: str = Field(
        "127.0.0.1:9092", validation_alias=_shared("KAFKA_BOOTSTRAP_SERVERS")
    )
    # On for Apache Kafka; the local Tansu broker refuses InitProducerId, so dev/CI turn it off.
    kafka_idempotent_producer: bool = Field(
        True, validation_alias=_shared("KAFKA_IDEMPOTENT_PRODUCER")
    )
    # TLS to the brokers (Strimzi's tls listener with tls client authentication): PLAINTEXT or SSL,
    # and the PEM files the pod mounts from the cluster CA and the KafkaUser secrets.
    kafka_security_protocol: str = Field("PLAINTEXT", validation_alias=_shared("KAFKA_SECURITY_PROTOCOL"))
    kafka_ssl_cafile: str = Field("", validation_alias=_shared("KAFKA_SSL_CAFILE"))
    kafka_ssl_certfile: str = Field("", validation_alias=_shared("KAFKA_SSL_CERTFILE"))
    kafka_ssl_keyfile: str = Field("", validation_alias=_shared("KAFKA_SSL_KEYFILE"))
    kafka_session_timeout_ms: int = Field(6000, validation_alias=_shared("KAFKA_SESSION_TIMEOUT_MS"))
    # Longest a fetch waits on the broker for records. Kafka answers as soon as a record arrives;
    # the development broker (tansu) answers only when the wait is over: there an event waits
    # ~100 ms (median) at 500 and ~16 ms at 100, but at 100 a caught-up consumer handles smaller
    # polls (the outbox bench's GL consumer used up to twice the CPU per event), so 500 stays.
    kafka_fetch_max_wait_ms: int = Field(500, validation_alias=_shared("KAFKA_FETCH_MAX_WAIT_MS"))
    # How long a producer waits to fill a batch (linger.ms). A relay waits for its batch's
    # acknowledgements before it reads the next, so this is also the shortest time between two
    # relay batches: a longer linger sends fewer, larger produce requests (each one stored batch
    # per partition) for up to that much more latency per hop.
    kafka_linger_ms: int = Field(5, ge=0, le=1000, validation_alias=_shared("KAFKA_LINGER_MS"))
    # Partitions given to topics this service creates (its events and its DLQ).
    kafka_topic_partitions: int = Field(4, validation_alias=_shared("KAFKA_TOPIC_PARTITIONS"))
    # 3 on a production cluster (or declare the topics as Strimzi KafkaTopic resources).
    kafka_topic_replication: int = Field(1, validation_alias=_shared("KAFKA_TOPIC_REPLICATION_FACTOR"))

    outbox_batch_size: int = 500
    outbox_poll_interval_s: float = 0.05
    # With PostgreSQL's commit notification listened to, the safety-net poll (see outbox.relay).
    outbox_idle_poll_s: float = 1.0
    outbox_retention_days: int = 14
    # How long an Idempotency-Key is remembered (the relay purges older ones).
    idempotency_retention_days: int = 7

    consumer_max_records: int = 500
    # A poll's records are handled in transactions of at most about this long (a 2,000-record
    # poll may take longer than the rebalance timeout); each transaction's offsets are committed
    # when it commits, and a pending rebalance ends the poll at the next event.
    consumer_max_batch_s: float = 2.0
    consumer_max_retries: int = 3
    consumer_retry_backoff_s: float = 0.2

    # OAuth 2.0 bearer tokens (JWT). HS256 with a shared secret in development; in
    # production set AUTH_JWT_PUBLIC_KEY (PEM) and AUTH_JWT_ALGORITHMS=RS256.
    auth_jwt_secret: str = Field(
        "dev-secret-change-me-0123456789abcdef", validation_alias=_shared("AUTH_JWT_SECRET")
    )
    auth_jwt_public_key: str = Field("", validation_alias=_shared("AUTH_JWT_PUBLIC_KEY"))
    auth_jwt_algorithms: str = Field("HS256", validation_alias=_shared("AUTH_JWT_ALGORITHMS"))
    auth_jwt_issuer: str = Field("finance-suite-dev", validation_alias=_shared("AUTH_JWT_ISSUER"))
    auth_jwt_audience: str = Field("finance-suite", validation_alias=_shared("AUTH_JWT_AUDIENCE"))

    data_dir: Path = Field(Path(".data"), validation_alias=_shared("FINANCE_DATA_DIR"))

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{(self.data_dir / f'{self.service_name}.db').resolve()}"

    @property
    def events_topic(self) -> str:
        return f"finance.{self.service_name}.events.v1"

    @property
    def dlq_topic(self) -> str:
        return f"finance.{self.service_name}.dlq.v1"
