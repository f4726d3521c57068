"""A private PostgreSQL server for tests that restart it or load it hard (the chaos suite,
benchmarks): initdb into a temporary directory, started with pg_ctl on a free port, so the
machine's shared server is never restarted nor filled. Uses the machine's PostgreSQL
binaries (the Debian packages `make test` already needs); as root, the server runs as the
`postgres` system user (initdb refuses root)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from fincore.testing.infra import InfraError, free_port, wait_port


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    path = shutil.which(name)
    if path:
        return path
    raise InfraError(f"PostgreSQL's {name} not found (install the postgresql package)")


@dataclass
class PrivatePostgres:
    port: int
    data_dir: Path
    log_file: Path
    user: str | None  # the system user the server runs as (None: the current user)

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the `postgres` database (CREATE DATABASE from it)."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str, timeout: float = 60) -> None:
        cmd = [_bin("pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log_file), "-w", "-t", str(int(timeout)),
               *args]
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, timeout=timeout + 30)

    def start(self) -> None:
        self._ctl("start", "-o", f"-p {self.port} -k {self.data_dir} -c listen_addresses=127.0.0.1")
        wait_port("127.0.0.1", self.port, 30, "private PostgreSQL")

    def stop(self, mode: str = "fast") -> None:
        self._ctl("stop", "-m", mode)

    def command(self, action: str) -> str:
        """The shell command that starts (`start`) or stops (`stop`) this cluster on its port
        (a kept cluster's post-mortem)."""
        cmd = f"{_bin('pg_ctl')} -D {self.data_dir} -l {self.log_file} -w {action}"
        cmd += f" -o '-p {self.port} -k {self.data_dir} -c listen_addresses=127.0.0.1'" if action == "start" else \
            " -m fast"
        return f"runuser -u {self.user} -- {cmd}" if self.user else cmd

    def restart(self, mode: str = "fast") -> float:
        """Stop and start again (the clients' connections break); returns the seconds it took."""
        t = time.monotonic()
        self._ctl("restart", "-m", mode, "-o", f"-p {self.port} -k {self.data_dir} -c listen_addresses=127.0.0.1")
        wait_port("127.0.0.1", self.port, 30, "private PostgreSQL")
        return time.monotonic() - t


@contextlib.contextmanager
def private_postgres(log_dir: Path, max_connections: int = 300, keep: bool = False) -> Iterator[PrivatePostgres]:
    """`keep`: the cluster is stopped at the end but its data directory is left where it is
    (`PrivatePostgres.data_dir`, under `log_dir`), for a post-mortem: start it again with
    `start_command()`. Otherwise it is initdb'd in a temporary directory, removed at the end."""
    user = "postgres" if os.geteuid() == 0 else None
    if keep:
        log_dir.mkdir(parents=True, exist_ok=True)
        root = log_dir / "cluster"
        root.mkdir()
    else:
        root = Path(tempfile.mkdtemp(prefix="finance-pg-"))
    data = root / "data"
    log_dir.mkdir(parents=True, exist_ok=True)
    pg = PrivatePostgres(free_port(), data, log_dir / "postgres.log", user)
    try:
        if user:
            shutil.chown(root, user)
            subprocess.run(["chown", user, str(log_dir)], check=False)
            Path(pg.log_file).touch()
            shutil.chown(pg.log_file, user)
        cmd = [_bin("initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]
        if user:
            cmd = ["runuser", "-u", user, "--", *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, timeout=120)
        with open(data / "postgresql.conf", "a") as conf:
            conf.write(f"\nmax_connections = {max_connections}\nfsync = on\nshared_buffers = 128MB\n")
            # Settings for a diagnosis, e.g. FINANCE_PRIVATE_PG_CONF="shared_preload_libraries=pg_stat_statements"
            # (";" separates several): the benches' and tests' servers take them as they are.
            extra = [x.strip() for x in os.environ.get("FINANCE_PRIVATE_PG_CONF", "").split(";") if x.strip()]
            conf.write("".join(f"{x}\n" for x in extra))
        pg.start()
        yield pg
    finally:
        with contextlib.suppress(Exception):
            pg.stop("fast" if keep else "immediate")
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
