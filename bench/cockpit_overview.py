"""The cockpit's overview on a 1M-line ledger: server time and time to first render in a browser.

    .venv/bin/python bench/cockpit_overview.py                 # 333,334 journals = 1,000,002 lines
    .venv/bin/python bench/cockpit_overview.py --preload-journals 30000 --runs 5

1. A GL database on PostgreSQL with `--preload-journals` 3-line journals over two years
   (bench/ledger.py's preload: lines, period balances, VACUUM ANALYZE), a GL API, a budget
   API (its own database, no budget for the company) and a cockpit API as processes (the
   cockpit with the development sign-in). `--no-budget`: the budget service is not started,
   as on a page whose budget service does not answer (the cockpit retries a read once after
   0.2 s, so that page takes 0.2 s longer).
2. Server time: GET /overview for the ledger's last month, signed in, `--runs` times after one
   warm-up call (median, min, max). Target: < 300 ms.
3. Time to first render: Debian's chromium (Playwright) opens the overview `--runs` times;
   first contentful paint and DOMContentLoaded from the browser's own timing. Target: < 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib.util
import re
import shutil
import statistics
import time
from pathlib import Path

import httpx
from budget.bootstrap import MIGRATIONS as BUDGET_MIGRATIONS
from fincore.db import Database, migrate
from fincore.testing import ServiceProcess, free_port, start_infra
from gl.bootstrap import MIGRATIONS
from gl.service.posting import create_company

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("bench_ledger", ROOT / "bench" / "ledger.py")
ledger = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ledger)
COMPANY = ledger.COMPANY
PERIOD = "2026-11"  # the preload spreads journals over 700 days from 2025-01-01


def summary(name: str, values: list[float], target: float) -> str:
    med = statistics.median(values)
    return (f"{name}: median {med * 1000:.0f} ms (min {min(values) * 1000:.0f}, max {max(values) * 1000:.0f}, "
            f"n={len(values)}), target < {target * 1000:.0f} ms: {'met' if med < target else 'NOT met'}")


def main() -> None:
    ap_ = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap_.add_argument("--preload-journals", type=int, default=333_334)
    ap_.add_argument("--runs", type=int, default=7)
    ap_.add_argument("--no-budget", action="store_true", help="leave the budget service out (its tile too)")
    args = ap_.parse_args()
    log_dir = ROOT / ".run" / "bench" / ("cockpit-" + dt.datetime.now().strftime("%Y%m%d-%H%M%S"))
    with start_infra(log_dir) as infra:
        url = infra.database_url("bench_cockpit_gl")
        migrate(MIGRATIONS, url)

        async def setup():
            db = Database(url)
            async with db.transaction() as s:
                await create_company(s, company_id=COMPANY, name="Bench", functional_currency="CNY",
                                     chart_template="cas")
            await db.dispose()

        asyncio.run(setup())
        secs = ledger.preload(url, args.preload_journals)
        print(f"preloaded {args.preload_journals:,} journals ({3 * args.preload_journals:,} lines) in {secs:.0f}s")
        gl_port, cockpit_port, budget_port = free_port(), free_port(), free_port()
        budget_url = infra.database_url("bench_cockpit_budget")
        migrate(BUDGET_MIGRATIONS, budget_url)
        env = {**infra.env(), "GL_DATABASE_URL": url, "GL_HTTP_PORT": str(gl_port), "OTEL_TRACES_EXPORTER": "none",
               "BUDGET_DATABASE_URL": budget_url, "BUDGET_HTTP_PORT": str(budget_port),
               "COCKPIT_HTTP_PORT": str(cockpit_port), "COCKPIT_DEV_SIGNIN": "true",
               "COCKPIT_GL_URL": f"http://127.0.0.1:{gl_port}", "COCKPIT_BUDGET_URL": f"http://127.0.0.1:{budget_port}",
               "LOG_LEVEL": "WARNING"}
        gl = ServiceProcess("gl-api", "gl", "api", env, log_dir, ready_url=f"http://127.0.0.1:{gl_port}/healthz")
        cockpit = ServiceProcess("cockpit-api", "cockpit", "api", env, log_dir,
                                 ready_url=f"http://127.0.0.1:{cockpit_port}/healthz")
        budget = None if args.no_budget else ServiceProcess(
            "budget-api", "budget", "api", env, log_dir, ready_url=f"http://127.0.0.1:{budget_port}/healthz")
        base = f"http://127.0.0.1:{cockpit_port}"
        page_url = f"{base}/overview?company={COMPANY}&period={PERIOD}"
        try:
            gl.start()
            if budget is not None:
                budget.start()
            cockpit.start()
            with httpx.Client(base_url=base, follow_redirects=True, timeout=60) as c:
                form = c.get("/login").text
                csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
                c.post("/login/dev", data={"csrf": csrf, "next": "/"})
                c.get(page_url)  # warm-up: chart of accounts, connections
                server = []
                for _ in range(args.runs):
                    t = time.perf_counter()
                    r = c.get(page_url)
                    server.append(time.perf_counter() - t)
                    assert r.status_code == 200 and 'data-figure="revenue"' in r.text, r.text[:500]
            print(summary("overview, server time (GET, signed in)", server, 0.300))

            from playwright.sync_api import sync_playwright

            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=shutil.which("chromium"), headless=True,
                                             args=["--no-sandbox", "--disable-dev-shm-usage"])
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.goto(f"{base}/login")
                page.click("#dev-signin")
                page.goto(page_url)
                fcp, dcl = [], []
                for _ in range(args.runs):
                    page.goto(page_url, wait_until="load")
                    # The paint entry may come after `load` in headless chromium: wait for it.
                    timing = page.evaluate("""() => new Promise(resolve => {
                        const dcl = performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd;
                        const seen = performance.getEntriesByName('first-contentful-paint')[0];
                        if (seen) return resolve({fcp: seen.startTime, dcl});
                        new PerformanceObserver(list => {
                            const e = list.getEntriesByName('first-contentful-paint')[0];
                            if (e) resolve({fcp: e.startTime, dcl});
                        }).observe({type: 'paint', buffered: true});
                        setTimeout(() => resolve({fcp: null, dcl}), 10000);
                    })""")
                    if timing["fcp"] is None:
                        raise SystemExit("chromium reported no first-contentful-paint within 10 s")
                    fcp.append(timing["fcp"] / 1000)
                    dcl.append(timing["dcl"] / 1000)
                browser.close()
            print(summary("overview, first contentful paint (chromium)", fcp, 1.0))
            print(summary("overview, DOMContentLoaded (chromium)", dcl, 1.0))
        finally:
            cockpit.stop()
            if budget is not None:
                budget.stop()
            gl.stop()


if __name__ == "__main__":
    main()
