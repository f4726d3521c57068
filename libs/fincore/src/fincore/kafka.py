"""Kafka clients configured the one way the suite uses them (aiokafka)."""

from __future__ import annotations

import logging

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from fincore.settings import ServiceSettings

log = logging.getLogger(__name__)


def security(settings: ServiceSettings) -> dict:
    """Connection security for every client (producer, consumer, admin): TLS with a client
    certificate when KAFKA_SECURITY_PROTOCOL=SSL, plaintext otherwise (development)."""
    if settings.kafka_security_protocol.upper() != "SSL":
        return {}
    from aiokafka.helpers import create_ssl_context

    return {"security_protocol": "SSL", "ssl_context": create_ssl_context(
        cafile=settings.kafka_ssl_cafile or None, certfile=settings.kafka_ssl_certfile or None,
        keyfile=settings.kafka_ssl_keyfile or None)}


def make_producer(settings: ServiceSettings, *, client_id: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=settings.kafka_idempotent_producer,
        linger_ms=settings.kafka_linger_ms,
        max_batch_size=256 * 1024,
        request_timeout_ms=30000,
        **security(settings),
    )


def make_consumer(settings: ServiceSettings, *topics: str, group_id: str,
                  max_records: int | None = None) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=group_id,
        client_id=group_id,
        enable_auto_commit=False,  # offsets are committed only after the database commit
        auto_offset_reset="earliest",
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=max(1000, settings.kafka_session_timeout_ms // 3),
        max_poll_records=max_records or settings.consumer_max_records,
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
        isolation_level="read_committed",
        **security(settings),
    )


async def ensure_topics(settings: ServiceSettings, topics: list[str], *, partitions: int | None = None) -> None:
    """Create topics with explicit partition counts (as production does); existing ones are kept."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers,
                                client_id=f"{settings.service_name}-admin", **security(settings))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        new = [NewTopic(t, num_partitions=partitions or settings.kafka_topic_partitions,
                        replication_factor=settings.kafka_topic_replication)
               for t in topics if t not in existing]
        if new:
            try:
                await admin.create_topics(new)
            except TopicAlreadyExistsError:
                pass
            log.info("created topics %s", [t.name for t in new])
    finally:
        await admin.close()


async def broker_reachable(settings: ServiceSettings, timeout_s: float = 3.0) -> None:
    from aiokafka.client import AIOKafkaClient

    client = AIOKafkaClient(bootstrap_servers=settings.kafka_bootstrap_servers,
                            request_timeout_ms=int(timeout_s * 1000), **security(settings))
    try:
        await client.bootstrap()
    finally:
        await client.close()
