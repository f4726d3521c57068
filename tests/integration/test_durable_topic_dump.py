"""CHAOS_KEEP's topic dump (fincore.testing.durable): every record of every topic is written,
each topic asked for by name, and asking creates no topic.

Known answers: three topics (an events topic of 3 partitions, a dead-letter topic, a topic no
event type names, 2 partitions), 10 records each: 10 lines in each topic's file. Before the
fix the consumer's metadata, narrowed to the first topic it was assigned, made every later
topic look partitionless: the dump held the first topic only."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from fincore.testing.durable import durable_infra

pytestmark = pytest.mark.integration
TOPICS = {"finance.ar.events.v1": 3, "finance.gl.dlq.v1": 1, "other.topic": 2}


async def fill(bootstrap: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(t, n, 1) for t, n in TOPICS.items()])
    finally:
        await admin.close()
    p = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await p.start()
    try:
        for i in range(10):
            for t in TOPICS:
                await p.send_and_wait(t, f"v{i}".encode(), key=f"k{i}".encode())
    finally:
        await p.stop()


async def listed(bootstrap: str) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return sorted(await admin.list_topics())
    finally:
        await admin.close()


def test_the_dump_holds_every_record_of_every_topic(log_dir):
    d_dir = log_dir / f"dump-{uuid.uuid4().hex[:6]}"
    with durable_infra(d_dir) as d:
        asyncio.run(fill(d.infra.bootstrap_servers))
        counts = d.dump_topics(d_dir / "topics")
        after = asyncio.run(listed(d.infra.bootstrap_servers))
    assert counts == dict.fromkeys(TOPICS, 10)
    assert after == sorted(TOPICS)  # the event types' other topics were asked for, not created
    rows = [json.loads(x) for x in (d_dir / "topics" / "other.topic.jsonl").read_text().splitlines()]
    assert sorted(r["key"] for r in rows) == sorted(f"k{i}" for i in range(10))
