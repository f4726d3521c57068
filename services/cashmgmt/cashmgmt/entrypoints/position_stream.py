"""The live cash position as a faust-streaming worker (`finance-cashmgmt position`).

Why faust here, and why only as a cache: the position is a table over two streams (the GL's
JournalPosted, cash management's own bank accounts and statements), read often and written
by nothing else; faust keeps it in memory with a changelog topic per table, so a restarted
worker recovers its tables from the changelogs and goes on from its committed offsets. It is
never the book of record: the ledger is, and the view can be rebuilt from the topics at any
time (a new `CASHMGMT_POSITION_APP_ID` reads them from the start). Every table entry is an
absolute value keyed by the fact it records (cashmgmt/domain/position.py), so an event read
twice (a restart between a table write and the offset commit, a replay) writes the same value
again and nothing counts twice.

On the development broker (Tansu) ListOffsets "latest" is wrong for multi-record batches, so
a changelog written in batches recovers short (tests/integration/test_position_stream.py
shows it); `CASHMGMT_POSITION_PRODUCER_MAX_BATCH_SIZE=1` (the default) writes one record per
batch and recovery is exact. On Apache Kafka raise it (e.g. 16384).

The worker's own web server (port `CASHMGMT_POSITION_PORT`, default HTTP port + 4000) serves
the position to cash management's API (`GET /v1/cash-position`, with the caller's token
checked there) and answers 503 until the tables are recovered.

One replica, by design (docs/operations.md, "The cash position worker: one replica"): a
company's entries are spread over every partition (the source records are keyed by journal
and document, not by company), so only a worker that holds every partition can answer for a
company. A worker that holds fewer (a second replica joined its group, or a rollout overlaps
two pods) answers 503 and is not ready, rather than serve a part of the position as if whole.
"""

from __future__ import annotations

import datetime as dt
import logging

import faust
from finance.cashmgmt.v1 import events_pb2 as cash
from finance.gl.v1 import events_pb2 as gl
from fincore import dates, money
from fincore.events.envelope import EnvelopeError, decode_record
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest

from cashmgmt.domain.position import (
    CashLine,
    account_key,
    company_of,
    journal_entries,
    newer_statement,
    position,
    statement_entry,
)
from cashmgmt.settings import CashmgmtSettings

log = logging.getLogger(__name__)
TOPICS = ("finance.gl.events.v1", "finance.cashmgmt.events.v1")


def cash_line(ln: gl.JournalLine) -> CashLine:
    """A journal line in its transaction currency; a line in the functional currency carries
    no transaction amount (the GL leaves it unset): its amount is the functional one."""
    functional = money.from_proto(ln.debit) - money.from_proto(ln.credit)
    if ln.HasField("transaction_amount") and ln.transaction_amount.currency_code:
        return CashLine(ln.account_code, ln.transaction_amount.currency_code,
                        money.from_proto(ln.transaction_amount), functional)
    return CashLine(ln.account_code, ln.debit.currency_code or ln.credit.currency_code, functional, functional)


def build_position_app(settings: CashmgmtSettings) -> faust.App:
    app = faust.App(
        settings.position_app_id, broker=f"kafka://{settings.kafka_bootstrap_servers}", store="memory://",
        autodiscover=False, topic_partitions=settings.kafka_topic_partitions,
        topic_replication_factor=settings.kafka_topic_replication,
        broker_session_timeout=settings.kafka_session_timeout_ms / 1000,
        producer_max_batch_size=settings.position_producer_max_batch_size,
        producer_linger=settings.position_producer_linger_s,
        table_standby_replicas=0, web_host=settings.http_host, web_port=settings.resolved_position_port(),
        web_in_thread=False)
    source = app.topic(*TOPICS, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")
    n = settings.kafka_topic_partitions
    metrics = CollectorRegistry()
    accounts = app.Table("accounts", default=None, partitions=n)   # company|code -> the account
    booked = app.Table("booked", default=None, partitions=n)       # company|account|currency|journal -> amounts
    statements = app.Table("statements", default=None, partitions=n)  # company|code -> its last statement

    @app.agent(source)
    async def keep(stream):
        async for event in stream.events():
            m = event.message
            try:
                env = decode_record(m.topic, m.key, m.value, m.headers or [])
            except EnvelopeError as exc:
                log.warning("skipping a record of %s[%s]@%s: %s", m.topic, m.partition, m.offset, exc)
                continue
            msg = env.payload
            if isinstance(msg, gl.JournalPosted):
                lines = [cash_line(ln) for ln in msg.lines if ln.cash_flow_item]
                for key, value in journal_entries(msg.company_id, msg.journal_id,
                                                  dates.from_proto(msg.occurrence_date), lines).items():
                    booked[key] = value
            elif isinstance(msg, cash.BankAccountOpened):
                accounts[account_key(msg.company_id, msg.bank_account)] = {
                    "currency": msg.currency, "gl_account": msg.gl_account, "name": msg.name}
            elif isinstance(msg, cash.BankStatementImported):
                key = account_key(msg.company_id, msg.bank_account)
                entry = statement_entry(
                    statement_id=msg.document_number, closing_date=dates.from_proto(msg.occurrence_date),
                    closing_balance=money.from_proto(msg.closing_balance), currency=msg.closing_balance.currency_code,
                    pending_value=[(dates.from_proto(p.value_date), money.from_proto(p.amount))
                                   for p in msg.pending_value])
                if newer_statement(statements.get(key), entry):
                    statements[key] = entry

    changelogs = [t.changelog_topic.get_topic_name() for t in (accounts, booked, statements)]

    def missing_partitions() -> int:
        """Changelog partitions of the tables this worker does not hold as active (0: the whole view)."""
        held = app.assignor.assigned_actives()
        return sum(1 for topic in changelogs for p in range(n) if (topic, p) not in held)

    def state() -> str:
        """'ready', 'recovering', or why the view is not whole here."""
        if not app.tables.recovery.completed.is_set() or app.rebalancing:
            return "recovering"
        missing = missing_partitions()
        if missing:
            return (f"partial: this worker holds {len(changelogs) * n - missing} of {len(changelogs) * n} "
                    "table partitions (another replica shares its group); the position runs as one replica")
        return "ready"

    @app.page("/healthz")
    async def healthz(web, request):
        return web.json({"status": "ok"})

    entries = Gauge("cash_position_table_entries", "Entries in the cash position's tables", ["table"],
                    registry=metrics)

    @app.page("/metrics")
    async def prometheus(web, request):
        for name, table in (("accounts", accounts), ("booked", booked), ("statements", statements)):
            entries.labels(name).set(len(table))
        return web.bytes(generate_latest(metrics), content_type=CONTENT_TYPE_LATEST.split(";")[0])

    @app.page("/readyz")
    async def readyz(web, request):
        now = state()
        return web.json({"status": now}, status=200 if now == "ready" else 503)

    @app.page("/position")
    async def company_position(web, request):
        company = request.query.get("company", "")
        now = state()
        if now == "recovering":
            return web.json({"detail": "the cash position is recovering its tables"}, status=503)
        if now != "ready":
            return web.json({"detail": f"the cash position is not whole on this worker ({now})"}, status=503)
        try:
            as_of = dt.date.fromisoformat(request.query.get("as_of") or dt.date.today().isoformat())
        except ValueError:
            return web.json({"detail": "as_of is YYYY-MM-DD"}, status=422)
        prefix = f"{company}|"
        return web.json(position(
            company,
            accounts={k.split("|", 1)[1]: v for k, v in accounts.items() if k.startswith(prefix)},
            booked=[v for k, v in booked.items() if company_of(k) == company],
            statements={k.split("|", 1)[1]: v for k, v in statements.items() if k.startswith(prefix)},
            as_of=as_of))

    return app


def run_position_worker(settings: CashmgmtSettings) -> None:
    app = build_position_app(settings)
    worker = faust.Worker(app, loglevel="INFO", quiet=True)
    worker.execute_from_commandline()
