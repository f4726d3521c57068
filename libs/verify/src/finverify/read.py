"""Reading what the checks need, through public interfaces only: the services' HTTP APIs
(bearer token, the normal read scopes) and the Kafka topics and consumer-group offsets.

`Endpoints` says where each service answers; a service given no URL is not read, and its
checks are reported as not run. `TopicReader` keeps its position between calls, so a test
session reads each record once however often it checks."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Iterable
from dataclasses import dataclass

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from fincore.events.envelope import EnvelopeError, decode_record
from fincore.events.registry import registry

from finverify.checks import Event, Snapshot
from finverify.rules import PostingRules

FAR = "2199-12-31"  # "as of the end of time": every posted date counts
INVENTORY_ROLES = ("inventory", "raw_materials", "finished_goods", "merchandise")


@dataclass
class Endpoints:
    gl: str
    ar: str | None = None
    ap: str | None = None
    inventory: str | None = None
    budget: str | None = None
    cashmgmt: str | None = None


class ApiError(RuntimeError):
    pass


class Api:
    def __init__(self, endpoints: Endpoints, token: str, timeout: float = 60) -> None:
        self.urls = endpoints
        self.http = httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=timeout)
        self.transient = 0  # 5xx answers and dropped connections asked again (see get)
        self._rules: PostingRules | None = None

    def close(self) -> None:
        self.http.close()

    # A live system answers 5xx (or drops the connection) for a moment while it recovers: a
    # service's first request after a database restart fails before its pool reconnects
    # (fincore.db), a service restarting refuses connections. Such answers are asked again
    # for up to RETRY_S; they are counted (`transient`), never taken for the books' state.
    RETRY_S = 30.0

    def get(self, base: str, path: str, **params) -> dict | list:
        deadline = time.monotonic() + self.RETRY_S
        pause = 0.2
        while True:
            try:
                r = self.http.get(f"{base}{path}", params=params)
                if r.status_code < 500:
                    break
                problem = f"{r.status_code}: {r.text[:300]}"
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            if time.monotonic() >= deadline:
                raise ApiError(f"GET {base}{path} {params} -> {problem}")
            self.transient += 1
            time.sleep(pause)
            pause = min(pause * 2, 3.0)
        if r.status_code != 200:
            raise ApiError(f"GET {base}{path} {params} -> {r.status_code}: {r.text[:300]}")
        return r.json()

    def pages(self, base: str, path: str, limit: int, **params) -> list[dict]:
        out, offset = [], 0
        while True:
            page = self.get(base, path, limit=limit, offset=offset, **params)
            items = page["items"] if isinstance(page, dict) else page
            out += items
            if len(items) < limit:
                return out
            offset += limit

    def companies(self) -> list[dict]:
        return self.pages(self.urls.gl, "/v1/companies", 1000)

    def company(self, company_id: str) -> dict:
        return next((c for c in self.companies() if c["id"] == company_id), None) or _missing(company_id)

    def posting_topics(self) -> list[str]:
        """The topics the ledger's posting consumer reads: those of the event types its rules post."""
        types = {r["event"] for r in self.get(self.urls.gl, "/v1/rules")}
        return sorted({registry.by_type(t).topic for t in types if _known(t)})

    def rules(self) -> PostingRules:
        """The ledger's posting rules (read once per Api): what each event is due (I2)."""
        if self._rules is None:
            self._rules = PostingRules(self.get(self.urls.gl, "/v1/rules"))
        return self._rules

    def snapshot(self, company: dict, events: list[Event] | None) -> Snapshot:
        gl, cid = self.urls.gl, company["id"]
        s = Snapshot(company=company)
        s.journals = self.pages(gl, "/v1/journals", 1000, company=cid)
        s.lines = self.pages(gl, "/v1/journal-lines", 10000, company=cid)
        s.period_balances = self.pages(gl, "/v1/period-balances", 10000, company=cid)
        if "by_counterparty" in company:  # a ledger that keeps balances per counterparty
            s.counterparty_balances = self.pages(gl, "/v1/counterparty-balances", 10000, company=cid)
            s.counterparty_totals = self.pages(gl, "/v1/counterparty-totals", 10000, company=cid)
        s.periods = self.get(gl, f"/v1/companies/{cid}/periods")
        if events is not None:
            s.events = [e for e in events if e.company == cid]
            s.effects = self.effects(cid, sorted({e.id for e in s.events}))
            s.rules = self.rules()
        receivables, payables = s.role_accounts("receivables"), s.role_accounts("payables", "other_payables")
        if self.urls.ar and receivables:
            s.ar_ageing = self.get(self.urls.ar, "/v1/ageing", company=cid, as_of=FAR)
            s.receivables = self.balances(cid, receivables, "customer")
        if self.urls.ap and payables:
            s.ap_ageing = self.get(self.urls.ap, "/v1/ageing", company=cid, as_of=FAR)
            s.payables = self.balances(cid, payables, "supplier")
        if self.urls.inventory:
            s.valuation = self.get(self.urls.inventory, "/v1/valuation", company=cid, as_of=FAR)
            s.inventory_balances = self.balances(cid, s.role_accounts(*INVENTORY_ROLES), "none")
        if self.urls.budget:
            b = self.urls.budget
            s.budget_items = self.get(b, "/v1/budget-items", company=cid)
            s.budget_report = self.get(b, "/v1/reports/budget-vs-actual", company=cid,
                                       group_by="cost_centre,budget_item,period")
            s.budget_actuals = self.pages(b, "/v1/actuals", 10000, company=cid)
        if self.urls.cashmgmt:  # reconciled bank = bank account (finverify.checks.check_bank)
            accounts = self.get(self.urls.cashmgmt, "/v1/reconciliation/bank-balances", company=cid)
            s.bank = {"accounts": accounts,
                      "ledger": self.balances(cid, sorted({a["gl_account"] for a in accounts}), "none")}
        return s

    def balances(self, company: str, accounts: list[str], by: str) -> list[dict]:
        if not accounts:
            return []
        return self.get(self.urls.gl, "/v1/balances", company=company, account=",".join(accounts), by=by)["items"]

    def effects(self, company: str, ids: list[str]) -> dict[str, dict]:
        out = {}
        for i in range(0, len(ids), 200):
            chunk = ids[i:i + 200]
            page = self.get(self.urls.gl, "/v1/event-effects", company=company, event_id=chunk)
            out.update({e["event_id"]: e for e in page["items"]})
        return out


def _known(ce_type: str) -> bool:
    try:
        registry.by_type(ce_type)
        return True
    except KeyError:
        return False


def _missing(company: str):
    raise ApiError(f"company {company!r} is not in the ledger (or the token does not grant it)")


class TopicReader:
    """Reads topics from the beginning up to their end (the fetch high-water mark: the
    development broker's ListOffsets "latest" undercounts multi-record batches), keeping
    its position: each call reads only what was published since the last."""

    def __init__(self, bootstrap_servers: str, topics: Iterable[str], quiet_s: float = 0.5) -> None:
        self.bootstrap = bootstrap_servers
        self.quiet_s = quiet_s  # once at the end, how long nothing new must arrive
        self.topics = sorted(set(topics))
        self.events: list[Event] = []
        self.undecodable: list[str] = []
        self.positions: dict[TopicPartition, int] = {}
        self.highwater: dict[TopicPartition, int] = {}

    def catch_up(self, quiet_s: float | None = None, timeout_s: float = 120) -> list[Event]:
        asyncio.run(self._read(self.quiet_s if quiet_s is None else quiet_s, timeout_s))
        return self.events

    async def _read(self, quiet_s: float, timeout_s: float) -> None:
        c = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False, group_id=None,
                             auto_offset_reset="earliest", isolation_level="read_committed",
                             client_id="finance-verify")
        await c.start()
        try:
            parts = [TopicPartition(t, p) for t in self.topics for p in sorted(c.partitions_for_topic(t) or ())]
            if not parts:
                return
            c.assign(parts)
            for tp in parts:
                if tp in self.positions:
                    c.seek(tp, self.positions[tp])
                else:
                    await c.seek_to_beginning(tp)
            ends = await c.end_offsets(parts)
            deadline = time.monotonic() + timeout_s
            quiet_since = time.monotonic()
            while time.monotonic() < deadline:
                batch = await c.getmany(timeout_ms=200, max_records=5000)
                for tp, recs in batch.items():
                    for rec in recs:
                        self._add(rec)
                    if recs:
                        self.positions[tp] = recs[-1].offset + 1
                if batch:
                    quiet_since = time.monotonic()
                for tp in parts:
                    hw = c.highwater(tp)
                    if hw is not None:
                        self.highwater[tp] = hw
                at_end = all(self.positions.get(tp, 0) >= max(ends.get(tp, 0), self.highwater.get(tp, 0))
                             for tp in parts)
                if at_end and time.monotonic() - quiet_since >= quiet_s:
                    return
            raise TimeoutError(f"topics not read to their end within {timeout_s}s")
        finally:
            await c.stop()

    def _add(self, rec) -> None:
        try:
            env = decode_record(rec.topic, rec.key, rec.value, rec.headers)
        except EnvelopeError as exc:
            ce_id = next((v.decode(errors="replace") for k, v in rec.headers if k == "ce_id"), "?")
            self.undecodable.append(f"{rec.topic}[{rec.partition}]@{rec.offset} id {ce_id}: {exc}")
            return
        self.events.append(Event(id=env.id, type=env.type, company=getattr(env.payload, "company_id", ""),
                                 topic=rec.topic, partition=rec.partition, offset=rec.offset,
                                 payload_digest=hashlib.sha256(rec.value or b"").hexdigest(), payload=env.payload))


async def _group_lag(bootstrap: str, groups: Iterable[str] | None, prefix: str) -> dict[str, dict[str, int]]:
    """Each group's committed offset (OffsetFetch through a consumer of that group: the admin
    client's OffsetFetch does not decode on the development broker) against the high-water mark."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="finance-verify-admin")
    await admin.start()
    try:
        if groups is None:
            groups = [g[0] for g in await admin.list_consumer_groups()]
        topics = [t for t in await admin.list_topics() if t.startswith("finance.")]
    finally:
        await admin.close()
    groups = sorted(g for g in groups if g.startswith(prefix) and not g.startswith("finance-verify"))
    c = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None,
                         client_id="finance-verify-hw")
    await c.start()
    try:
        parts = [TopicPartition(t, p) for t in sorted(topics) for p in sorted(c.partitions_for_topic(t) or ())]
        ends = await _fetch_highwater(c, parts)
    finally:
        await c.stop()
    out: dict[str, dict[str, int]] = {}
    for g in groups:
        gc = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=g,
                              client_id="finance-verify-offsets")
        await gc.start()
        try:
            out[g] = {}
            for tp in parts:
                committed = await gc.committed(tp)
                if committed is not None and committed >= 0:
                    out[g][f"{tp.topic}[{tp.partition}]"] = max(0, ends.get(tp, 0) - committed)
        finally:
            await gc.stop()
    return out


async def _fetch_highwater(c: AIOKafkaConsumer, parts: list[TopicPartition]) -> dict[TopicPartition, int]:
    """The end of each partition from a fetch response (the high-water mark), not ListOffsets."""
    if not parts:
        return {}
    ends = await c.end_offsets(parts)
    c.assign(parts)
    for tp in parts:
        c.seek(tp, max(0, ends.get(tp, 0) - 1))
    out = dict(ends)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        await c.getmany(timeout_ms=200, max_records=1)
        known = {tp: c.highwater(tp) for tp in parts if c.highwater(tp) is not None}
        out.update({tp: max(out.get(tp, 0), hw) for tp, hw in known.items()})
        if len(known) == len(parts):
            break
    return out


def consumer_lag(bootstrap: str, groups: Iterable[str] | None = None, prefix: str = "") -> dict[str, dict[str, int]]:
    return asyncio.run(_group_lag(bootstrap, groups, prefix))


def wait_for_lag(bootstrap: str, groups: Iterable[str] | None, timeout_s: float, prefix: str = "") -> tuple[
        dict[str, dict[str, int]], float]:
    """Poll until every group's lag is zero or the time runs out; the last reading and how long it took."""
    start = time.monotonic()
    while True:
        lag = consumer_lag(bootstrap, groups, prefix)
        if all(n == 0 for parts in lag.values() for n in parts.values()) or time.monotonic() - start > timeout_s:
            return lag, time.monotonic() - start
        time.sleep(0.5)
