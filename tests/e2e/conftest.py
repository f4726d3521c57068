"""The whole suite as processes (APIs, relays, consumers) on the real broker and PostgreSQL.

Started once per test session; every test works in companies of its own, so tests do not
see each other's books. Service logs are in .run/e2e/<run id>/ (printed on failure)."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from fincore.auth import ALL_SCOPES, mint_token
from fincore.settings import ServiceSettings
from fincore.testing import Infra, OtlpReceiver, ServiceProcess, free_port

pytestmark = pytest.mark.e2e


class Suite:
    def __init__(self, infra: Infra, otlp: OtlpReceiver, log_dir: Path) -> None:
        self.infra = infra
        self.log_dir = log_dir
        self.gl_port, self.ar_port, self.inv_port, self.ar_grpc_port = (free_port() for _ in range(4))
        self.ap_port, self.budget_port, self.budget_grpc_port = (free_port() for _ in range(3))
        self.consol_port = free_port()
        self.cash_port = free_port()
        self.cash_position_port = free_port()
        env = {
            **infra.env(), **otlp.env(),
            "OTEL_TRACES_EXPORTER": "otlp,file",  # spans to the test's receiver and to files finance-trace reads
            "GL_DATABASE_URL": infra.database_url("gl"), "AR_DATABASE_URL": infra.database_url("ar"),
            "GL_HTTP_PORT": str(self.gl_port), "AR_HTTP_PORT": str(self.ar_port),
            "INVENTORY_DATABASE_URL": infra.database_url("inventory"), "INVENTORY_HTTP_PORT": str(self.inv_port),
            "AR_OUTBOX_BATCH_SIZE": "50", "AR_GRPC_PORT": str(self.ar_grpc_port), "GL_CONSUMER_RETRY_BACKOFF_S": "0.05",
            "FINANCE_DATA_DIR": str(log_dir / "data"), "LOG_LEVEL": "INFO",
            "AP_DATABASE_URL": infra.database_url("ap"), "AP_HTTP_PORT": str(self.ap_port),
            "AP_BUDGET_GRPC_TARGET": f"127.0.0.1:{self.budget_grpc_port}",
            "BUDGET_DATABASE_URL": infra.database_url("budget"), "BUDGET_HTTP_PORT": str(self.budget_port),
            "BUDGET_GRPC_PORT": str(self.budget_grpc_port),
            "CONSOLIDATION_DATABASE_URL": infra.database_url("consolidation"),
            "CONSOLIDATION_HTTP_PORT": str(self.consol_port), "CONSOLIDATION_GL_URL": f"http://127.0.0.1:{self.gl_port}",
            "CASHMGMT_DATABASE_URL": infra.database_url("cashmgmt"), "CASHMGMT_HTTP_PORT": str(self.cash_port),
            "CASHMGMT_AR_URL": f"http://127.0.0.1:{self.ar_port}", "CASHMGMT_AP_URL": f"http://127.0.0.1:{self.ap_port}",
            "CASHMGMT_BUDGET_URL": f"http://127.0.0.1:{self.budget_port}",
            "CASHMGMT_POSITION_PORT": str(self.cash_position_port),
        }
        self.env = env

        def mk(name: str, module: str, cmd: str, **kw) -> ServiceProcess:
            # Relays, consumers and gRPC servers serve /metrics and /healthz on a port of their own.
            metrics_port = free_port() if cmd in ("relay", "consume", "grpc") else None
            penv = {**env, f"{module.upper()}_METRICS_PORT": str(metrics_port)} if metrics_port else env
            proc = ServiceProcess(name, module, cmd, penv, log_dir, **kw)
            proc.metrics_url = f"http://127.0.0.1:{metrics_port}" if metrics_port else None
            return proc

        self.gl_migrate = mk("gl-migrate", "gl", "migrate")
        self.ar_migrate = mk("ar-migrate", "ar", "migrate")
        self.inv_migrate = mk("inventory-migrate", "inventory", "migrate")
        self.inv_api = mk("inventory-api", "inventory", "api", ready_url=f"{self.inv_url}/readyz")
        self.inv_relay = mk("inventory-relay", "inventory", "relay", ready_log="outbox relay publishing")
        self.inv_consumer = mk("inventory-consume", "inventory", "consume",
                               ready_log="consumer inventory-price-differences reading")
        self.gl_api = mk("gl-api", "gl", "api", ready_url=f"{self.gl_url}/readyz")
        self.ar_api = mk("ar-api", "ar", "api", ready_url=f"{self.ar_url}/readyz")
        self.gl_consumer = mk("gl-consume", "gl", "consume", ready_log="consumer gl-posting reading")
        self.gl_relay = mk("gl-relay", "gl", "relay", ready_log="outbox relay publishing")
        self.ar_relay = mk("ar-relay", "ar", "relay", ready_log="outbox relay publishing")
        self.ar_grpc = mk("ar-grpc", "ar", "grpc", ready_log="gRPC serving")
        self.ar_consumer = mk("ar-consume", "ar", "consume", ready_log="consumer ar-shipments reading")
        self.ap_migrate = mk("ap-migrate", "ap", "migrate")
        self.budget_migrate = mk("budget-migrate", "budget", "migrate")
        self.ap_api = mk("ap-api", "ap", "api", ready_url=f"{self.ap_url}/readyz")
        self.ap_relay = mk("ap-relay", "ap", "relay", ready_log="outbox relay publishing")
        self.ap_consumer = mk("ap-consume", "ap", "consume", ready_log="consumer ap-receipts reading")
        self.budget_api = mk("budget-api", "budget", "api", ready_url=f"{self.budget_url}/readyz")
        self.budget_grpc = mk("budget-grpc", "budget", "grpc", ready_log="gRPC serving")
        self.budget_relay = mk("budget-relay", "budget", "relay", ready_log="outbox relay publishing")
        self.budget_consumer = mk("budget-consume", "budget", "consume", ready_log="consumer budget-actuals reading")
        self.cash_migrate = mk("cashmgmt-migrate", "cashmgmt", "migrate")
        self.cash_api = mk("cashmgmt-api", "cashmgmt", "api", ready_url=f"{self.cash_url}/readyz")
        self.cash_relay = mk("cashmgmt-relay", "cashmgmt", "relay", ready_log="outbox relay publishing")
        self.cash_consumer = mk("cashmgmt-consume", "cashmgmt", "consume",
                                ready_log="consumer cashmgmt-documents reading")
        self.cash_position = mk("cashmgmt-position", "cashmgmt", "position",
                                ready_url=f"http://127.0.0.1:{self.cash_position_port}/readyz")
        self.consol_migrate = mk("consolidation-migrate", "consolidation", "migrate")
        self.consol_api = mk("consolidation-api", "consolidation", "api", ready_url=f"{self.consol_url}/readyz")
        self.consol_relay = mk("consolidation-relay", "consolidation", "relay", ready_log="outbox relay publishing")
        self.consol_consumer = mk("consolidation-consume", "consolidation", "consume",
                                  ready_log="consumer consolidation-ledger reading")
        self.processes = [self.gl_api, self.ar_api, self.gl_consumer, self.gl_relay, self.ar_relay, self.inv_api,
                          self.inv_relay, self.ar_grpc, self.ar_consumer, self.ap_api, self.ap_relay, self.ap_consumer,
                          self.budget_api, self.budget_grpc, self.budget_relay, self.budget_consumer,
                          self.inv_consumer, self.consol_api, self.consol_relay, self.consol_consumer,
                          self.cash_api, self.cash_relay, self.cash_consumer, self.cash_position]
        self.token = mint_token(ServiceSettings(), subject="e2e", scopes=ALL_SCOPES, companies=["*"])
        self.http = self.client()
        # Companies new_company made (the chaos suite checks these); the breaches scenarios
        # declare (expect_breach), checked and dropped after each scenario (books_agree_...).
        self.created: list[str] = []
        self.expected: list = []
        self._reader = None

    def client(self, subject: str | None = None) -> httpx.Client:
        """A client of its own (one per thread); `subject`: acting as another person (the
        token's subject is who drafted, posted or approved)."""
        token = self.token if subject is None else mint_token(ServiceSettings(), subject=subject,
                                                              scopes=ALL_SCOPES, companies=["*"])
        return httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30)

    @property
    def gl_url(self) -> str:
        return f"http://127.0.0.1:{self.gl_port}"

    @property
    def inv_url(self) -> str:
        return f"http://127.0.0.1:{self.inv_port}"

    @property
    def ar_url(self) -> str:
        return f"http://127.0.0.1:{self.ar_port}"

    @property
    def ap_url(self) -> str:
        return f"http://127.0.0.1:{self.ap_port}"

    @property
    def budget_url(self) -> str:
        return f"http://127.0.0.1:{self.budget_port}"

    @property
    def consol_url(self) -> str:
        return f"http://127.0.0.1:{self.consol_port}"

    @property
    def cash_url(self) -> str:
        return f"http://127.0.0.1:{self.cash_port}"

    def start(self) -> None:
        self.gl_migrate.run_once()
        self.ar_migrate.run_once()
        self.inv_migrate.run_once()
        self.ap_migrate.run_once()
        self.budget_migrate.run_once()
        self.consol_migrate.run_once()
        self.cash_migrate.run_once()
        for p in self.processes:
            p.start()

    def stop(self) -> None:
        self.http.close()
        for p in self.processes:
            p.stop()

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} ---\n{p.tail(15)}" for p in self.processes)

    # --- client side ---------------------------------------------------------------
    STANDARD_CUSTOMERS = (*(f"C{i:03d}" for i in range(7)), "C999")

    def new_company(self, prefix: str = "E2E", currency: str = "CNY") -> str:
        """A company in the ledger, with the AR customers `invoice_body` bills (AR refuses
        invoices for customers it does not know)."""
        cid = f"{prefix}-{uuid.uuid4().hex[:8]}"
        r = self.http.post(f"{self.gl_url}/v1/companies",
                           json={"id": cid, "name": f"Company {cid}", "functional_currency": currency})
        assert r.status_code == 201, r.text
        self.created.append(cid)
        for code in self.STANDARD_CUSTOMERS:
            r = self.http.put(f"{self.ar_url}/v1/customers/{code}",
                              json={"company_id": cid, "code": code, "name": f"Customer {code}"})
            assert r.status_code == 200, r.text
        return cid

    def new_stock_company(self, prefix: str, items: dict[str, str], warehouse: tuple[str, str]) -> str:
        """A new company with inventory items (code -> costing method) and one warehouse (code, name)."""
        company = self.new_company(prefix)
        for code, method in items.items():
            r = self.http.post(f"{self.inv_url}/v1/items", json={"company_id": company, "code": code, "name": code,
                                                                  "costing_method": method})
            assert r.status_code == 201, r.text
        code, name = warehouse
        r = self.http.post(f"{self.inv_url}/v1/warehouses", json={"company_id": company, "code": code, "name": name})
        assert r.status_code == 201, r.text
        return company

    @staticmethod
    def invoice_body(company: str, i: int) -> dict:
        return {"company_id": company, "customer_code": f"C{i % 7:03d}", "currency": "CNY",
                "issue_date": (dt.date(2026, 11, 1) + dt.timedelta(days=i % 28)).isoformat(),
                "lines": [{"description": "Widget", "item_code": f"P{i % 5}", "quantity": str(1 + i % 4),
                           "unit_price": f"{(i * 37) % 1000 + 0.99:.2f}", "tax_code": "VAT13"},
                          {"description": "Freight", "quantity": "1", "unit_price": f"{i % 50}.15",
                           "tax_code": "VAT9"}]}

    def post_invoice(self, company: str, i: int, client: httpx.Client | None = None, **headers) -> dict:
        r = (client or self.http).post(f"{self.ar_url}/v1/invoices", json=self.invoice_body(company, i),
                           headers={"Idempotency-Key": f"{company}-{i}", **headers})
        assert r.status_code in (200, 201), r.text
        return r.json()

    def manual_journal(self, body: dict) -> dict:
        """A manual journal drafted by e2e and posted by a second person (duties are segregated)."""
        r = self.http.post(f"{self.gl_url}/v1/manual-journals", json=body)
        assert r.status_code == 201, r.text
        with self.client("e2e-approver") as approver:
            r = approver.post(f"{self.gl_url}/v1/manual-journals/{r.json()['id']}/post")
        assert r.status_code == 200, r.text
        return r.json()

    def trial_balance(self, company: str, as_of: str = "2026-12-31") -> dict:
        r = self.http.get(f"{self.gl_url}/v1/trial-balance", params={"company": company, "as_of": as_of})
        assert r.status_code == 200, r.text
        return r.json()

    def publish(self, *messages, before=None) -> list:
        """Publish events as their producing service would (CloudEvents binary mode); returns
        their envelopes. `before(envelopes)` runs before the first is sent."""
        import asyncio

        from aiokafka import AIOKafkaProducer
        from fincore.events import encode_record, new_envelope

        envelopes = [new_envelope(m, source="e2e") for m in messages]
        if before is not None:
            before(envelopes)

        async def send():
            p = AIOKafkaProducer(bootstrap_servers=self.infra.bootstrap_servers, acks="all")
            await p.start()
            try:
                for env in envelopes:
                    k, v, h = encode_record(env)
                    await p.send_and_wait(env.topic, key=k, value=v, headers=h)
            finally:
                await p.stop()

        asyncio.run(send())
        return envelopes

    def sql(self, service: str, statement: str, params: tuple = ()):
        import psycopg

        url = self.env[f"{service.upper()}_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url) as conn:
            cur = conn.execute(statement, params)
            return cur.fetchall() if cur.description else None

    def journal_count(self, company: str) -> int:
        return self.trial_balance(company)["journals"]

    def wait_journals(self, company: str, n: int, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while (got := self.journal_count(company)) < n:
            if time.monotonic() > deadline:
                raise AssertionError(f"{got} of {n} journals after {timeout}s\n{self.logs()}")
            time.sleep(0.25)

    def journals(self, company: str) -> list[dict]:
        items, offset = [], 0
        while True:
            r = self.http.get(f"{self.gl_url}/v1/journals",
                              params={"company": company, "limit": 1000, "offset": offset})
            assert r.status_code == 200, r.text
            page = r.json()["items"]
            items += page
            if len(page) < 1000:
                return items
            offset += 1000

    def assert_posted_exactly_once(self, company: str, invoices: list[dict]) -> None:
        """Every invoice has exactly one journal, and the books are the sum of the invoices."""
        journals = self.journals(company)
        docs = [j["source"]["document"] for j in journals]
        expected = sorted(inv["number"] for inv in invoices)
        dupes = sorted({d for d in docs if docs.count(d) > 1})
        missing = sorted(set(expected) - set(docs))
        assert not dupes, f"double-posted: {dupes[:10]}"
        assert not missing, f"never posted: {missing[:10]}"
        assert sorted(docs) == expected
        tb = self.trial_balance(company)
        assert tb["balanced"], tb["totals"]
        gross = sum((Decimal(i["gross_total"]) for i in invoices), Decimal(0))
        net = sum((Decimal(i["net_total"]) for i in invoices), Decimal(0))
        tax = sum((Decimal(i["tax_total"]) for i in invoices), Decimal(0))
        by_acct = {ln["account"]: ln for ln in tb["lines"]}
        assert Decimal(by_acct["1122"]["debit_balance"]) == gross
        assert Decimal(by_acct["6001"]["credit_balance"]) == net
        assert Decimal(by_acct["22210102"]["credit_balance"]) == tax
        assert Decimal(tb["totals"]["debit_balance"]) == gross == Decimal(tb["totals"]["credit_balance"])


    # --- the invariant checker (finance-verify) after every scenario ---------------------
    # Every invariant is strict: a breach fails the scenario that left it. I5 (consumer lag
    # drains) is the chaos suite's: the shared consumers here never stop.
    STRICT = ("I1", "I2", "I3", "I4", "I6", "I7")

    def expect_breach(self, invariant: str, company: str, subject: str = "", reason: str = "",
                      detail: str = "") -> None:
        """A difference this scenario leaves on purpose (an event published straight to the
        topic without its sub-ledger document, a poisoned record): the checker expects it
        instead of failing, and fails if it is not there. `subject` and `detail` are parts of
        the breach's subject and text (e.g. "customer K1 CNY", "difference -1130.00")."""
        from finverify.verify import Expected

        assert reason, "say why the scenario leaves this difference"
        self.expected.append(Expected(invariant, company, subject, reason, detail))

    def company_ids(self) -> set[str]:
        """Every company the ledger has (whoever created it: new_company, a test's own POST)."""
        out, offset = set(), 0
        while True:
            r = self.http.get(f"{self.gl_url}/v1/companies", params={"limit": 1000, "offset": offset})
            assert r.status_code == 200, r.text
            page = r.json()
            items = page["items"] if isinstance(page, dict) else page
            out |= {c["id"] for c in items}
            if len(items) < 1000:
                return out
            offset += 1000

    def verify(self, companies: list[str], only=STRICT, settle_s: float = 30):
        """finance-verify over these companies, through the public APIs and topics, with the
        breaches declared for them (expect_breach); the topic reader keeps its position for the
        whole session, so each check reads only what was published since the last."""
        from finverify.read import Api, Endpoints, TopicReader
        from finverify.verify import verify

        api = Api(Endpoints(gl=self.gl_url, ar=self.ar_url, ap=self.ap_url, inventory=self.inv_url,
                            budget=self.budget_url, cashmgmt=self.cash_url), self.token)
        try:
            if self._reader is None and "I2" in only:
                # at the end of every partition (the fetch high-water mark) and quiet for 0.2 s
                self._reader = TopicReader(self.infra.bootstrap_servers, api.posting_topics(), quiet_s=0.2)
            expected = [e for e in self.expected if e.invariant in only and e.company in companies]
            return verify(api, companies, reader=self._reader if "I2" in only else None, only=only,
                          expected=expected, settle_s=settle_s, poll_s=0.25)
        finally:
            api.close()

    def assert_books_agree(self, companies: list[str], scenario: str, settle_s: float = 30) -> None:
        """The finaliser's check (see books_agree_after_each_scenario): every strict invariant
        holds over `companies`, but for the breaches declared for them, each of which is found.
        While a breach may be an event still in flight, it reads again, for up to `settle_s`."""
        if not companies:
            return
        res = self.verify(sorted(companies), settle_s=settle_s)
        if res.breaches or any(not hits for _, hits in res.expected):
            pytest.fail(f"the books of {scenario} do not agree ({', '.join(sorted(companies))}):\n"
                        f"{res.report()}", pytrace=False)


@pytest.fixture(scope="session")
def suite(infra, otlp, log_dir):
    s = Suite(infra, otlp, log_dir)
    try:
        s.start()
    except Exception:
        s.stop()
        raise
    yield s
    s.stop()


# --- the books agree after every scenario (issue 9) -------------------------------------------
_FAILED = pytest.StashKey[bool]()
_SPENT = pytest.StashKey[list]()  # (companies checked, seconds) per check, for the terminal summary


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    rep = yield
    if rep.failed:
        item.stash[_FAILED] = True
    return rep


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    spent = config.stash.get(_SPENT, [])
    if spent:
        terminalreporter.write_line(
            f"books agree after every scenario: {len(spent)} checks over {sum(n for n, _ in spent)} companies "
            f"in {sum(s for _, s in spent):.1f}s")


class _Books:
    """Which companies each scenario created, and which have been checked: a test's own are
    checked when it ends; those a module's fixtures created (shared by its tests) when the
    module ends."""

    def __init__(self, suite: Suite, config: pytest.Config) -> None:
        self.suite = suite
        self.spent = config.stash.setdefault(_SPENT, [])
        self.checked = suite.company_ids()  # companies that existed before: not this scenario's

    def new_since(self) -> list[str]:
        return sorted(self.suite.company_ids() - self.checked)

    def check(self, companies: list[str], scenario: str, failed: bool) -> None:
        self.checked |= set(companies)
        start = time.monotonic()
        try:
            if not failed and companies:  # a scenario that failed already: its books prove nothing more
                self.suite.assert_books_agree(companies, scenario)
        finally:
            self.suite.expected = [e for e in self.suite.expected if e.company not in companies]
            if not failed and companies:
                self.spent.append((len(companies), time.monotonic() - start))


def _uses_suite(items) -> bool:
    return any("suite" in getattr(i, "fixturenames", ()) for i in items)


@pytest.fixture(scope="module", autouse=True)
def books_agree_after_each_module(request):
    """The module's share of the finaliser: companies its fixtures created, checked when its
    last test has run (see books_agree_after_each_scenario)."""
    items = [i for i in request.session.items if getattr(i, "module", None) is request.module]
    if not _uses_suite(items):
        yield None
        return
    books = _Books(request.getfixturevalue("suite"), request.config)
    yield books
    failed = any(i.stash.get(_FAILED, False) for i in items)
    books.check(books.new_since(), request.node.nodeid, failed)


@pytest.fixture(autouse=True)
def books_agree_after_each_scenario(request, books_agree_after_each_module):
    """After every scenario on the shared suite, finance-verify over the companies it created:
    every journal balances (I1), every event the ledger read has exactly one effect (I2), none
    posted twice (I3), period balances equal their lines (I4), nothing posted into a closed
    period (I6), and each sub-ledger equals its control account (I7: AR open items =
    receivables, AP open items = payables, inventory valuation = inventory accounts, budget
    actuals = the ledger's spend). A breach fails the scenario with the checker's report; a
    difference the scenario leaves on purpose is declared with `suite.expect_breach`."""
    books = books_agree_after_each_module
    if books is None or "suite" not in request.fixturenames:
        yield
        return
    before = books.suite.company_ids()
    yield
    mine = sorted(books.suite.company_ids() - before - books.checked)
    books.check(mine, request.node.nodeid, request.node.stash.get(_FAILED, False))


@pytest.fixture(scope="module")
def chaos_suite(otlp, log_dir):
    """A second suite for fault tests, on infrastructure that survives restarts and is its own
    (the broker on s3 storage, a private PostgreSQL): (Suite, fincore.testing.durable.DurableInfra).
    CHAOS_KEEP=1 keeps its databases and every topic's records for a post-mortem (see test_chaos)."""
    import os

    from fincore.testing.durable import durable_infra

    keep = os.environ.get("CHAOS_KEEP", "").lower() in ("1", "true", "yes")
    with durable_infra(log_dir / "chaos-infra", keep=keep) as d:
        s = Suite(d.infra, otlp, log_dir / "chaos")
        (log_dir / "chaos").mkdir(exist_ok=True)
        try:
            s.start()
            yield s, d
        finally:
            s.stop()

