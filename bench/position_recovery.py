"""How long the cash position worker takes to come back: the time from a (re)start to ready,
which is how long cash management's `GET /v1/cash-position` answers 503 after the worker's
pod is replaced (docs/operations.md, "The cash position worker: one replica").

The worker keeps one `booked` entry per journal and cash account (absolute values, so replays
are idempotent), and its changelog is compacted on keys that never repeat: recovery reads
every entry ever written, and grows with the number of cash journals. This publishes
`--journals` JournalPosted events (one cash line each), lets the worker take them in (the
ingest rate), then restarts it `--runs` times and times start -> ready and start -> the
position whole again (booked = journals).

    .venv/bin/python bench/position_recovery.py --journals 10000 --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from finance.gl.v1 import events_pb2 as gl
from fincore import dates, money
from fincore.events.envelope import encode_record, new_envelope
from fincore.testing.infra import free_port, start_infra

TOPICS = ("finance.gl.events.v1", "finance.cashmgmt.events.v1")
PARTITIONS = 4


async def publish(bootstrap: str, company: str, journals: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        await admin.create_topics([NewTopic(t, PARTITIONS, 1) for t in TOPICS if t not in existing])
    finally:
        await admin.close()
    one, zero = money.to_proto(Decimal("1.00"), "CNY"), money.to_proto(Decimal(0), "CNY")
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=262144)
    await producer.start()
    try:
        for i in range(journals):
            msg = gl.JournalPosted(
                company_id=company, document_number=f"J{i}", journal_id=f"{company}-{i}", period="2026-11",
                occurrence_date=dates.to_proto(dt.date(2026, 11, 5)), lines=[
                    gl.JournalLine(line_no=1, account_code="100201", debit=one, credit=zero,
                                   cash_flow_item="sales_receipts"),
                    gl.JournalLine(line_no=2, account_code="1122", debit=zero, credit=one)])
            key, value, headers = encode_record(env := new_envelope(msg, source="bench"))
            await producer.send(env.topic, key=key, value=value, headers=headers)
        await producer.flush()
    finally:
        await producer.stop()


class Worker:
    def __init__(self, env: dict, log: Path) -> None:
        self.port = free_port()
        self.env = {**env, "CASHMGMT_POSITION_PORT": str(self.port)}
        self.log, self.proc = log, None

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "cashmgmt", "position"], env=self.env,
                                         stdout=out, stderr=subprocess.STDOUT)

    def ready(self) -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def booked(self, company: str) -> Decimal:
        try:
            r = httpx.get(f"http://127.0.0.1:{self.port}/position", params={"company": company}, timeout=30)
        except httpx.HTTPError:
            return Decimal(-1)
        if r.status_code != 200:
            return Decimal(-1)
        return sum((Decimal(a["booked"]) for a in r.json()["other_cash_accounts"]), Decimal(0))

    def wait(self, what, timeout: float = 1800) -> float:
        t0, deadline = time.monotonic(), time.monotonic() + timeout
        while not what():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"worker failed or too slow: {self.log.read_text()[-2000:]}")
            time.sleep(0.1)
        return time.monotonic() - t0

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(60)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--journals", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    log_dir = Path(tempfile.mkdtemp(prefix="bench-position-"))
    with start_infra(log_dir) as infra:
        company = f"B{uuid.uuid4().hex[:8].upper()}"
        env = {**os.environ, **infra.env(), "CASHMGMT_POSITION_APP_ID": f"bench-position-{uuid.uuid4().hex[:8]}",
               "KAFKA_TOPIC_PARTITIONS": str(PARTITIONS), "LOG_LEVEL": "WARNING"}
        w = Worker(env, log_dir / "worker.log")
        w.start()
        w.wait(w.ready, 300)
        t0 = time.monotonic()
        asyncio.run(publish(infra.bootstrap_servers, company, args.journals))
        w.wait(lambda: w.booked(company) == args.journals)
        ingest = time.monotonic() - t0
        print(f"ingest: {args.journals} journals published and taken in {ingest:.1f} s "
              f"({args.journals / ingest:.0f}/s), load {os.getloadavg()[0]:.1f}", flush=True)
        ready, whole = [], []
        for _ in range(args.runs):
            w.stop()
            w.start()
            t = time.monotonic()
            w.wait(w.ready)
            ready.append(time.monotonic() - t)
            w.wait(lambda: w.booked(company) == args.journals)
            whole.append(time.monotonic() - t)
            print(f"restart: ready in {ready[-1]:.1f} s, whole in {whole[-1]:.1f} s, "
                  f"load {os.getloadavg()[0]:.1f}", flush=True)
        w.stop()
    print(f"{args.journals} booked entries: start -> ready median {statistics.median(ready):.1f} s "
          f"({', '.join(f'{x:.1f}' for x in ready)}); start -> whole median {statistics.median(whole):.1f} s "
          f"({', '.join(f'{x:.1f}' for x in whole)})")


if __name__ == "__main__":
    main()
