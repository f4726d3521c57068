"""The cockpit in a real browser (Playwright driving Debian's chromium, no browser download):
sign in, the overview's figures equal the GL's, a revenue figure drills down to its journal,
source event, business document and trace; Chinese; a live update while the page is open;
axe-core finds no critical violation; no page loads anything from outside the host.

One browser for the module; screenshots of every page go to .run/e2e/<run>/cockpit/."""

from __future__ import annotations

import datetime as dt
import shutil
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from babel.numbers import format_decimal
from fincore.testing import ServiceProcess, free_port

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "services" / "cockpit" / "web" / "node_modules" / "axe-core" / "axe.min.js"
PERIOD = "2026-11"
PAGES = ["/overview", "/statements/balance-sheet", "/statements/income-statement", "/statements/cash-flow",
         "/profit", "/receivables", "/payables", "/budget", "/cash", "/cash/forecast", "/operations"]


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "Debian's chromium is not installed (make test-tools installs it: apt-get install chromium)"
    return path


@pytest.fixture(scope="module")
def cockpit(suite, log_dir):
    port = free_port()
    env = {**suite.env, "COCKPIT_HTTP_PORT": str(port), "COCKPIT_DEV_SIGNIN": "true",
           "COCKPIT_GL_URL": suite.gl_url, "COCKPIT_AR_URL": suite.ar_url, "COCKPIT_AP_URL": suite.ap_url,
           "COCKPIT_INVENTORY_URL": suite.inv_url, "COCKPIT_BUDGET_URL": suite.budget_url,
           "COCKPIT_CONSOLIDATION_URL": suite.consol_url, "COCKPIT_CASHMGMT_URL": suite.cash_url,
           "COCKPIT_METRICS_URLS": f"gl-consume={suite.gl_consumer.metrics_url}"}
    proc = ServiceProcess("cockpit-api", "cockpit", "api", env, log_dir, ready_log="cockpit live feed reading")
    proc.start()
    yield f"http://127.0.0.1:{port}"
    proc.stop()


@pytest.fixture(scope="module")
def books(suite):
    """A company with a few invoices in PERIOD (products and regions as dimensions), posted."""
    company = suite.new_company("UI")
    for i in range(4):
        body = suite.invoice_body(company, i)
        body["dimensions"] = {"region": ("EAST", "NORTH")[i % 2]}
        r = suite.http.post(f"{suite.ar_url}/v1/invoices", json=body, headers={"Idempotency-Key": f"{company}-{i}"})
        assert r.status_code == 201, r.text
    suite.wait_journals(company, 4)
    return company


@pytest.fixture(scope="module")
def browser(log_dir):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path(), headless=True,
                               args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield b
        b.close()


@pytest.fixture(scope="module")
def shots(log_dir) -> Path:
    d = log_dir / "cockpit"
    d.mkdir(parents=True, exist_ok=True)
    return d


def sign_in(page, base: str, next_path: str) -> None:
    page.goto(f"{base}{next_path}")
    assert "/login" in page.url
    page.click("#dev-signin")
    page.wait_for_url(lambda url: "/login" not in url)


def gl(suite, path: str, **params) -> dict:
    r = suite.http.get(f"{suite.gl_url}{path}", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def tile_amount(page, key: str) -> Decimal:
    return Decimal(page.get_attribute(f'[data-figure="{key}"] .value [data-amount]', "data-amount"))


def wait_until(what: str, check, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s")
        time.sleep(0.25)


@pytest.fixture
def keep_on_failure(shots):
    """The page as it was when a test failed: screenshot and HTML beside the other artifacts."""
    pages = []
    yield pages.append
    for i, page in enumerate(pages):
        if not page.is_closed():
            try:
                page.screenshot(path=str(shots / f"last-{i}.png"), full_page=True)
                (shots / f"last-{i}.html").write_text(page.content())
            except Exception:  # noqa: BLE001 - best effort, the assertion says what failed
                pass


def test_sign_in_overview_drill_down_chinese_and_live(suite, cockpit, books, browser, shots, keep_on_failure):
    company = books
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    page = context.new_page()
    keep_on_failure(page)
    outside: list[str] = []
    page.on("request", lambda req: outside.append(req.url) if req.url.startswith("http")
            and urlsplit(req.url).netloc != urlsplit(cockpit).netloc else None)
    query = f"?company={company}&period={PERIOD}"
    sign_in(page, cockpit, f"/overview{query}")

    # The overview's figures are the GL's.
    start, end = dt.date(2026, 11, 1), dt.date(2026, 11, 30)
    income = gl(suite, "/v1/statements/income-statement", company=company, **{"from": start.isoformat()},
                to=end.isoformat())
    tb = gl(suite, "/v1/trial-balance", company=company, as_of=end.isoformat())
    receivables = sum((Decimal(ln["debit_balance"]) - Decimal(ln["credit_balance"]) for ln in tb["lines"]
                       if ln["account"] == "1122"), Decimal(0))
    assert tile_amount(page, "revenue") == Decimal(income["revenue"]["total"]) > 0
    assert tile_amount(page, "net_income") == Decimal(income["net_income"])
    assert tile_amount(page, "open_receivables") == receivables > 0
    shown = page.inner_text('[data-figure="revenue"] .value')
    assert shown == format_decimal(Decimal(income["revenue"]["total"]), format="#,##0.00", locale="en_US")
    page.screenshot(path=str(shots / "overview.png"), full_page=True)

    # Keyboard: the first Tab reaches the skip link, which leads to the content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"

    # Revenue -> its ledger lines (they add up to it) -> journal -> source event -> document -> trace.
    page.click("#fig-revenue")
    page.wait_for_selector("#ledger-lines")
    credit = Decimal(page.get_attribute("#ledger-lines tfoot td:nth-of-type(2) [data-amount]", "data-amount"))
    debit = Decimal(page.get_attribute("#ledger-lines tfoot td:nth-of-type(1) [data-amount]", "data-amount"))
    assert credit - debit == Decimal(income["revenue"]["total"])
    page.screenshot(path=str(shots / "ledger.png"), full_page=True)
    page.click("#ledger-lines .journal-link >> nth=0")
    page.wait_for_selector("#source-event")
    journal_id = urlsplit(page.url).path.rsplit("/", 1)[1]
    journal = gl(suite, f"/v1/journals/{journal_id}")
    page.screenshot(path=str(shots / "journal.png"), full_page=True)
    page.click("#source-event")
    page.wait_for_selector("#event-type")
    assert page.inner_text("#event-type") == "finance.ar.InvoiceIssued.v1"
    assert page.inner_text("#event-document") == journal["source"]["document"]
    assert journal["source"]["document"] in page.inner_text("#document")  # the invoice, from AR
    trace_id = journal["source"]["trace_id"]
    assert page.inner_text("#event-trace") == trace_id
    page.screenshot(path=str(shots / "event.png"), full_page=True)
    page.click("#event-trace")
    page.wait_for_selector("#trace-id")
    assert page.inner_text("#trace-id") == trace_id

    def spans_shown():  # span files are written in batches: reload until the journal's spans are there
        page.reload()
        return page.locator("table.spans tbody tr").count() >= 2
    wait_until("the trace's spans in the trace view", spans_shown)
    assert "gl" in page.inner_text("table.spans")
    page.screenshot(path=str(shots / "trace.png"), full_page=True)

    # Every other page opens, with a screenshot.
    for path in PAGES[1:]:
        page.goto(f"{cockpit}{path}{query}")
        assert page.locator(".problem").count() == 0, (path, page.inner_text("main"))
        page.screenshot(path=str(shots / f"{path.strip('/').replace('/', '-')}.png"), full_page=True)

    # Chinese: the user's choice, kept across pages; amounts formatted for zh.
    page.goto(f"{cockpit}/overview{query}")
    page.click('a[hreflang="zh-Hans"]')
    page.wait_for_selector('html[lang="zh-Hans"]')
    assert "概览" in page.inner_text("h1")
    assert "营业收入" in page.inner_text('[data-figure="revenue"]')
    page.goto(f"{cockpit}/statements/income-statement{query}")
    assert "主营业务收入" in page.inner_text("main")  # the CAS account's Chinese name
    page.screenshot(path=str(shots / "income-statement-zh.png"), full_page=True)

    # Live: an invoice posted through AR while the overview is open shows up without a reload.
    page.goto(f"{cockpit}/overview{query}")
    before = tile_amount(page, "revenue")
    as_of = page.get_attribute("#as-of", "datetime")
    page.evaluate("window.__notReloaded = true")
    invoice = suite.post_invoice(company, 10)
    expected = before + Decimal(invoice["net_total"])
    wait_until("the live update of revenue", lambda: tile_amount(page, "revenue") == expected)
    assert page.evaluate("window.__notReloaded") is True
    assert page.get_attribute("#as-of", "datetime") != as_of
    assert tile_amount(page, "revenue") == Decimal(gl(
        suite, "/v1/statements/income-statement", company=company, **{"from": start.isoformat()},
        to=end.isoformat())["revenue"]["total"])

    # Phone width: the overview still reads.
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(300)  # the chart redraws at the new width
    page.screenshot(path=str(shots / "overview-phone.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1

    # The API docs of a service load from that service alone (no CDN).
    docs = context.new_page()
    docs_outside: set[str] = set()
    gl_host = urlsplit(suite.gl_url).netloc
    docs.on("request", lambda req: docs_outside.add(req.url)
            if req.url.startswith("http") and urlsplit(req.url).netloc != gl_host else None)
    # ReDoc asks for Redocly's logo from their CDN; the page's Content-Security-Policy blocks it
    # in the browser (no network request): only that is acceptable.
    docs.on("requestfailed", lambda req: docs_outside.discard(req.url) if req.failure == "csp" else None)
    title = suite.http.get(f"{suite.gl_url}/openapi.json").json()["info"]["title"]
    for path in ("/docs", "/redoc"):  # rendered: the API's title is on the page
        docs.goto(f"{suite.gl_url}{path}")
        docs.wait_for_function("t => document.body.innerText.includes(t)", arg=title, timeout=60000)
    deadline = time.monotonic() + 10  # the browser reports the blocked request a moment later
    while docs_outside and time.monotonic() < deadline:
        docs.wait_for_timeout(200)
    assert docs_outside == set(), docs_outside
    assert outside == [], f"requests outside the host: {outside}"
    context.close()


def test_vendored_browser_files_are_the_locked_npm_packages_files():
    """htmx and Chart.js are served from cockpit/static/vendor: byte for byte the files of the
    versions pinned in services/cockpit/web (installed here by `npm ci`, make test-tools)."""
    import json

    web = ROOT / "services" / "cockpit" / "web"
    pinned = json.loads((web / "package.json").read_text())["dependencies"]
    for served, (package, path) in {"htmx-{v}.min.js": ("htmx.org", "dist/htmx.min.js"),
                                    "chart-{v}.umd.min.js": ("chart.js", "dist/chart.umd.min.js")}.items():
        installed = web / "node_modules" / package / path
        assert installed.exists(), f"{installed} missing: make test-tools runs npm ci in {web}"
        vendored = ROOT / "services" / "cockpit" / "cockpit" / "static" / "vendor" / served.format(v=pinned[package])
        assert vendored.read_bytes() == installed.read_bytes(), f"{vendored.name} differs from {package}"


def test_accessibility_no_critical_violations(suite, cockpit, books, browser, keep_on_failure):
    assert AXE.exists(), f"axe-core is not installed ({AXE}): make test-tools runs npm ci in services/cockpit/web"
    # bypass_csp: axe is injected by the test, not served by the page.
    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    page = context.new_page()
    keep_on_failure(page)
    sign_in(page, cockpit, f"/overview?company={books}&period={PERIOD}")
    found = {}
    for path in PAGES:
        page.goto(f"{cockpit}{path}?company={books}&period={PERIOD}")
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        critical = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3])
                    for v in result["violations"] if v["impact"] == "critical"]
        if critical:
            found[path] = critical
    assert found == {}, found
    context.close()


def test_the_13_week_forecast_page_makes_a_forecast_and_drills_to_its_documents(suite, cockpit, books, browser,
                                                                                 shots, keep_on_failure):
    """From the cash page to the forecast; a forecast made with the page's form shows what cash
    management answers, a bucket opens to its documents; in Chinese too; axe finds nothing critical."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    page = context.new_page()
    keep_on_failure(page)
    sign_in(page, cockpit, f"/cash?company={books}&period={PERIOD}")
    page.click("#forecast-link")
    page.fill('#make-forecast input[name="as_of"]', "2026-11-16")
    page.click('#make-forecast button[type="submit"]')
    page.wait_for_url(lambda url: "id=" in url)
    r = suite.http.get(f"{suite.cash_url}/v1/cash-forecasts", params={"company": books})
    assert r.status_code == 200, r.text
    fc = suite.http.get(f"{suite.cash_url}/v1/cash-forecasts/{r.json()[0]['id']}", params={"company": books}).json()
    (cny,) = fc["currencies"]
    # the invoices (issued 11-01..11-04, 30 days) are due 12-01..12-04: week 3 (11-30..12-06)
    assert cny["weeks"][2]["inflows"]["receivables"] != "0.00"
    rows = page.locator("#forecast-CNY tbody tr")
    assert rows.count() == 13
    shown = [page.get_attribute(f"#forecast-CNY tbody tr:nth-child({i + 1}) td:nth-child(7) [data-amount]",
                                "data-amount") for i in range(13)]
    assert shown == [w["net"] for w in cny["weeks"]]
    page.screenshot(path=str(shots / "cash-forecast.png"), full_page=True)

    def no_critical() -> list:
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        return [(v["id"], v["help"]) for v in result["violations"] if v["impact"] == "critical"]

    assert no_critical() == []
    page.click('#forecast-CNY tbody tr:nth-child(3) th a')
    page.wait_for_url(lambda url: "/cash/forecast/documents" in url)
    docs = suite.http.get(f"{suite.cash_url}/v1/cash-forecasts/{fc['id']}/documents",
                          params={"company": books, "currency": "CNY", "week": 3}).json()["documents"]
    assert page.locator("#forecast-documents tbody th").all_inner_texts() == [d["number"] for d in docs]
    assert no_critical() == []
    page.screenshot(path=str(shots / "cash-forecast-documents.png"), full_page=True)
    page.click('a[hreflang="zh-Hans"]')
    page.wait_for_load_state()
    assert "13周现金流预测" in page.inner_text("h1")
    context.close()


def test_the_cash_page_shows_the_live_position_the_api_serves_and_when_it_recovers(
        suite, cockpit, books, browser, shots, keep_on_failure):
    """The cash page's figures are cash management's live position (GET /v1/cash-position) per
    bank account and currency; while the position worker is down or recovering the page says so
    (a state, not an error) and shows the figures again by itself once it is back; in Chinese."""
    from cashmgmt.adapters import bankfiles
    from cashmgmt.domain.statements import ParsedLine, ParsedStatement

    company, h, cash = books, suite.http, suite.cash_url
    r = h.post(f"{cash}/v1/bank-accounts", json={
        "company_id": company, "code": "CNY-UI", "name": "ICBC current account", "currency": "CNY",
        "account_number": "6222 0200 9999 0002", "gl_account": "100201", "opened_on": "2026-11-01"})
    assert r.status_code == 201, r.text
    # The bank to 11-15: 25.00 of interest booked on 11-10 (the ledger posts it by its rules),
    # and 40.00 from no one known (left unmatched) received on 11-14 but valued on 12-02, after
    # the period: the bank holds 65.00, 25.00 of it value-dated at 11-30.
    lines = (ParsedLine(dt.date(2026, 11, 10), dt.date(2026, 11, 10), Decimal("25.00"), "", "", "", "Interest",
                        "UI-1", "INTR"),
             ParsedLine(dt.date(2026, 11, 14), dt.date(2026, 12, 2), Decimal("40.00"), "", "", "", "Unknown",
                        "UI-2", "RCDT"))
    r = h.post(f"{cash}/v1/statements", params={"company": company}, content=bankfiles.write_camt053(ParsedStatement(
        "any", f"UI-{company}", "CNY", Decimal(0), Decimal("65.00"), dt.date(2026, 11, 1), dt.date(2026, 11, 15),
        lines, account_number="6222020099990002")))
    assert r.status_code == 201, r.text

    def api() -> dict | None:
        got = h.get(f"{cash}/v1/cash-position", params={"company": company, "as_of": "2026-11-30"})
        if got.status_code != 200:
            return None
        p = got.json()
        (acct,) = [a for a in p["bank_accounts"] if a["bank_account"] == "CNY-UI"] or [None]
        return p if acct and acct["bank_balance"] == "65.00" and acct["booked"] == "25.00" else None

    position = wait_until("the interest in the live position", api, timeout=120)
    (acct,) = position["bank_accounts"]
    assert (acct["bank_value_dated"], acct["difference_at_statement_date"]) == ("25.00", "-40.00")

    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    page = context.new_page()
    keep_on_failure(page)
    sign_in(page, cockpit, f"/cash?company={company}&period={PERIOD}")

    def cell(row: str, col: str) -> str:
        return page.get_attribute(f'{row} [data-col="{col}"] [data-amount]', "data-amount")

    def shows_the_api() -> None:
        for a in position["bank_accounts"]:
            row = f'#cash-position tr[data-account="{a["bank_account"]}"]'
            assert [cell(row, c) for c in ("booked", "bank_balance", "bank_value_dated", "difference")] == [
                a["booked"], a["bank_balance"] or "", a["bank_value_dated"] or "",
                a["difference_at_statement_date"] or ""], a["bank_account"]
            assert page.get_attribute(row, "data-currency") == a["currency"]
        for o in position["other_cash_accounts"]:
            assert cell(f'#cash-position tr[data-other-account="{o["gl_account"]}"]', "booked") == o["booked"]
        for tot in position["totals"]:
            row = f'#cash-position tr[data-total="{tot["currency"]}"]'
            assert (cell(row, "booked"), cell(row, "bank_value_dated")) == (tot["booked"], tot["bank_value_dated"])
        assert page.locator("#cash-position tbody tr[data-account]").count() == len(position["bank_accounts"])

    shows_the_api()
    assert page.inner_text('#cash-position tr[data-account="CNY-UI"] [data-col="booked"]') == "25.00"
    page.screenshot(path=str(shots / "cash.png"), full_page=True)

    page.click('a[hreflang="zh-Hans"]')
    page.wait_for_selector('html[lang="zh-Hans"]')
    assert "实时资金头寸" in page.inner_text("#live-position-h")
    assert "账面余额（总账）" in page.inner_text("#cash-position thead")
    shows_the_api()
    page.screenshot(path=str(shots / "cash-zh.png"), full_page=True)

    # The worker down, then recovering: the page says so, and the figures come back by themselves.
    suite.cash_position.stop()
    try:
        page.reload()
        page.wait_for_selector("#position-recovering")
        assert "实时资金头寸正在重建" in page.inner_text("#position-recovering")
        assert page.locator("#cash-position").count() == 0 and page.locator(".problem").count() == 0
        page.screenshot(path=str(shots / "cash-recovering-zh.png"), full_page=True)
        page.evaluate("window.__notReloaded = true")
        suite.cash_position.start(wait=False)
        page.wait_for_selector("#cash-position", timeout=120_000)  # the section asks again every 5 s
        assert page.evaluate("window.__notReloaded") is True
    finally:
        suite.cash_position.ensure_running()
    position = wait_until("the position back", api)
    shows_the_api()
    context.close()
