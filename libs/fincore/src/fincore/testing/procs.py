from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx


class ServiceProcess:
    """One process of a service (`python -m <svc> <command>`), with its log in a file."""

    def __init__(self, name: str, module: str, command: str, env: dict[str, str], log_dir: Path,
                 ready_url: str | None = None, ready_log: str | None = None) -> None:
        self.name, self.module, self.command = name, module, command
        self.env = {**os.environ, **env}
        # Relays, consumers and gRPC servers serve /metrics on http_port + an offset unless told
        # otherwise: two consumers of one service (or another user's process on a shared
        # machine) would collide there, and the second would exit. Each gets a free port.
        metrics_var = f"{module.upper()}_METRICS_PORT"
        if command in ("relay", "consume", "grpc") and not self.env.get(metrics_var):
            from fincore.testing.infra import free_port

            self.env[metrics_var] = str(free_port())
        self.log_path = log_dir / f"{name}.log"
        self.ready_url, self.ready_log = ready_url, ready_log
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self, wait: bool = True, timeout: float = 180) -> ServiceProcess:
        self.starts += 1
        self._offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        out = open(self.log_path, "ab")  # noqa: SIM115 - the child owns it
        out.write(f"\n==== start #{self.starts}: {self.module} {self.command}\n".encode())
        out.flush()
        self.proc = subprocess.Popen([sys.executable, "-m", self.module, self.command], env=self.env,
                                     stdout=out, stderr=subprocess.STDOUT)
        out.close()
        if wait:
            self.wait_ready(timeout)
        return self

    def ensure_running(self) -> ServiceProcess:
        """Start the process unless it is already running (a test that stopped a shared process
        puts it back in ``finally``, so a failure does not take it from every later test)."""
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        return self

    def run_once(self, timeout: float = 120) -> None:
        with open(self.log_path, "ab") as out:
            res = subprocess.run([sys.executable, "-m", self.module, self.command], env=self.env,
                                 stdout=out, stderr=subprocess.STDOUT, timeout=timeout)
        if res.returncode != 0:
            raise RuntimeError(f"{self.name} failed ({res.returncode}):\n{self.tail()}")

    def wait_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.tail()}")
            if self.ready_url:
                try:
                    if httpx.get(self.ready_url, timeout=2).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
            elif self.ready_log:
                if self.ready_log in self.log_path.read_text(errors="replace")[self._offset:]:
                    return
            else:
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready within {timeout}s:\n{self.tail()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flush; what a node failure or OOM kill does."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, timeout: float = 15) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except FileNotFoundError:
            return "(no log)"
