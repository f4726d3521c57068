"""finance-load: a seeded, fixed-rate, fixed-duration load of realistic business through the
public APIs only, recording each business transaction's times (issue 15, point 2):

- accepted: the API answered (2xx);
- published: the first record of the transaction's document on its topic (Kafka timestamp,
  set by the relay's producer);
- journal: the ledger committed the journal of that event (the JournalPosted it publishes in
  the same transaction carries that time as ce_time);
- statement: a trial balance read first counted that journal (the reader polls the company's
  trial balance; journals are ranked by commit time).

The mix (weights in MIX): stock receipts; sales orders shipped in two partial shipments
(the second later), returns of a shipped unit, customer receipts (oldest first); invoices in
USD (FX, at a rate set on the first day); expense invoices checked against the budget and
approved (procure to pay with budget checks); manual journals drafted by one person and
posted by another. Transactions start on a fixed schedule (rate/s) from a seeded random
generator, so two runs with one seed send the same requests in the same order.

    finance-load --rate 50 --duration 60 --seed 7 --kafka 127.0.0.1:9092 --out .run/load.json
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import statistics
import time
import uuid
from dataclasses import asdict, dataclass, field

import httpx
from aiokafka import AIOKafkaConsumer
from fincore.events.envelope import EnvelopeError, decode_record

MIX = {"stock_receipt": 10, "order_and_ship": 22, "ship_rest": 12, "return": 3, "customer_receipt": 15,
       "fx_invoice": 8, "expense_invoice": 15, "manual_journal": 15}
TOPICS = ["finance.ar.events.v1", "finance.ap.events.v1", "finance.inventory.events.v1", "finance.gl.events.v1"]
ITEMS = {"MA-1": "moving_average", "MA-2": "moving_average", "FF-1": "fifo", "FF-2": "fifo"}
CUSTOMERS = [f"K{i:02d}" for i in range(10)]
MONTH = dt.date(2026, 11, 1)


@dataclass
class Txn:
    kind: str
    seq: int
    start: float  # wall clock (time.time()) when the request was sent
    scheduled: float = 0.0
    accepted: float | None = None
    status: int | None = None
    document: str = ""  # the business document number the API answered
    expects_journal: bool = True
    published: float | None = None
    event_ids: list[str] = field(default_factory=list)
    journal: float | None = None
    statement: float | None = None
    error: str = ""


@dataclass
class Urls:
    gl: str
    ar: str
    ap: str
    inventory: str
    budget: str


class Load:
    def __init__(self, urls: Urls, token: str, approver_token: str, kafka: str, *, rate: float, duration: float,
                 seed: int, company: str | None = None, concurrency: int = 64,
                 mix: dict[str, int] | None = None) -> None:
        self.urls, self.kafka = urls, kafka
        self.rate, self.duration, self.seed = rate, duration, seed
        self.rnd = random.Random(seed)
        self.mix = dict(mix or MIX)  # kind -> weight; a kind left out is never drawn
        self.company = company or f"LOAD-{seed}-{uuid.uuid4().hex[:6]}"
        self.headers = {"Authorization": f"Bearer {token}"}
        self.approver = {"Authorization": f"Bearer {approver_token}"}
        self.sem = asyncio.Semaphore(concurrency)
        self.txns: list[Txn] = []
        self.by_doc: dict[str, Txn] = {}
        self.open_orders: list[tuple[str, list[tuple[str, int]]]] = []
        self.shipped: list[tuple[str, str]] = []  # (order ref, issue line movement id)
        self.tb_reads: list[tuple[float, int]] = []  # (answered at, journals counted)
        self.journals: list[float] = []  # commit times of the company's journals
        self.late_starts = 0
        self._doc_of_event: dict[str, str] = {}
        self._pending_journals: dict[str, float] = {}

    # --- setup -------------------------------------------------------------------------
    async def setup(self, c: httpx.AsyncClient) -> None:
        u, co = self.urls, self.company

        async def ok(r):
            r = await r
            if r.status_code not in (200, 201):
                raise RuntimeError(f"setup {r.request.method} {r.request.url}: {r.status_code} {r.text[:300]}")
            return r.json()

        await ok(c.post(f"{u.gl}/v1/companies", json={"id": co, "name": f"Load {co}", "functional_currency": "CNY"}))
        await ok(c.put(f"{u.gl}/v1/companies/{co}/exchange-rates",
                       json=[{"currency": "USD", "rate_date": MONTH.isoformat(), "rate": "7.1"}]))
        for code in CUSTOMERS:
            await ok(c.put(f"{u.ar}/v1/customers/{code}", json={"company_id": co, "code": code, "name": code,
                                                               "credit_limit": "100000000000.00"}))
        await ok(c.put(f"{u.ar}/v1/customers/KUSD", json={"company_id": co, "code": "KUSD", "name": "US buyer",
                                                         "currency": "USD", "credit_limit": "100000000000.00"}))
        for code, method in ITEMS.items():
            await ok(c.post(f"{u.inventory}/v1/items", json={"company_id": co, "code": code, "name": code,
                                                             "costing_method": method}))
        await ok(c.post(f"{u.inventory}/v1/warehouses", json={"company_id": co, "code": "W1", "name": "Main"}))
        await ok(c.post(f"{u.inventory}/v1/receipts", json={
            "company_id": co, "movement_date": MONTH.isoformat(), "warehouse": "W1", "partner": "S-SETUP",
            "reference": "OPENING",
            "lines": [{"item": i, "quantity": "1000000", "unit_cost": "10.00"} for i in ITEMS]}))
        await ok(c.put(f"{u.budget}/v1/budget-items/OFFICE", json={"company_id": co, "name": "Office",
                                                                   "accounts": ["6602"]}))
        v = await ok(c.post(f"{u.budget}/v1/budget-versions", json={"company_id": co, "code": "B1", "currency": "CNY",
                                                                     "description": "load"}))
        await ok(c.post(f"{u.budget}/v1/budget-versions/{v['id']}/lines", json={"lines": [
            {"cost_centre": "ADMIN", "budget_item": "OFFICE", "period": f"{MONTH:%Y-%m}", "amount": "1000000000.00",
             "control_mode": "block", "tolerance_pct": "0"}]}))
        await ok(c.post(f"{u.budget}/v1/budget-versions/{v['id']}/approve"))
        await ok(c.put(f"{u.ap}/v1/suppliers/S1", json={"company_id": co, "name": "Paper Co.", "currency": "CNY",
                                                        "payment_terms": "NET30"}))

    # --- the business ------------------------------------------------------------------
    def _day(self) -> str:
        return (MONTH + dt.timedelta(days=self.rnd.randrange(2, 28))).isoformat()

    def plan(self, seq: int) -> tuple[str, dict]:
        """The seq-th transaction, drawn from the seeded generator (no I/O: runs repeat)."""
        r = self.rnd
        kind = r.choices(list(self.mix), weights=list(self.mix.values()))[0]
        if kind == "ship_rest" and not self.open_orders:
            kind = "order_and_ship"
        if kind == "return" and not self.shipped:
            kind = "stock_receipt"
        args: dict = {"day": self._day()}
        if kind == "stock_receipt":
            args["lines"] = [{"item": i, "quantity": str(r.randint(5, 50)),
                              "unit_cost": f"{r.randint(800, 1200) / 100:.2f}"} for i in r.sample(list(ITEMS), 2)]
        elif kind == "order_and_ship":
            lines = [(i, r.randint(2, 10)) for i in r.sample(list(ITEMS), r.randint(1, 2))]
            args.update(crm=f"CRM-{self.seed}-{seq}", customer=r.choice(CUSTOMERS), lines=lines,
                        prices={i: f"{r.randint(1500, 3000) / 100:.2f}" for i, _ in lines})
        elif kind == "ship_rest":
            args["order"] = self.open_orders.pop(r.randrange(len(self.open_orders)))
        elif kind == "return":
            args["shipped"] = self.shipped[r.randrange(len(self.shipped))]
        elif kind == "customer_receipt":
            args.update(customer=r.choice(CUSTOMERS), amount=f"{r.randint(1000, 20000) / 100:.2f}")
        elif kind == "fx_invoice":
            args["amount"] = f"{r.randint(1000, 50000) / 100:.2f}"
        elif kind == "expense_invoice":
            args["amount"] = f"{r.randint(1000, 30000) / 100:.2f}"
        elif kind == "manual_journal":
            args["amount"] = f"{r.randint(100, 10000) / 100:.2f}"
        if kind == "order_and_ship":
            # half of each line now, the rest in a later transaction (partial shipments)
            self.open_orders.append((args["crm"], [(i, q - q // 2) for i, q in args["lines"]]))
        return kind, args

    async def run_txn(self, c: httpx.AsyncClient, t: Txn, args: dict) -> None:
        u, co = self.urls, self.company
        document = None  # the document the transaction's events carry, when not the last answer's number
        try:
            if t.kind == "stock_receipt":
                r = await c.post(f"{u.inventory}/v1/receipts", json={
                    "company_id": co, "movement_date": args["day"], "warehouse": "W1", "partner": "S1",
                    "reference": f"PO-{t.seq}", "lines": args["lines"]})
            elif t.kind == "order_and_ship":
                so = await c.post(f"{u.ar}/v1/sales-orders", json={
                    "company_id": co, "crm_order_id": args["crm"], "customer_code": args["customer"],
                    "order_date": MONTH.isoformat(), "lines": [
                        {"item_code": i, "description": i, "quantity": str(q), "unit_price": args["prices"][i],
                         "tax_code": "VAT13"} for i, q in args["lines"]]})
                if so.status_code != 201:
                    r = so
                else:
                    r = await c.post(f"{u.inventory}/v1/issues", json={
                        "company_id": co, "movement_date": args["day"], "warehouse": "W1",
                        "partner": args["customer"], "reference": args["crm"],
                        "lines": [{"item": i, "quantity": str(q // 2)} for i, q in args["lines"] if q // 2]})
            elif t.kind == "ship_rest":
                crm, lines = args["order"]
                r = await c.post(f"{u.inventory}/v1/issues", json={
                    "company_id": co, "movement_date": (MONTH + dt.timedelta(days=27)).isoformat(), "warehouse": "W1",
                    "partner": "K", "reference": crm, "lines": [{"item": i, "quantity": str(q)} for i, q in lines]})
            elif t.kind == "return":
                crm, movement = args["shipped"]
                r = await c.post(f"{u.inventory}/v1/returns", json={
                    "company_id": co, "movement_date": (MONTH + dt.timedelta(days=28)).isoformat(), "warehouse": "W1",
                    "partner": "K", "reference": crm,
                    "lines": [{"item": movement[0], "quantity": "1", "returns_movement_id": movement[1]}]})
            elif t.kind == "customer_receipt":
                r = await c.post(f"{u.ar}/v1/receipts", json={
                    "company_id": co, "customer_code": args["customer"], "receipt_date": args["day"],
                    "amount": args["amount"]})
            elif t.kind == "fx_invoice":
                r = await c.post(f"{u.ar}/v1/invoices", json={
                    "company_id": co, "customer_code": "KUSD", "currency": "USD", "issue_date": args["day"],
                    "lines": [{"description": "Export service", "quantity": "1", "unit_price": args["amount"],
                               "tax_code": "VAT0"}]})
            elif t.kind == "expense_invoice":
                r = await c.post(f"{u.ap}/v1/supplier-invoices", json={
                    "company_id": co, "kind": "expense", "supplier_code": "S1",
                    "supplier_invoice_number": f"P-{self.seed}-{t.seq}", "invoice_date": args["day"],
                    "expense_lines": [{"description": "Paper", "amount": args["amount"], "tax_code": "VAT13",
                                       "cost_centre": "ADMIN", "budget_item": "OFFICE"}]})
                if r.status_code == 201:
                    number = r.json().get("number", "")
                    r = await c.post(f"{u.ap}/v1/supplier-invoices/{r.json()['id']}/approve")
                    document = number
            else:  # manual_journal
                d = await c.post(f"{u.gl}/v1/manual-journals", json={
                    "company_id": co, "posting_date": args["day"], "description": f"accrual {t.seq}",
                    "lines": [{"account": "6602", "debit": args["amount"], "dimensions": {"cost_centre": "ADMIN"}},
                              {"account": "2241", "credit": args["amount"]}]})
                r = d if d.status_code != 201 else await c.post(
                    f"{u.gl}/v1/manual-journals/{d.json()['id']}/post", headers=self.approver)
            t.accepted, t.status = time.time(), r.status_code
            if r.status_code not in (200, 201):
                t.error = r.text[:300]
                return
            body = r.json()
            t.document = document or body.get("number") or ""
            if t.kind == "order_and_ship":
                self.shipped += [(args["crm"], (ln["item"], ln["movement_id"])) for ln in body.get("lines", [])
                                 if ln.get("movement_id")]
            if t.document:
                self.by_doc[t.document] = t
        except httpx.HTTPError as exc:
            t.accepted, t.error = time.time(), f"{type(exc).__name__}: {exc}"

    # --- observing -----------------------------------------------------------------------
    async def tail(self, stop: asyncio.Event) -> None:
        """Every record of the company's documents (see `tail`, the module function)."""
        await tail([self], self.kafka, stop)

    def observe(self, rec, env) -> None:
        """One record of this company's: the first publication per document, and the ledger's
        JournalPosted (its commit time) per source event."""
        msg = env.payload
        if rec.topic == "finance.gl.events.v1":
            if env.type.startswith("finance.gl.JournalPosted"):
                at = env.time.timestamp()
                self.journals.append(at)
                doc = self._doc_of_event.get(msg.source_event_id) or (
                    msg.document_number if msg.document_number in self.by_doc else None)
                if doc is None:
                    self._pending_journals[msg.source_event_id] = at
                else:
                    self._journal(doc, at)
            return
        doc = msg.document_number
        self._doc_of_event[env.id] = doc
        t = self.by_doc.get(doc)
        if t is not None and t.published is None:
            t.published = rec.timestamp / 1000
            t.event_ids.append(env.id)
        if env.id in self._pending_journals:
            self._journal(doc, self._pending_journals.pop(env.id))

    def _journal(self, doc: str, at: float) -> None:
        t = self.by_doc.get(doc)
        if t is not None and (t.journal is None or at < t.journal):
            t.journal = at

    async def poll_statement(self, c: httpx.AsyncClient, stop: asyncio.Event, every: float = 0.25) -> None:
        while not stop.is_set():
            r = await c.get(f"{self.urls.gl}/v1/trial-balance", params={"company": self.company, "as_of": "2026-12-31"})
            if r.status_code == 200:
                self.tb_reads.append((time.time(), r.json()["journals"]))
            await asyncio.sleep(every)

    def attribute_statements(self) -> None:
        """The k-th journal committed is in the first trial balance that counted k journals."""
        order = sorted(self.journals)
        reads = sorted(self.tb_reads)
        rank = {}
        for k, at in enumerate(order, 1):
            rank.setdefault(at, k)
        for t in self.txns:
            if t.journal is None:
                continue
            k = rank.get(t.journal)
            t.statement = next((when for when, n in reads if n >= (k or 10**12) and when >= t.journal), None)

    # --- the run -------------------------------------------------------------------------
    async def run(self, drain_s: float = 120) -> dict:
        return (await run_loads([self], drain_s=drain_s))[0]

    async def drive(self, c: httpx.AsyncClient, t0: float, wall0: float, offset: float = 0.0) -> None:
        """Start the transactions on the fixed schedule (rate/s from t0 + offset); wait for their answers."""
        n = int(self.rate * self.duration)
        tasks = []
        for seq in range(n):
            at = t0 + offset + seq / self.rate
            delay = at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.1:
                self.late_starts += 1
            kind, args = self.plan(seq)
            t = Txn(kind, seq, time.time(), scheduled=wall0 + offset + seq / self.rate, expects_journal=True)
            self.txns.append(t)

            async def go(t=t, args=args):
                async with self.sem:
                    t.start = time.time()
                    await self.run_txn(c, t, args)

            tasks.append(asyncio.create_task(go()))
        await asyncio.gather(*tasks)

    def drained(self) -> bool:
        return all(t.journal is not None for t in self.txns if t.document and t.status in (200, 201))

    def summary(self, load_s: float) -> dict:
        return {"company": self.company, **summarize(self.txns, rate=self.rate, duration=self.duration,
                                                     load_s=load_s, late_starts=self.late_starts),
                "seed": self.seed}

    def records(self) -> list[dict]:
        return [asdict(t) for t in self.txns]


async def tail(loads: list[Load], kafka: str, stop: asyncio.Event) -> None:
    """One reader of the topics for every load (each record decoded once, then handed to the
    load of its company)."""
    by_company = {ld.company: ld for ld in loads}
    c = AIOKafkaConsumer(*TOPICS, bootstrap_servers=kafka, group_id=None, enable_auto_commit=False,
                         auto_offset_reset="latest")
    await c.start()
    try:
        while not stop.is_set():
            batch = await c.getmany(timeout_ms=200, max_records=5000)
            for recs in batch.values():
                for rec in recs:
                    try:
                        env = decode_record(rec.topic, rec.key, rec.value, rec.headers)
                    except EnvelopeError:
                        continue
                    ld = by_company.get(getattr(env.payload, "company_id", ""))
                    if ld is not None:
                        ld.observe(rec, env)
    finally:
        await c.stop()


async def run_loads(loads: list[Load], drain_s: float = 120) -> list[dict]:
    """Run several loads at once (one company each, each at its own rate, their schedules
    interleaved), sharing one HTTP client and one topic reader; wait for the ledger to drain
    (up to `drain_s`), then each load's summary. Spreading a rate over companies is how the
    design scales: partitions are keyed by document and a company's postings serialise on
    its own rows only."""
    limits = httpx.Limits(max_connections=64 * len(loads), max_keepalive_connections=64 * len(loads))
    async with httpx.AsyncClient(headers=loads[0].headers, timeout=60, limits=limits) as c:
        for ld in loads:
            await ld.setup(c)
        stop_observing = asyncio.Event()
        observers = [asyncio.create_task(tail(loads, loads[0].kafka, stop_observing))]
        observers += [asyncio.create_task(ld.poll_statement(c, stop_observing)) for ld in loads]
        await asyncio.sleep(1.0)  # the tail is at the end of the topics before the first request
        t0, wall0 = time.monotonic(), time.time()
        await asyncio.gather(*(ld.drive(c, t0, wall0, offset=i / (ld.rate * len(loads)))
                               for i, ld in enumerate(loads)))
        load_end = time.time()
        deadline = time.monotonic() + drain_s
        while time.monotonic() < deadline:
            if all(ld.drained() for ld in loads):
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(1.0)
        stop_observing.set()
        await asyncio.gather(*observers)
    for ld in loads:
        ld.attribute_statements()
    return [ld.summary(load_end - wall0) for ld in loads]


def pct(vals: list[float]) -> dict:
    """n, p50, p95, p99 and max of durations in seconds, in milliseconds."""
    if not vals:
        return {"n": 0}
    vals = sorted(vals)
    q = lambda p: vals[min(len(vals) - 1, int(p * len(vals)))] * 1000  # noqa: E731
    return {"n": len(vals), "p50_ms": round(statistics.median(vals) * 1000, 1), "p95_ms": round(q(0.95), 1),
            "p99_ms": round(q(0.99), 1), "max_ms": round(vals[-1] * 1000, 1)}


def summarize(txns: list[Txn], *, rate: float, duration: float, load_s: float, late_starts: int = 0) -> dict:
    ok = [t for t in txns if t.status in (200, 201)]
    return {
        "rate": rate, "duration_s": duration,
        "sent": len(txns), "accepted": len(ok), "refused": len(txns) - len(ok),
        "achieved_rate": round(len(txns) / load_s, 1) if load_s else None, "late_starts": late_starts,
        "by_kind": {k: sum(1 for t in txns if t.kind == k) for k in MIX},
        "errors": sorted({f"{t.kind} {t.status}: {t.error[:120]}" for t in txns if t.error})[:10],
        "without_journal": sum(1 for t in ok if t.journal is None),
        "api_accepted": pct([t.accepted - t.start for t in ok]),
        "api_to_event": pct([t.published - t.start for t in ok if t.published]),
        "event_to_journal": pct([t.journal - t.published for t in ok if t.published and t.journal]),
        "api_to_journal": pct([t.journal - t.start for t in ok if t.journal]),
        "api_to_statement": pct([t.statement - t.start for t in ok if t.statement]),
    }


def main() -> None:
    import argparse
    import os
    from pathlib import Path

    from fincore.auth import ALL_SCOPES, mint_token
    from fincore.settings import ServiceSettings

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rate", type=float, default=20, help="business transactions per second")
    p.add_argument("--duration", type=float, default=30, help="seconds of load")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--company", default=None, help="company id (default: a new LOAD-<seed>-xxxxxx)")
    p.add_argument("--companies", type=int, default=1,
                   help="spread the rate over this many new companies (seeds seed, seed+1, ...)")
    p.add_argument("--kafka", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))
    for svc, port in (("gl", 8001), ("ar", 8002), ("ap", 8003), ("inventory", 8004), ("budget", 8006)):
        p.add_argument(f"--{svc}-url", default=f"http://127.0.0.1:{os.environ.get(f'{svc.upper()}_HTTP_PORT', port)}")
    p.add_argument("--out", type=Path, default=None, help="write the summary and every transaction here (JSON)")
    a = p.parse_args()
    token = mint_token(ServiceSettings(), subject="finance-load", scopes=ALL_SCOPES, companies=["*"])
    approver = mint_token(ServiceSettings(), subject="finance-load-approver", scopes=ALL_SCOPES, companies=["*"])
    urls = Urls(a.gl_url, a.ar_url, a.ap_url, a.inventory_url, a.budget_url)
    loads = [Load(urls, token, approver, a.kafka, rate=a.rate / a.companies, duration=a.duration, seed=a.seed + i,
                  company=a.company if a.companies == 1 else None) for i in range(a.companies)]
    summaries = asyncio.run(run_loads(loads))
    print(json.dumps(summaries, indent=2, default=str))
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps({"summaries": summaries, "transactions": [r for ld in loads for r in ld.records()]},
                                    default=str))


if __name__ == "__main__":
    main()

