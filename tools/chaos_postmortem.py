"""A kept chaos run's post-mortem (CHAOS_KEEP=1, tests/e2e/test_chaos.py): for one company
(and optionally one customer), every AR document that moves receivables, followed through
AR's outbox, the topic, the GL's inbox and the GL's journals by event id, with the amount
each side holds. A document whose receivable the ledger does not hold as AR does is printed
with where its trail stops.

    .venv/bin/python tools/chaos_postmortem.py .run/e2e/<run>/chaos-infra LOAD-16-abcdef [K02]

It starts the run's kept PostgreSQL (the command in KEPT.txt) and stops it again at the end."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import psycopg
from fincore import money
from fincore.events.registry import registry

# in the document's currency, as AR holds it (a foreign currency's lines carry it)
AMOUNT = "sum(CASE WHEN l.txn_currency = '' THEN l.debit - l.credit ELSE l.txn_amount END)"
RECEIVABLE_EVENTS = {"InvoiceIssued": 1, "CreditMemoIssued": -1, "PaymentReceived": -1, "RefundPaid": 1,
                     "BadDebtWrittenOff": -1}


def main() -> None:
    infra, company = Path(sys.argv[1]), sys.argv[2]
    customer = sys.argv[3] if len(sys.argv) > 3 else None
    kept = (infra / "KEPT.txt").read_text()
    start = re.search(r"start it: (.*)", kept).group(1)
    stop = re.search(r"stop it:  (.*)", kept).group(1)
    m = re.search(r"databases: (.*) on (postgresql://\S+/)", kept)
    dbs, base = m.group(1).split(", "), m.group(2)
    url = {d.rsplit("_", 1)[1]: base + d for d in dbs}
    subprocess.run(start, shell=True, check=True)
    try:
        report(infra, company, customer, url)
    finally:
        subprocess.run(stop, shell=True, check=False)


def report(infra: Path, company: str, customer: str | None, url: dict[str, str]) -> None:
    topic_ids: dict[str, list[str]] = defaultdict(list)
    for f in (infra / "topics").glob("finance.ar.events.v1.jsonl"):
        for row in map(json.loads, f.read_text().splitlines()):
            topic_ids[row["headers"].get("ce_id", "")].append(f"{row['partition']}@{row['offset']}")
    with psycopg.connect(url["ar"]) as ar:
        outbox = ar.execute("SELECT event_id, ce_type, payload, id IN (SELECT id FROM outbox_pending) "
                            "FROM outbox ORDER BY id").fetchall()
        ageing_open = dict(ar.execute(
            "SELECT i.number, i.gross_total - coalesce((SELECT sum(amount) FROM receipt_application a "
            "WHERE a.invoice_id = i.id), 0) - coalesce((SELECT sum(applied) FROM credit_memo m "
            "WHERE m.invoice_id = i.id), 0) FROM invoice i WHERE company_id = %s", (company,)).fetchall())
    docs = []  # (customer, document, type, event id, AR's effect on receivables, pending)
    for event_id, ce_type, payload, pending in outbox:
        short = ce_type.split(".")[-2]
        if short not in RECEIVABLE_EVENTS:
            continue
        msg = registry.by_type(ce_type).message_class.FromString(bytes(payload))
        if msg.company_id != company or (customer and msg.customer_code != customer):
            continue
        amount = msg.gross_total if short in ("InvoiceIssued", "CreditMemoIssued") else msg.amount
        docs.append((msg.customer_code, msg.document_number, short, event_id,
                     RECEIVABLE_EVENTS[short] * money.from_proto(amount), pending))
    with psycopg.connect(url["gl"]) as gl:
        inbox = {r[0] for r in gl.execute("SELECT event_id FROM inbox WHERE consumer = 'gl-posting'").fetchall()}
        receivable = defaultdict(Decimal)
        for eid, amt in gl.execute(
                f"SELECT j.source_event_id, {AMOUNT} FROM journal j JOIN journal_line l "
                "ON l.journal_id = j.id WHERE j.company_id = %s AND l.account_code = '1122' "
                "GROUP BY j.source_event_id", (company,)).fetchall():
            receivable[eid] += amt
        journals = defaultdict(list)
        for eid, number in gl.execute("SELECT source_event_id, number FROM journal WHERE company_id = %s",
                                      (company,)).fetchall():
            journals[eid].append(number)
        dead = {r[0]: r[1] for r in gl.execute("SELECT event_id, error FROM dead_letter").fetchall()}
        parked = {r[0]: r[1] for r in gl.execute("SELECT event_id, reason FROM parked_event").fetchall()}
        by_customer = dict(gl.execute(
            f"SELECT customer, {AMOUNT} FROM journal_line l WHERE company_id = %s AND account_code = '1122' "
            "GROUP BY customer", (company,)).fetchall())
    totals: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    bad = 0
    for cust, doc, kind, eid, ar_amount, pending in sorted(docs):
        gl_amount = receivable.get(eid, Decimal(0))
        totals[cust][0] += ar_amount
        totals[cust][1] += gl_amount
        if gl_amount == ar_amount and len(journals.get(eid, [])) == 1:
            continue
        bad += 1
        trail = [f"outbox {'pending' if pending else 'published'}", f"topic={topic_ids.get(eid) or 'ABSENT'}",
                 f"gl inbox={'yes' if eid in inbox else 'no'}", f"journals={journals.get(eid) or 'none'}",
                 f"parked={parked.get(eid)}", f"dead letter={dead.get(eid)}"]
        print(f"{cust} {doc} {kind} {eid}: AR {ar_amount} vs GL {gl_amount}; open in AR "
              f"{ageing_open.get(doc, '-')}\n    " + "; ".join(trail))
    for cust, (a, g) in sorted(totals.items()):
        print(f"customer {cust}: AR documents {a} / GL journals of them {g} / GL receivables {by_customer.get(cust)}")
    print(f"{len(docs)} AR documents, {bad} without their receivable in the ledger")


if __name__ == "__main__":
    main()
