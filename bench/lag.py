"""Real-time lag under sustained load (issue 15, point 4): event-to-journal and
API-to-statement p50/p95/p99 at fixed rates, and whether the lag stays bounded.

    .venv/bin/python bench/lag.py --rates 200,500,1000 --duration 300 --seed 1

Starts the whole suite as the e2e tests do (every API, relay and consumer as a process, the
local broker, PostgreSQL databases of its own), then for each rate runs finance-load
(finverify.load: a seeded mix of order to cash, procure to pay with budget checks, manual
journals and FX through the public APIs) in a company of its own, waits for the ledger to
drain, and runs finance-verify over that company (breaches must be 0). Prints one JSON
summary per rate and writes them to --out. The machine's load average is recorded beside
each run: on a shared machine the figures say as much about the neighbours as about us.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from conftest import Suite  # noqa: E402  (the e2e harness: one definition of how the suite starts)
from fincore.auth import ALL_SCOPES, mint_token  # noqa: E402
from fincore.settings import ServiceSettings  # noqa: E402
from fincore.testing import OtlpReceiver, start_infra  # noqa: E402
from finverify.load import Load, Urls  # noqa: E402


def run_rate(suite: Suite, rate: float, duration: float, seed: int) -> dict:
    approver = mint_token(ServiceSettings(), subject="bench-approver", scopes=ALL_SCOPES, companies=["*"])
    load = Load(Urls(suite.gl_url, suite.ar_url, suite.ap_url, suite.inv_url, suite.budget_url), suite.token,
                approver, suite.infra.bootstrap_servers, rate=rate, duration=duration, seed=seed)
    before = os.getloadavg()
    summary = asyncio.run(load.run(drain_s=max(120.0, duration)))
    summary["loadavg_before"] = [round(x, 1) for x in before]
    summary["loadavg_after"] = [round(x, 1) for x in os.getloadavg()]
    t = time.monotonic()
    res = suite.verify([load.company], only=("I1", "I2", "I3", "I4", "I6", "I7"))
    summary["verify"] = {"breaches": len(res.breaches), "seconds": round(time.monotonic() - t, 1),
                         "report": res.report().splitlines()[:20]}
    return summary


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rates", default="200,500,1000")
    p.add_argument("--duration", type=float, default=300)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", type=Path, default=ROOT / ".run" / "bench" / "lag.json")
    a = p.parse_args()
    log_dir = ROOT / ".run" / "bench" / time.strftime("lag-%Y%m%d-%H%M%S")
    results = []
    with start_infra(log_dir) as infra, OtlpReceiver() as otlp:
        suite = Suite(infra, otlp, log_dir)
        try:
            suite.start()
            for rate in (float(x) for x in a.rates.split(",")):
                s = run_rate(suite, rate, a.duration, a.seed)
                print(json.dumps(s, indent=2), flush=True)
                results.append(s)
        finally:
            suite.stop()
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
