"""Processes die (SIGKILL: no shutdown hooks) in the middle of their work; the books end up
with every invoice posted exactly once: no gap, no duplicate."""

import threading
import time

import psycopg
import pytest
from fincore.testing import ServiceProcess

pytestmark = pytest.mark.e2e


def post_stream(suite, company: str, n: int, out: list, errors: list) -> threading.Thread:
    def run():
        try:
            with suite.client() as c:
                for i in range(n):
                    out.append(suite.post_invoice(company, i, client=c))
        except Exception as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def wait_until(cond, timeout: float, what: str, suite) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{suite.logs()}")
        time.sleep(0.02)


def journals_in_db(suite, company: str) -> int:
    return suite.sql("gl", "SELECT count(*) FROM journal WHERE company_id = %s", (company,))[0][0]


def test_gl_consumer_killed_three_times_while_consuming(suite, log_dir):
    company = suite.new_company("CRASH")
    n = 300
    # The stream waits in Kafka while no consumer runs; a consumer taking two records per
    # poll then works through it slowly enough to be killed in the middle, three times.
    suite.gl_consumer.stop()
    slow = ServiceProcess("gl-consume-small-polls", "gl", "consume", {**suite.env, "GL_CONSUMER_MAX_RECORDS": "2"},
                          log_dir, ready_log="consumer gl-posting reading")
    kill_points = []
    try:
        invoices, errors = [], []
        post_stream(suite, company, n, invoices, errors).join(120)
        assert not errors, errors
        for fraction in (0.15, 0.45, 0.75):
            slow.start(wait=False)
            wait_until(lambda f=fraction: journals_in_db(suite, company) >= int(n * f), 120, f"{fraction:.0%} posted",
                       suite)
            slow.kill()
            kill_points.append(journals_in_db(suite, company))
    finally:
        slow.kill()
        suite.gl_consumer.ensure_running()  # a failure here must not leave later tests without a GL consumer
    assert len(set(kill_points)) == 3 and all(0 < k < n for k in kill_points), kill_points
    suite.wait_journals(company, n, timeout=180)
    time.sleep(2)  # anything redelivered after the last restart has had its chance to double-post
    suite.assert_posted_exactly_once(company, invoices)


def outbox_counts(url: str) -> tuple[int, int]:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        return conn.execute(
            "SELECT (SELECT count(*) FROM outbox_pending), count(*) FROM outbox").fetchone()


def test_ar_relay_killed_mid_publish_loses_and_doubles_nothing(suite, log_dir):
    company = suite.new_company("RELAY")
    n = 300
    suite.ar_relay.stop()
    # A relay publishing in small batches, so there is a "middle" of publishing to die in.
    slow = ServiceProcess("ar-relay-small-batches", "ar", "relay", {**suite.env, "AR_OUTBOX_BATCH_SIZE": "5"},
                          log_dir, ready_log="outbox relay publishing")
    killed_with_pending = []
    try:
        invoices = [suite.post_invoice(company, i) for i in range(n)]
        pending, _ = outbox_counts(suite.env["AR_DATABASE_URL"])
        assert pending >= n
        for fraction in (0.2, 0.5, 0.8):
            slow.start(wait=False)
            wait_until(lambda f=fraction: outbox_counts(suite.env["AR_DATABASE_URL"])[0] <= pending * (1 - f),
                       60, f"{fraction:.0%} published", suite)
            slow.kill()
            killed_with_pending.append(outbox_counts(suite.env["AR_DATABASE_URL"])[0])
    finally:
        slow.kill()
        suite.ar_relay.ensure_running()  # put the shared relay back even when this test fails
    assert all(p > 0 for p in killed_with_pending), f"relay finished before it was killed: {killed_with_pending}"
    suite.wait_journals(company, n, timeout=120)
    # Deliberate duplicates: publish the whole range again, as an operator would after a
    # broker disaster. Every event reaches the GL a second time; none may post twice.
    r = suite.http.post(f"{suite.ar_url}/v1/admin/outbox/republish",
                        params={"since": "2000-01-01T00:00:00Z", "until": "2100-01-01T00:00:00Z"})
    assert r.status_code == 200 and r.json()["requeued"] >= n, r.text
    wait_until(lambda: outbox_counts(suite.env["AR_DATABASE_URL"])[0] == 0, 60, "republish", suite)
    probe = suite.post_invoice(company, n)  # published after the duplicates: when it posts, they were seen
    suite.wait_journals(company, n + 1, timeout=60)
    suite.assert_posted_exactly_once(company, [*invoices, probe])
