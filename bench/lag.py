"""Real-time lag under sustained load (issue 15, point 4): event-to-journal and
API-to-statement p50/p95/p99 at fixed rates, whether the lag stays bounded, and where the
CPU went.

    .venv/bin/python bench/lag.py --mode api --rates 25 --companies 4 --duration 300 --seed 1
    .venv/bin/python bench/lag.py --mode pipeline --rates 200 --companies 4 --duration 300 --seed 1

Two measurements, because seven Python services' APIs on 2 cores cannot accept 1,000
business transactions/s, while the path below them can be driven at that rate:

--mode api (API -> statement): starts the whole suite as the e2e tests do (every API, relay
  and consumer as a process, the local broker, PostgreSQL databases of its own) and runs
  finance-load (finverify.load: a seeded mix of order to cash, procure to pay with budget
  checks, manual journals and FX through the public APIs), the rate spread over --companies
  companies. Per business transaction: API accepted, first event published, journal
  committed, first trial balance counting it. Afterwards finance-verify over those companies
  (breaches must be 0).

--mode pipeline (event -> journal): the source services' outbox rows are written at the
  fixed rate into the AR, inventory and AP databases, each row as the use case writes it
  (fincore.outbox.event_row: the envelope, headers with a traceparent, the protobuf
  payload), committed every --tick seconds per service, a realistic mix of sales invoices,
  goods issued and received, receipts and expense invoices over --companies companies. The
  production processes do the rest: the AR, inventory and AP relays publish, the GL
  consumer posts, the GL relay publishes JournalPosted, the GL API answers the trial
  balance. Per event: written (outbox commit), published (Kafka timestamp), journal
  committed (JournalPosted ce_time, set in the posting transaction), first trial balance
  counting it (each company's is read every 0.25 s). The topics are read for the timestamps
  after the ledger caught up (--observe after; --observe live: a subscriber during the load,
  whose fetches the development broker pays for). Afterwards finance-verify I1, I3, I4 over
  the companies (I7 does not apply: the sub-ledgers hold no documents for these events).

Bounded (both modes): the achieved rate is >= 95 % of the asked rate; every item got its
journal and its statement; the p99 lag of the last fifth of the run is at most twice the
first fifth's plus 100 ms (a backlog that grows shows as a rising lag); and after the load
stops, the last journal and statement follow within --drain-limit seconds (5).

CPU: each process's utime+stime over the load window (/proc), grouped: load generator
(this process), each service process, the broker, PostgreSQL backends of this run's
databases, other PostgreSQL processes, everything else; reported in CPU seconds, share and
milliseconds per business event. --profile NAME,... records those processes with py-spy
(PY_SPY or PATH) during the load window into the log directory (speedscope JSON).

Service processes run with OTEL_TRACES_EXPORTER=none unless --tracing (trace context is
still made and carried; spans are not exported). The machine's load average is recorded
with each run: on a shared machine the figures say as much about the neighbours as about us.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import datetime as dt
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

import httpx  # noqa: E402
from conftest import Suite  # noqa: E402  (the e2e harness: one definition of how the suite starts)
from fincore.auth import ALL_SCOPES, mint_token  # noqa: E402
from fincore.settings import ServiceSettings  # noqa: E402
from fincore.testing import OtlpReceiver, ServiceProcess, free_port, start_infra  # noqa: E402
from finverify.load import Load, Urls, pct, run_loads  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from ledger import cpu_probe  # noqa: E402  (the machine's speed: the same fixed workload as bench-ledger)

WINDOWS = 5  # the run is judged in fifths: the last fifth's p99 against the first's
CLK = os.sysconf("SC_CLK_TCK")


# --- bounded -------------------------------------------------------------------------------
def judge(samples: list[tuple[float, float]], t0: float, t1: float, *, asked: float, achieved: float,
          missing: int, drain_s: float | None, drain_limit: float) -> dict:
    """samples: (when the item started, its lag in seconds) for the items that completed."""
    width = (t1 - t0) / WINDOWS
    windows = []
    for w in range(WINDOWS):
        lo, hi = t0 + w * width, t0 + (w + 1) * width
        windows.append(pct([lag for at, lag in samples if lo <= at < hi or (w == WINDOWS - 1 and at >= hi)]))
    p99 = [w.get("p99_ms") for w in windows]
    growing = p99[0] is None or p99[-1] is None or p99[-1] > 2 * p99[0] + 100
    reasons = []
    if achieved < 0.95 * asked:
        reasons.append(f"achieved {achieved}/s of {asked}/s")
    if missing:
        reasons.append(f"{missing} never completed")
    if growing:
        reasons.append(f"p99 rose from {p99[0]} ms (first fifth) to {p99[-1]} ms (last fifth)")
    if drain_s is None or drain_s > drain_limit:
        reasons.append(f"drained {drain_s} s after the load stopped (limit {drain_limit} s)")
    return {"bounded": not reasons, "why_not": reasons, "p99_ms_by_fifth": p99,
            "drain_s": None if drain_s is None else round(drain_s, 2)}


# --- CPU by process -------------------------------------------------------------------------
_CMDLINES: dict[tuple[int, int], str] = {}  # (pid, start time) -> command line, read once per process


def _proc_table() -> dict[int, tuple[int, int, str, int]]:
    """pid -> (ppid, utime+stime ticks, command line, start time ticks) of every process."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
            rest = stat[stat.rindex(")") + 2:].split()
            key = (int(d), int(rest[19]))
            if (cmd := _CMDLINES.get(key)) is None:
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    cmd = _CMDLINES[key] = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        out[int(d)] = (int(rest[1]), int(rest[11]) + int(rest[12]), cmd, int(rest[19]))
    return out


def _busy_ticks() -> tuple[int, int]:
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v[:8]) - idle, sum(v[:8])


class CpuSampler:
    """Samples every process's CPU ticks every `every` seconds between start() and stop(), and
    attributes them to groups (a process started inside the window counts from zero; one that
    ends inside it keeps what the last sample saw)."""

    def __init__(self, named: dict[int, str], databases: list[str], broker_port: str, every: float = 1.0) -> None:
        self.named, self.databases, self.broker_port, self.every = named, databases, broker_port, every
        self.first: dict[int, int] = {}
        self.last: dict[int, tuple[int, str]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def group(self, pid: int, table: dict) -> str:
        p = pid
        for _ in range(10):  # a child of a service process counts as that process
            if p in self.named:
                return self.named[p]
            if p not in table:
                break
            p = table[p][0]
        cmd = table[pid][2]
        if pid == os.getpid():
            return "load generator (bench)"
        if cmd.startswith("postgres:") or "postgres" in cmd.split(" ")[0]:
            return "postgresql (this run's databases)" if any(db in cmd for db in self.databases) \
                else "postgresql (other)"
        if "broker" in cmd and self.broker_port and self.broker_port in cmd:
            return "broker"
        return "other: " + " ".join(cmd.split(" ")[:3])[:80]

    def _sample(self) -> None:
        table = _proc_table()
        for pid, (_, ticks, _, started) in table.items():
            if pid not in self.first:
                self.first[pid] = ticks if started < self._t0_ticks else 0
            self.last[pid] = (ticks, self.group(pid, table))

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self._sample()

    def start(self) -> None:
        with open("/proc/uptime") as f:
            self._t0_ticks = int(float(f.read().split()[0]) * CLK)
        self._wall = time.monotonic()
        self._busy0 = _busy_ticks()
        self._sample()
        self._thread.start()

    def stop(self, events: int) -> dict:
        self._stop.set()
        self._thread.join()
        self._sample()
        wall = time.monotonic() - self._wall
        busy1 = _busy_ticks()
        groups: dict[str, float] = {}
        others: dict[str, float] = {}
        for pid, (ticks, g) in self.last.items():
            s = (ticks - self.first.get(pid, 0)) / CLK
            if g.startswith("other: "):
                others[g[7:]] = others.get(g[7:], 0.0) + s
                g = "other"
            groups[g] = groups.get(g, 0.0) + s
        total = sum(groups.values())
        busy = (busy1[0] - self._busy0[0]) / CLK
        rows = sorted(groups.items(), key=lambda kv: -kv[1])
        return {"window_s": round(wall, 1), "machine_busy_cores": round(busy / wall, 2) if wall else None,
                "events": events,
                "by_process": [{"process": g, "cpu_s": round(s, 1), "share": round(s / total, 3) if total else None,
                                "cores": round(s / wall, 2),
                                "ms_per_event": round(s * 1000 / events, 2) if events else None}
                               for g, s in rows if s >= 0.05],
                "other_top": [[cmd, round(s, 1)] for cmd, s in sorted(others.items(), key=lambda kv: -kv[1])[:8]
                              if s >= 0.1]}


class Timeline:
    """Per-second samples during the load, to find where a lag spike comes from: CPU per
    process group (CpuSampler's groups), and from PostgreSQL: WAL written, checkpoints
    (pg_stat_bgwriter), per table of the run's databases the live rows, scans and rows read
    by sequential scans, autovacuum and autoanalyze counts, the autovacuum workers running,
    and what the run's backends wait on. Written to timeline.json and, with the items' lag
    binned by second, to timeline.txt (`--timeline`)."""

    def __init__(self, cpu: CpuSampler, db_urls: dict[str, str], every: float = 1.0) -> None:
        self.cpu, self.db_urls, self.every = cpu, db_urls, every
        self.samples: list[dict] = []
        self._prev: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._conns: dict = {}

    def _pg(self) -> dict:
        out: dict = {"tables": {}, "autovacuum": [], "waits": {}}
        for svc, conn in self._conns.items():
            rows = conn.execute(
                "SELECT relname, n_live_tup, n_dead_tup, n_mod_since_analyze, seq_scan, seq_tup_read, "
                "coalesce(idx_scan, 0), autovacuum_count, autoanalyze_count FROM pg_stat_user_tables").fetchall()
            for r in rows:
                out["tables"][f"{svc}.{r[0]}"] = list(r[1:])
            if svc == "gl":
                out["wal"] = int(conn.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").fetchone()[0])
                out["bgwriter"] = [float(x) for x in conn.execute(
                    "SELECT checkpoints_timed, checkpoints_req, buffers_checkpoint, buffers_backend, "
                    "checkpoint_write_time, checkpoint_sync_time FROM pg_stat_bgwriter").fetchone()]
                for dat, btype, state, wtype, wev, q in conn.execute(
                        "SELECT datname, backend_type, state, wait_event_type, wait_event, left(query, 90) "
                        "FROM pg_stat_activity WHERE pid <> pg_backend_pid()").fetchall():
                    if btype and btype.startswith("autovacuum worker"):
                        out["autovacuum"].append(f"{dat}: {q}")
                    elif btype == "client backend" and state == "active":
                        key = f"{(dat or '').rsplit('_', 1)[-1]}:{wtype or 'cpu'}:{wev or ''}"
                        out["waits"][key] = out["waits"].get(key, 0) + 1
        return out

    def _sample(self) -> None:
        table = _proc_table()
        cores: dict[str, float] = {}
        for pid, (_, ticks, _, _) in table.items():
            prev = self._prev.get(pid)
            self._prev[pid] = ticks
            if prev is None or ticks == prev:
                continue
            g = self.cpu.group(pid, table)
            g = "other" if g.startswith("other: ") else g
            cores[g] = cores.get(g, 0.0) + (ticks - prev) / CLK
        busy = _busy_ticks()
        s = {"t": time.time(), "cpu": cores, "busy": busy}
        try:
            s["pg"] = self._pg()
        except Exception as exc:  # noqa: BLE001 - a sample missed is not a run lost
            s["pg_error"] = str(exc)[:200]
        self.samples.append(s)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self._sample()

    def start(self) -> None:
        import psycopg

        for svc, url in self.db_urls.items():
            self._conns[svc] = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
        for pid, (_, ticks, _, _) in _proc_table().items():
            self._prev[pid] = ticks
        self._sample()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        for c in self._conns.values():
            c.close()

    def write(self, log_dir: Path, items: list, t0: float) -> None:
        """timeline.json (the samples) and timeline.txt: per second from the first row written,
        what was written, published and journalled, the event -> journal lag of the events
        published in it, the GL's posting transactions (journals share their commit's ce_time),
        CPU per group, WAL MB/s, checkpoints, autovacuum/analyze runs, sequential-scan reads."""
        (log_dir / "timeline.json").write_text(json.dumps(self.samples))
        secs = int(max([it.journal or 0 for it in items] + [s["t"] for s in self.samples]) - t0) + 2
        wr, pu, jo = [0] * secs, [0] * secs, [0] * secs
        lag: list[list[float]] = [[] for _ in range(secs)]
        for it in items:
            if it.written:
                wr[max(0, int(it.written - t0))] += 1
            if it.published:
                k = max(0, int(it.published - t0))
                pu[k] += 1
                if it.journal:
                    lag[k].append(it.journal - it.published)
            if it.journal:
                k = max(0, int(it.journal - t0))
                jo[k] += 1
        lines = ["sec written published journalled e2j_p50 e2j_p99 e2j_max backlog | busy gl-consume broker "
                 "pg relays gl-api bench other | WAL_MB/s ckpt autovac/analyze(tables) seq_read_rows(top) active_waits"]
        backlog, prev = 0, None
        by_sec: dict[int, dict] = {}
        for s in self.samples:
            by_sec[int(s["t"] - t0)] = s
        for k in range(secs):
            backlog += pu[k] - jo[k]
            ls = sorted(lag[k])
            q = (lambda p, ls=ls: round(ls[min(len(ls) - 1, int(p * len(ls)))] * 1000) if ls else "-")  # noqa: E731
            row = f"{k:4d} {wr[k]:5d} {pu[k]:5d} {jo[k]:5d} {q(0.5):>6} {q(0.99):>6} {q(1.0):>6} " \
                  f"{backlog:6d} |"
            s = by_sec.get(k)
            if s is not None and prev is not None:
                dt_ = s["t"] - prev["t"]
                c = {g: v / dt_ for g, v in s["cpu"].items()}
                relays = sum(v for g, v in c.items() if g.endswith("-relay"))
                pgc = sum(v for g, v in c.items() if g.startswith("postgresql"))
                busy = (s["busy"][0] - prev["busy"][0]) / CLK / dt_
                row += " " + " ".join(f"{v:4.2f}" for v in (
                    busy, c.get("gl-consume", 0), c.get("broker", 0), pgc, relays, c.get("gl-api", 0),
                    c.get("load generator (bench)", 0), c.get("other", 0))) + " |"
                pg, pp = s.get("pg"), prev.get("pg")
                if pg and pp:
                    row += f" {(pg['wal'] - pp['wal']) / 1e6 / dt_:5.1f}"
                    b, pb = pg["bgwriter"], pp["bgwriter"]
                    ck = []
                    if b[0] > pb[0]:
                        ck.append("timed")
                    if b[1] > pb[1]:
                        ck.append("req")
                    if b[2] > pb[2]:
                        ck.append(f"done:{b[2] - pb[2]}buf")
                    row += " " + (",".join(ck) or "-")
                    av, seq = [], []
                    for name, v in pg["tables"].items():
                        o = pp["tables"].get(name)
                        if o is None:
                            continue
                        if v[6] > o[6]:
                            av.append(f"V:{name}")
                        if v[7] > o[7]:
                            av.append(f"A:{name}")
                        if v[4] - o[4] > 0:
                            seq.append((v[4] - o[4], name, v[3] - o[3]))
                    seq.sort(reverse=True)
                    row += " " + (",".join(av) or "-")
                    row += " " + (",".join(f"{n}:{r}/{sc}" for r, n, sc in seq[:3]) or "-")
                    if pg["autovacuum"]:
                        row += " AVW[" + "; ".join(pg["autovacuum"]) + "]"
                    row += " " + ",".join(f"{k_}={v}" for k_, v in sorted(pg["waits"].items()))
            if s is not None:
                prev = s
            lines.append(row)
        (log_dir / "timeline.txt").write_text("\n".join(lines) + "\n")


class PySpy:
    """py-spy over the whole load window (speedscope JSON), or over windows of it
    (`--profile-at START:SECONDS,...` from the load's start; collapsed stacks, py-spy's raw
    format, one file per window: to compare a spike with the quiet part of the same run)."""

    def __init__(self, names: list[str], log_dir: Path, windows: list[tuple[float, float]] | None = None) -> None:
        self.names, self.log_dir, self.procs = names, log_dir, []
        self.windows = windows or []
        self.timers: list[threading.Timer] = []
        self.bin = os.environ.get("PY_SPY") or shutil.which("py-spy") or (
            str(Path(sys.executable).parent / "py-spy") if (Path(sys.executable).parent / "py-spy").exists() else None)

    def _record(self, pid: int, seconds: float, out: Path, fmt: str) -> None:
        self.procs.append(subprocess.Popen(
            [self.bin, "record", "-p", str(pid), "-d", str(int(seconds)), "-r", "50", "-f", fmt,
             "-o", str(out), "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))

    def start(self, pids: dict[str, int], seconds: float) -> None:
        if not self.names:
            return
        if not self.bin:
            raise SystemExit("--profile needs py-spy (set PY_SPY or put it on PATH)")
        for name in self.names:
            if not self.windows:
                self._record(pids[name], seconds, self.log_dir / f"py-spy-{name}.json", "speedscope")
            for at, dur in self.windows:
                t = threading.Timer(at, self._record, (pids[name], dur, self.log_dir / f"py-spy-{name}-{int(at)}s.txt",
                                                       "raw"))
                t.daemon = True
                t.start()
                self.timers.append(t)

    def wait(self) -> None:
        for t in self.timers:
            t.join()
        for p in self.procs:
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()


# --- API mode ------------------------------------------------------------------------------
def run_api(suite: Suite, rate: float, a: argparse.Namespace, log_dir: Path, databases: list[str]) -> dict:
    approver = mint_token(ServiceSettings(), subject="bench-approver", scopes=ALL_SCOPES, companies=["*"])
    urls = Urls(suite.gl_url, suite.ar_url, suite.ap_url, suite.inv_url, suite.budget_url)
    loads = [Load(urls, suite.token, approver, suite.infra.bootstrap_servers, rate=rate / a.companies,
                  duration=a.duration, seed=a.seed + i) for i in range(a.companies)]
    named = {p.proc.pid: p.name for p in suite.processes}
    sampler = CpuSampler(named, databases, suite.infra.bootstrap_servers.rsplit(":", 1)[-1])
    spy = PySpy(a.profile, log_dir)
    before = os.getloadavg()

    async def go():
        # the CPU window is the load's: from its first request (after the setups) to its last answer
        task = asyncio.create_task(run_loads(loads, drain_s=max(120.0, a.duration)))
        while not task.done():
            if any(ld.txns for ld in loads):
                break
            await asyncio.sleep(0.05)
        sampler.start()
        spy.start({p.name: p.proc.pid for p in suite.processes}, a.duration)
        while not task.done():
            if all(len(ld.txns) >= int(ld.rate * ld.duration) and all(t.accepted for t in ld.txns) for ld in loads):
                break
            await asyncio.sleep(0.1)
        return await task

    summaries = asyncio.run(go())
    txns = [t for ld in loads for t in ld.txns]
    cpu = sampler.stop(events=len(txns))
    spy.wait()
    after = [round(x, 1) for x in os.getloadavg()]
    ok = [t for t in txns if t.status in (200, 201)]
    t0 = min(t.scheduled for t in txns)
    load_end = max(t.accepted for t in txns if t.accepted)
    achieved = round(len(txns) / (max(t.start for t in txns) - t0), 1)
    events = sum(len(t.event_ids) for t in ok)
    last_stmt = max((t.statement for t in ok if t.statement), default=None)
    res = {
        "mode": "api", "rate": rate, "companies": a.companies, "duration_s": a.duration, "seed": a.seed,
        "sent": len(txns), "accepted": len(ok), "achieved_rate": achieved, "business_events_published": events,
        "event_to_journal": pct([t.journal - t.published for t in ok if t.published and t.journal]),
        "api_accepted": pct([t.accepted - t.start for t in ok]),
        "api_to_journal": pct([t.journal - t.start for t in ok if t.journal]),
        "api_to_statement": pct([t.statement - t.start for t in ok if t.statement]),
        "bounded": judge([(t.scheduled, t.statement - t.scheduled) for t in ok if t.statement], t0,
                         t0 + a.duration, asked=rate, achieved=achieved,
                         missing=sum(1 for t in ok if t.statement is None) + len(txns) - len(ok),
                         drain_s=None if last_stmt is None else last_stmt - load_end, drain_limit=a.drain_limit),
        "late_starts": sum(s["late_starts"] for s in summaries),
        "errors": sorted({e for s in summaries for e in s["errors"]})[:10],
        "loadavg_before": [round(x, 1) for x in before], "loadavg_after": after, "cpu": cpu,
        "companies_ids": [ld.company for ld in loads],
    }
    t = time.monotonic()
    v = suite.verify([ld.company for ld in loads], only=("I1", "I2", "I3", "I4", "I6", "I7"))
    res["verify"] = {"breaches": len(v.breaches), "seconds": round(time.monotonic() - t, 1),
                     "report": v.report().splitlines()[:20]}
    return res


# --- pipeline mode -------------------------------------------------------------------------
@dataclass
class Item:
    company: str
    event_id: str
    written: float = 0.0
    published: float | None = None
    journal: float | None = None
    statement: float | None = None


@dataclass
class Pipeline:
    """The GL side of the suite (API, posting consumer, relay) and the relays of the three
    source services whose outboxes are written; nothing else runs."""

    infra: object
    log_dir: Path
    tracing: bool
    gl_consumers: int = 1  # members of the gl-posting group (the topics' partitions are split among them)
    urls: dict[str, str] = field(default_factory=dict)
    processes: list[ServiceProcess] = field(default_factory=list)

    def start(self) -> None:
        self.gl_port = free_port()
        env = {**self.infra.env(), "GL_HTTP_PORT": str(self.gl_port), "LOG_LEVEL": "INFO",
               "FINANCE_DATA_DIR": str(self.log_dir / "data"),
               "OTEL_TRACES_EXPORTER": os.environ.get("OTEL_TRACES_EXPORTER", "none") if self.tracing else "none"}
        for svc in ("gl", "ar", "inventory", "ap"):
            self.urls[svc] = env[f"{svc.upper()}_DATABASE_URL"] = self.infra.database_url(svc)
        for svc in ("gl", "ar", "inventory", "ap"):
            ServiceProcess(f"{svc}-migrate", svc, "migrate", env, self.log_dir).run_once()
        self.gl_api = ServiceProcess("gl-api", "gl", "api", env, self.log_dir,
                                     ready_url=f"http://127.0.0.1:{self.gl_port}/readyz")
        self.processes = [
            self.gl_api,
            # Members after the first are "gl-consume#k": their CPU is summed under gl-consume.
            *(ServiceProcess("gl-consume" + (f"#{k}" if k > 1 else ""), "gl", "consume", env, self.log_dir,
                             ready_log="consumer gl-posting reading") for k in range(1, self.gl_consumers + 1)),
            *(ServiceProcess(f"{svc}-relay", svc, "relay", env, self.log_dir, ready_log="outbox relay publishing")
              for svc in ("gl", "ar", "inventory", "ap")),
        ]
        for p in self.processes:
            p.start()

    def stop(self) -> None:
        for p in self.processes:
            p.stop()

    @property
    def gl_url(self) -> str:
        return f"http://127.0.0.1:{self.gl_port}"


MIX_PIPELINE = {"invoice": 30, "goods_issued": 30, "goods_received": 15, "receipt": 15, "expense_invoice": 10}


def source_event(kind: str, company: str, seq: int, rnd: random.Random):
    """(service, payload) of the seq-th source event, as the service's use case makes it."""
    from finance.ap.v1 import events_pb2 as ap
    from finance.ar.v1 import events_pb2 as ar
    from finance.common.v1 import types_pb2
    from finance.inventory.v1 import events_pb2 as inv
    from fincore import dates, money

    def m(v: Decimal) -> types_pb2.Money:
        return money.to_proto(v, "CNY")

    h = {"company_id": company, "document_number": f"{kind[:3].upper()}-{seq}",
         "occurrence_date": dates.to_proto(dt.date(2026, 11, 1 + seq % 28))}
    net = Decimal(rnd.randint(1000, 50000)) / 100
    if kind == "invoice":
        tax = (net * Decimal("0.13")).quantize(Decimal("0.01"))
        return "ar", ar.InvoiceIssued(**h, invoice_id=f"i{seq}", customer_code=f"K{seq % 10}", currency="CNY",
                                      net_total=m(net), tax_total=m(tax), gross_total=m(net + tax),
                                      lines=[ar.InvoiceLine(net=m(net), tax=m(tax))])
    if kind == "receipt":
        return "ar", ar.PaymentReceived(**h, customer_code=f"K{seq % 10}", amount=m(net))
    if kind == "goods_issued":
        return "inventory", inv.GoodsIssued(**h, movement_id=f"m{seq}", customer_code=f"K{seq % 10}",
                                            total_cost=m(net), lines=[inv.MovementLine(
                                                item_code=f"P{seq % 4}", total_cost=m(net), quantity="1")])
    if kind == "goods_received":
        half = (net / 2).quantize(Decimal("0.01"))
        return "inventory", inv.GoodsReceived(**h, movement_id=f"m{seq}", supplier_code="S1", total_cost=m(net),
                                              lines=[inv.MovementLine(item_code="P1", total_cost=m(half), quantity="1"),
                                                     inv.MovementLine(item_code="P2", total_cost=m(net - half),
                                                                      quantity="1")])
    tax = (net * Decimal("0.06")).quantize(Decimal("0.01"))
    return "ap", ap.InvoiceApproved(**h, kind=ap.INVOICE_KIND_EXPENSE, invoice_id=f"p{seq}", supplier_code="S1",
                                    gross_total=m(net + tax), lines=[ap.PayableLine(
                                        net=m(net), tax=m(tax), dimensions=types_pb2.Dimensions(cost_centre="ADMIN"))])


class Feeder:
    """Writes outbox rows at `rate`/s: every `tick` seconds what is due, one transaction per
    service (a service's use cases commit their outbox rows the same way, one transaction per
    document; at these rates a tick's rows share one)."""

    def __init__(self, db_urls: dict[str, str], companies: list[str], rate: float, duration: float, seed: int,
                 tick: float) -> None:
        self.db_urls, self.companies, self.rate, self.duration, self.tick = db_urls, companies, rate, duration, tick
        self.rnd = random.Random(seed)
        self.items: dict[str, Item] = {}
        self.late_ticks = 0

    def make(self, seq: int) -> tuple[str, dict, Item]:
        from fincore.events.envelope import envelope_headers, new_envelope
        from fincore.tables import utcnow

        kind = self.rnd.choices(list(MIX_PIPELINE), weights=list(MIX_PIPELINE.values()))[0]
        company = self.companies[seq % len(self.companies)]
        svc, payload = source_event(kind, company, seq, self.rnd)
        # the trace context a request would have left (trace id, span id), so the GL records one
        tp = {"traceparent": f"00-{self.rnd.getrandbits(128):032x}-{self.rnd.getrandbits(64):016x}-01"}
        env = new_envelope(payload, source=svc, trace_headers=tp)
        row = {"event_id": env.id, "topic": env.topic, "msg_key": env.subject, "ce_type": env.type,
               "headers": json.dumps(envelope_headers(env)), "payload": payload.SerializeToString(),
               "created_at": utcnow()}
        return svc, row, Item(company, env.id)

    async def run(self) -> tuple[float, float]:
        import psycopg

        conns = {svc: await psycopg.AsyncConnection.connect(url.replace("postgresql+psycopg://", "postgresql://"))
                 for svc, url in self.db_urls.items() if svc != "gl"}
        n = int(self.rate * self.duration)
        seq = 0
        t0, wall0 = time.monotonic(), time.time()
        try:
            while seq < n:
                due = min(n, int((time.monotonic() - t0) * self.rate) + 1)
                rows: dict[str, list] = {}
                items = []
                while seq < due:
                    svc, row, item = self.make(seq)
                    rows.setdefault(svc, []).append(row)
                    items.append(item)
                    self.items[item.event_id] = item  # before the commit: the relay may publish it at once
                    seq += 1
                for svc, rs in rows.items():
                    conn = conns[svc]
                    async with conn.cursor() as cur:
                        await cur.executemany(
                            "INSERT INTO outbox (event_id, topic, msg_key, ce_type, headers, payload, created_at) "
                            "VALUES (%(event_id)s, %(topic)s, %(msg_key)s, %(ce_type)s, %(headers)s::json, "
                            "%(payload)s, %(created_at)s)", rs)
                    await conn.commit()
                now = time.time()
                for it in items:
                    it.written = now
                nxt = t0 + (seq / self.rate) if seq < n else None
                if nxt is not None:
                    delay = max(nxt, time.monotonic() + self.tick) - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    else:
                        self.late_ticks += 1
        finally:
            for c in conns.values():
                await c.close()
        return wall0, time.time()


_OBSERVED = ("finance.ar.events.v1", "finance.inventory.events.v1", "finance.ap.events.v1", "finance.gl.events.v1")


def _record(feeder: Feeder, rec, early: dict[str, float]) -> None:
    """A source event's Kafka timestamp (from its ce_id header, no decoding), or a JournalPosted's
    commit time (ce_time, set in the posting transaction) for its source event."""
    from finance.gl.v1 import events_pb2 as gl

    h = dict(rec.headers)
    if rec.topic == "finance.gl.events.v1":
        if not h.get("ce_type", b"").startswith(b"finance.gl.JournalPosted"):
            return
        msg = gl.JournalPosted.FromString(rec.value)
        at = dt.datetime.fromisoformat(h["ce_time"].decode().replace("Z", "+00:00")).timestamp()
        it = feeder.items.get(msg.source_event_id)
        if it is not None:
            it.journal = at
        else:
            early[msg.source_event_id] = at
        return
    it = feeder.items.get(h.get("ce_id", b"").decode())
    if it is not None and it.published is None:
        it.published = rec.timestamp / 1000


async def observe_live(feeder: Feeder, kafka: str, stop: asyncio.Event, ready: asyncio.Event) -> None:
    """`--observe live`: a subscriber reading the four topics while the load runs."""
    from aiokafka import AIOKafkaConsumer

    early: dict[str, float] = {}
    c = AIOKafkaConsumer(*_OBSERVED, bootstrap_servers=kafka, group_id=None, enable_auto_commit=False,
                         auto_offset_reset="latest")
    await c.start()
    try:
        while not c.assignment():
            await c.getmany(timeout_ms=100)
        for tp in c.assignment():  # positioned at the end before the first row is written
            await c.position(tp)
        ready.set()
        while not stop.is_set():
            batch = await c.getmany(timeout_ms=200, max_records=5000)
            for recs in batch.values():
                for rec in recs:
                    _record(feeder, rec, early)
        for eid, at in early.items():
            if eid in feeder.items:
                feeder.items[eid].journal = at
    finally:
        await c.stop()


async def topic_ends(kafka: str) -> dict:
    """`--observe after`, before the load: where each partition of the four topics ends."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    c = AIOKafkaConsumer(bootstrap_servers=kafka, group_id=None, enable_auto_commit=False)
    await c.start()
    try:
        await c.topics()  # metadata of every topic
        tps = [TopicPartition(t, p) for t in _OBSERVED for p in sorted(c.partitions_for_topic(t) or ())]
        if len({tp.topic for tp in tps}) < len(_OBSERVED):
            raise RuntimeError(f"topic_ends: not every topic exists yet: {sorted({tp.topic for tp in tps})}")
        c.assign(tps)
        await c.seek_to_end(*tps)
        return {tp: await c.position(tp) for tp in tps}
    finally:
        await c.stop()


async def read_after(feeder: Feeder, kafka: str, ends: dict) -> None:
    """`--observe after`, once the ledger has caught up: the four topics read from where they
    ended before the load to their fetch high-water marks (the records keep their timestamps
    and headers), so no subscriber adds its fetches to the broker while the load runs."""
    from aiokafka import AIOKafkaConsumer

    early: dict[str, float] = {}
    c = AIOKafkaConsumer(bootstrap_servers=kafka, group_id=None, enable_auto_commit=False)
    await c.start()
    try:
        c.assign(list(ends))
        for tp, offset in ends.items():
            c.seek(tp, offset)
        done: set = set()
        deadline = time.monotonic() + 300
        while len(done) < len(ends) and time.monotonic() < deadline:
            batch = await c.getmany(timeout_ms=500, max_records=20000)
            for recs in batch.values():
                for rec in recs:
                    _record(feeder, rec, early)
            for tp in ends:
                hw = c.highwater(tp)
                if hw is not None and await c.position(tp) >= hw:
                    done.add(tp)
        if len(done) < len(ends):
            raise RuntimeError(f"read_after: {len(ends) - len(done)} partitions not read to their end in 300 s")
        for eid, at in early.items():
            if eid in feeder.items:
                feeder.items[eid].journal = at
    finally:
        await c.stop()


async def poll_statements(gl_url: str, token: str, companies: list[str], reads: dict[str, list], stop: asyncio.Event,
                          every: float = 0.25) -> None:
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as c:
        async def one(company: str) -> None:
            while not stop.is_set():
                r = await c.get(f"{gl_url}/v1/trial-balance", params={"company": company, "as_of": "2026-12-31"})
                if r.status_code == 200:
                    reads[company].append((time.time(), r.json()["journals"]))
                await asyncio.sleep(every)

        await asyncio.gather(*(one(co) for co in companies))


def attribute(items: list[Item], reads: dict[str, list]) -> None:
    """The k-th journal a company committed is in the first trial balance that counted k."""
    by_co: dict[str, list[Item]] = {}
    for it in items:
        if it.journal is not None:
            by_co.setdefault(it.company, []).append(it)
    for co, its in by_co.items():
        its.sort(key=lambda i: i.journal)
        rs = sorted(reads.get(co, []))
        j = 0
        for k, it in enumerate(its, 1):
            while j < len(rs) and (rs[j][1] < k or rs[j][0] < it.journal):
                j += 1
            it.statement = rs[j][0] if j < len(rs) else None


def run_pipeline(infra, rate: float, a: argparse.Namespace, log_dir: Path) -> dict:
    pipe = Pipeline(infra, log_dir, a.tracing, a.gl_consumers)
    token = mint_token(ServiceSettings(), subject="bench-lag", scopes=ALL_SCOPES, companies=["*"])
    try:
        pipe.start()
        companies = [f"LAG-{a.seed}-{i}-{os.urandom(3).hex()}" for i in range(a.companies)]
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30) as c:
            for co in companies:
                r = c.post(f"{pipe.gl_url}/v1/companies", json={"id": co, "name": co, "functional_currency": "CNY"})
                assert r.status_code == 201, r.text
        feeder = Feeder(pipe.urls, companies, rate, a.duration, a.seed, a.tick)
        databases = [u.rsplit("/", 1)[-1] for u in pipe.urls.values()]
        sampler = CpuSampler({p.proc.pid: p.name.split("#")[0] for p in pipe.processes}, databases,
                             infra.bootstrap_servers.rsplit(":", 1)[-1])
        spy = PySpy(a.profile, log_dir, a.profile_at)
        timeline = Timeline(sampler, pipe.urls) if a.timeline else None
        reads: dict[str, list] = {co: [] for co in companies}
        before = os.getloadavg()
        speed_before = statistics.median(cpu_probe() for _ in range(3))

        async def go():
            stop, ready = asyncio.Event(), asyncio.Event()
            observers = [asyncio.create_task(poll_statements(pipe.gl_url, token, companies, reads, stop))]
            if a.observe == "live":
                observers.append(asyncio.create_task(observe_live(feeder, infra.bootstrap_servers, stop, ready)))
                await asyncio.wait_for(ready.wait(), 60)
            else:
                ends = await topic_ends(infra.bootstrap_servers)
            sampler.start()
            if timeline is not None:
                timeline.start()
            spy.start({p.name: p.proc.pid for p in pipe.processes}, a.duration)
            wall0, wall1 = await feeder.run()
            cpu = sampler.stop(events=len(feeder.items))
            deadline = time.monotonic() + max(60.0, a.duration / 2)
            expected = collections.Counter(it.company for it in feeder.items.values())
            while time.monotonic() < deadline:
                if a.observe == "live":
                    if all(it.journal is not None for it in feeder.items.values()):
                        break
                elif all(reads[co] and reads[co][-1][1] >= n for co, n in expected.items()):
                    break  # every company's trial balance counts all its journals
                await asyncio.sleep(0.25)
            await asyncio.sleep(1.0)
            if timeline is not None:
                timeline.stop()
            stop.set()
            await asyncio.gather(*observers)
            if a.observe == "after":
                await read_after(feeder, infra.bootstrap_servers, ends)
            return wall0, wall1, cpu

        import uvloop  # the services' event loop: the measuring process takes less of the 2 cores

        wall0, wall1, cpu = uvloop.run(go())
        spy.wait()
        after = [round(x, 1) for x in os.getloadavg()]
        speed_after = statistics.median(cpu_probe() for _ in range(3))
        items = list(feeder.items.values())
        attribute(items, reads)
        if timeline is not None:
            timeline.write(log_dir, items, wall0)
        n = len(items)
        achieved = round(n / (wall1 - wall0), 1)
        last_stmt = max((it.statement for it in items if it.statement), default=None)
        last_journal = max((it.journal for it in items if it.journal), default=None)
        everything = items
        # The warm-up's events are written, posted and verified like the others; the lag figures
        # are of the events written after it (processes, plans and caches are warm, as in service).
        start = wall0 + a.warmup
        items = [it for it in everything if it.written >= start]
        res = {
            "mode": "pipeline", "rate": rate, "companies": a.companies, "gl_consumers": a.gl_consumers,
            "observe": a.observe,
            "duration_s": a.duration, "seed": a.seed,
            "tick_s": a.tick, "events": n, "achieved_rate": achieved, "late_ticks": feeder.late_ticks,
            "warmup_s": a.warmup, "measured_events": len(items),
            "with_warmup": {
                "event_to_journal": pct([it.journal - it.published for it in everything
                                         if it.published and it.journal]),
                "event_to_statement": pct([it.statement - it.published for it in everything
                                           if it.published and it.statement]),
            },
            "without_journal": sum(1 for it in items if it.journal is None),
            "publication_not_seen": sum(1 for it in items if it.published is None),
            "written_to_published": pct([it.published - it.written for it in items if it.published]),
            "event_to_journal": pct([it.journal - it.published for it in items if it.published and it.journal]),
            "written_to_journal": pct([it.journal - it.written for it in items if it.journal]),
            "event_to_statement": pct([it.statement - it.published for it in items
                                       if it.published and it.statement]),
            "bounded_journal": judge([(it.written, it.journal - it.published) for it in items
                                      if it.journal and it.published], start, wall1, asked=rate, achieved=achieved,
                                     missing=sum(1 for it in everything if it.journal is None),
                                     drain_s=None if last_journal is None else last_journal - wall1,
                                     drain_limit=a.drain_limit),
            "bounded_statement": judge([(it.written, it.statement - it.written) for it in items if it.statement],
                                       start, wall1, asked=rate, achieved=achieved,
                                       missing=sum(1 for it in everything if it.statement is None),
                                       drain_s=None if last_stmt is None else last_stmt - wall1,
                                       drain_limit=a.drain_limit),
            "loadavg_before": [round(x, 1) for x in before], "loadavg_after": after, "cpu": cpu,
            # CPU ms of bench-ledger's fixed workload before and after (77-87 on a quiet machine of
            # this kind on 2026-12-02; a slower host shows here, not in the load average)
            "cpu_probe_ms": [round(speed_before), round(speed_after)],
            "companies_ids": companies,
        }
        res["verify"] = verify_pipeline(pipe.gl_url, token, companies)
        return res
    finally:
        pipe.stop()


def verify_pipeline(gl_url: str, token: str, companies: list[str]) -> dict:
    """finance-verify I1-I4 over the companies (the GL's side: balanced, posted once, balances = lines)."""
    from finverify.read import Api, Endpoints
    from finverify.verify import verify

    api = Api(Endpoints(gl=gl_url), token)
    t = time.monotonic()
    try:
        v = verify(api, companies, only=("I1", "I3", "I4"), settle_s=30, poll_s=0.25)
    finally:
        api.close()
    return {"breaches": len(v.breaches), "seconds": round(time.monotonic() - t, 1),
            "report": v.report().splitlines()[:20]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mode", choices=("api", "pipeline"), default="api")
    p.add_argument("--rates", default="25", help="api: business transactions/s; pipeline: business events/s")
    p.add_argument("--companies", type=int, default=1, help="the rate spread over this many companies")
    p.add_argument("--duration", type=float, default=300)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--gl-consumers", type=int, default=1,
                   help="pipeline: GL posting consumer processes (members of one group over the topics' partitions)")
    p.add_argument("--tick", type=float, default=0.02, help="pipeline: seconds between outbox commits per service")
    p.add_argument("--warmup", type=float, default=0.0,
                   help="pipeline: seconds at the rate, at the start of --duration, whose events are posted and "
                        "verified but left out of the lag figures (reported apart, as with_warmup)")
    p.add_argument("--drain-limit", type=float, default=5.0,
                   help="bounded: seconds after the load within which the last item completes")
    p.add_argument("--profile", type=lambda s: [x for x in s.split(",") if x], default=[],
                   help="process names to record with py-spy (e.g. gl-consume,ar-api)")
    p.add_argument("--profile-at", type=lambda s: [tuple(float(v) for v in w.split(":")) for w in s.split(",") if w],
                   default=[], help="with --profile: py-spy windows START:SECONDS,... from the load's start "
                                    "(collapsed stacks per window) instead of the whole window")
    p.add_argument("--timeline", action="store_true",
                   help="pipeline: per-second timeline of lag, CPU per process, WAL, checkpoints, autovacuum and "
                        "table scans (timeline.txt in the log directory)")
    p.add_argument("--observe", choices=("after", "live"), default="after",
                   help="pipeline: read the topics' timestamps after the load (after: no subscriber fetches "
                        "from the broker during it) or with a live subscriber")
    p.add_argument("--tracing", action="store_true", help="export spans as the e2e suite does (otlp + files)")
    p.add_argument("--private-postgres", action="store_true",
                   help="a PostgreSQL server of the run's own (fincore.testing.pg; the shared one allows 100 "
                        "connections, which the suite's ~25 processes and a neighbour's tests exhaust)")
    p.add_argument("--out", type=Path, default=None)
    a = p.parse_args()
    log_dir = ROOT / ".run" / "bench" / time.strftime(f"lag-{a.mode}-%Y%m%d-%H%M%S")
    out = a.out or log_dir / "lag.json"
    results = []
    with contextlib.ExitStack() as stack:
        if a.private_postgres:
            from fincore.testing.pg import private_postgres

            pg = stack.enter_context(private_postgres(log_dir / "postgres"))
            os.environ["TEST_POSTGRES_URL"] = pg.url
            if a.timeline:  # checkpoints and autovacuum runs in the server's log, with their times
                import psycopg

                with psycopg.connect(pg.url.replace("postgresql+psycopg://", "postgresql://"),
                                     autocommit=True) as conn:
                    conn.execute("ALTER SYSTEM SET log_checkpoints = on")
                    conn.execute("ALTER SYSTEM SET log_autovacuum_min_duration = 0")
                    conn.execute("SELECT pg_reload_conf()")
        infra = stack.enter_context(start_infra(log_dir))
        for rate in (float(x) for x in a.rates.split(",")):
            if a.mode == "pipeline":
                s = run_pipeline(infra, rate, a, log_dir)
            else:
                with OtlpReceiver() as otlp:
                    suite = Suite(infra, otlp, log_dir)
                    if not a.tracing:
                        for proc in suite.processes:
                            proc.env["OTEL_TRACES_EXPORTER"] = "none"
                    try:
                        suite.start()
                        databases = [suite.env[k].rsplit("/", 1)[-1] for k in suite.env if k.endswith("_DATABASE_URL")]
                        s = run_api(suite, rate, a, log_dir, databases)
                    finally:
                        suite.stop()
            s["commit"] = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                         capture_output=True, text=True).stdout.strip()
            s["command"] = " ".join(sys.argv)
            s["environment"] = {k: v for k, v in os.environ.items()
                                if k.startswith(("KAFKA_", "CONSUMER_", "GL_CONSUMER", "GL_OUTBOX", "OUTBOX_"))}
            print(json.dumps(s, indent=2), flush=True)
            results.append(s)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(results, indent=2))
    print(f"results: {out}")


if __name__ == "__main__":
    main()
