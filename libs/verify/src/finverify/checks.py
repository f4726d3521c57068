"""The invariants, as pure functions over what the public APIs and topics answered.

Each check takes a company's snapshot (the API answers as JSON, unchanged) and returns the
breaches it found, each naming the company, the invariant and the object that is wrong, so
an operator can go straight to it. Nothing here does I/O: `finverify.read` fills the
snapshots, and the unit tests feed deliberately broken ones.

I1 every journal balances (its lines, its header; the company's total per currency)
I2 every event the ledger reads has exactly one effect: a journal, a parking, a dead letter
   with its reason, or a record that it needed none, which the posting rules must bear out
   (finverify.rules: no rule for its type, or every amount of its rule zero)
I3 no source event is posted twice (one journal per event id; an event id never carries two
   different payloads unless the second went to the dead-letter queue)
I4 the stored period balances equal the sum of their lines, and so do the stored balances per
   counterparty (account, counterparty, transaction currency, month) on the accounts the
   chart keeps by a counterparty
I5 consumer lag is zero once the load stops (finverify.read waits for it)
I6 nothing is posted into a closed period (the year-end closing journal excepted)
I7 each sub-ledger equals its control account: AR open items = receivables, AP open items =
   payables (what is owed to employees: other payables), inventory valuation = inventory
   accounts, budget actuals = the ledger's spend on budgeted accounts, and (once cash
   management serves it) reconciled bank = bank account. On AR and AP a difference that is
   exactly what the ledger has not posted for that party (events it parked or dead-lettered,
   their amounts by the posting rules) is explained: reported with its reconciling items
   (`Snapshot.explained`), not a breach.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from finverify.rules import PostingRules

ZERO = Decimal(0)
INVARIANTS = ("I1", "I2", "I3", "I4", "I5", "I6", "I7")
AP_INVOICE = "finance.ap.InvoiceApproved."


@dataclass(frozen=True)
class Breach:
    invariant: str  # I1..I7
    company: str
    subject: str  # what is wrong: a journal number, an account and period, a customer...
    detail: str

    def key(self) -> tuple[str, str, str]:
        return self.invariant, self.company, self.subject

    def __str__(self) -> str:
        return f"{self.invariant} {self.company} {self.subject}: {self.detail}"


@dataclass(frozen=True)
class Event:
    """One record of a topic the ledger reads (decoded from its CloudEvents headers)."""

    id: str
    type: str
    company: str
    topic: str
    partition: int
    offset: int
    payload_digest: str  # sha256 of the record's value: two copies of an id must carry one payload
    payload: Any = field(default=None, compare=False, repr=False)  # the decoded message (None: not decoded)


@dataclass
class Snapshot:
    """One company, as the public APIs answer. `None`: that service was not read (not
    running, or not asked for); its checks are then reported as not run, never as passed."""

    company: dict  # GL /v1/companies item: id, functional_currency, roles
    journals: list[dict] = field(default_factory=list)  # GL /v1/journals items
    lines: list[dict] = field(default_factory=list)  # GL /v1/journal-lines items
    period_balances: list[dict] = field(default_factory=list)  # GL /v1/period-balances items
    counterparty_balances: list[dict] | None = None  # GL /v1/counterparty-balances items (None: not served)
    counterparty_totals: list[dict] | None = None  # GL /v1/counterparty-totals items (None: not served)
    periods: dict | None = None  # GL /v1/companies/{c}/periods
    events: list[Event] | None = None  # from the topics the ledger reads
    effects: dict[str, dict] | None = None  # GL /v1/event-effects items by event id
    receivables: list[dict] | None = None  # GL /v1/balances?by=customer on the receivables account
    payables: list[dict] | None = None  # GL /v1/balances?by=supplier on the payables and other payables accounts
    inventory_balances: list[dict] | None = None  # GL /v1/balances on the inventory accounts
    ar_ageing: dict | None = None  # AR /v1/ageing
    ap_ageing: dict | None = None  # AP /v1/ageing
    valuation: dict | None = None  # inventory /v1/valuation
    budget_items: list[dict] | None = None  # budget /v1/budget-items
    budget_report: dict | None = None  # budget /v1/reports/budget-vs-actual (per line)
    budget_actuals: list[dict] | None = None  # budget /v1/actuals
    bank: dict | None = None  # cash management: reconciled balance per bank account (hook, see check_bank)
    rules: PostingRules | None = None  # GL /v1/rules: what each event is due (I2: handled without a journal)
    # Filled by the checks: differences they found and explained (I7's reconciling items:
    # sub-ledger documents whose events the ledger parked or dead-lettered), reported, not breaches.
    explained: list[Breach] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.company["id"]

    @property
    def currency(self) -> str:
        return self.company["functional_currency"]

    def role_accounts(self, *roles: str) -> list[str]:
        return sorted({self.company["roles"][r] for r in roles if r in self.company.get("roles", {})})


def D(x) -> Decimal:  # noqa: N802 - reads as the type it makes
    return Decimal(str(x)) if x not in (None, "") else ZERO


# --- I1 ---------------------------------------------------------------------------------
def check_balanced(s: Snapshot) -> list[Breach]:
    out: list[Breach] = []
    by_journal: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for ln in s.lines:
        t = by_journal[ln["journal_id"]]
        t[0] += D(ln["debit"])
        t[1] += D(ln["credit"])
        if D(ln["debit"]) < 0 or D(ln["credit"]) < 0 or (D(ln["debit"]) and D(ln["credit"])):
            out.append(Breach("I1", s.id, f"line {ln['journal_id']}#{ln['line_no']}",
                              f"a line is a debit or a credit, never both or negative: {ln['debit']}/{ln['credit']}"))
    headers = {j["id"]: j for j in s.journals}
    for jid, j in headers.items():
        dr, cr = by_journal.get(jid, [ZERO, ZERO])
        name = f"journal {j['number']}"
        if jid not in by_journal:
            out.append(Breach("I1", s.id, name, "has no lines"))
        elif dr != cr:
            out.append(Breach("I1", s.id, name, f"lines do not balance: debits {dr} != credits {cr}"))
        elif (D(j["total_debit"]), D(j["total_credit"])) != (dr, cr):
            out.append(Breach("I1", s.id, name, f"header {j['total_debit']}/{j['total_credit']} != lines {dr}/{cr}"))
        if j["currency"] != s.currency:
            out.append(Breach("I1", s.id, name, f"in {j['currency']}, not the functional {s.currency}"))
    for jid in sorted(set(by_journal) - set(headers)):
        out.append(Breach("I1", s.id, f"journal id {jid}", "lines without a journal"))
    dr = sum((D(ln["debit"]) for ln in s.lines), ZERO)
    cr = sum((D(ln["credit"]) for ln in s.lines), ZERO)
    if dr != cr:
        out.append(Breach("I1", s.id, f"books in {s.currency}", f"debits {dr} != credits {cr}"))
    return out


# --- I2 ---------------------------------------------------------------------------------
def check_effects(s: Snapshot) -> list[Breach]:
    if s.events is None or s.effects is None:
        return []
    out: list[Breach] = []
    payloads: dict[str, set[str]] = defaultdict(set)
    for e in s.events:
        payloads[e.id].add(e.payload_digest)
    for eid in sorted(payloads):
        ev = next(e for e in s.events if e.id == eid)
        where = f"event {eid} ({ev.type.split('.')[-2] if ev.type.count('.') >= 2 else ev.type}, " \
                f"{ev.topic}[{ev.partition}]@{ev.offset})"
        eff = s.effects.get(eid)
        if eff is None:
            out.append(Breach("I2", s.id, where, "the ledger was not asked about it"))
            continue
        journals = eff.get("journals", [])
        parked = eff.get("parked")
        pending_dl = [d for d in eff.get("dead_letters", []) if not d.get("replayed")]
        effects = []
        if journals:
            effects.append(f"{len(journals)} journal(s)")
        if parked and not parked.get("resolved"):
            effects.append(f"parked ({parked.get('reason')})")
        if pending_dl:
            effects.append(f"{len(pending_dl)} dead letter(s)")
        if not eff.get("handled") and not journals and not pending_dl and not parked:
            out.append(Breach("I2", s.id, where, "no effect: never handled, parked or dead-lettered (lost)"))
        elif not journals and not pending_dl and not parked and len(payloads[eid]) == 1 \
                and (due := _due(s, ev)).journal:
            # recorded as handled with nothing to show for it, where the rules post it: lost
            out.append(Breach("I2", s.id, where, f"handled without a journal, a parking or a dead letter, "
                                                 f"but {due.why} (lost posting)"))
        elif len(payloads[eid]) > 1 and pending_dl and len(journals) + bool(parked) <= 1:
            pass  # a second payload under a posted id: the first posted (or parked), the conflict dead-lettered
        elif len(effects) > 1 or len(journals) > 1:
            out.append(Breach("I2", s.id, where, f"more than one effect: {', '.join(effects)}"))
        elif parked and parked.get("resolved") and not journals:
            out.append(Breach("I2", s.id, where, f"parking resolved ({parked.get('resolution')}) but no journal"))
        for d in pending_dl:
            if not d.get("error"):
                out.append(Breach("I2", s.id, where, f"dead letter #{d.get('id')} without a reason"))
    return out


def _due(s: Snapshot, ev: Event):
    """What the rules say of an event recorded without an effect. Without the rules (not read)
    every event is taken as due: the check never passes what it could not check."""
    from finverify.rules import Due

    if s.rules is None:
        return Due(True, "the posting rules were not read")
    return s.rules.due(ev.type, ev.payload)


# --- I3 ---------------------------------------------------------------------------------
def check_posted_once(s: Snapshot) -> list[Breach]:
    out: list[Breach] = []
    seen: dict[str, list[str]] = defaultdict(list)
    for j in s.journals:
        eid = (j.get("source") or {}).get("event_id")
        if eid:
            seen[eid].append(j["number"])
    for eid, numbers in sorted(seen.items()):
        if len(numbers) > 1:
            out.append(Breach("I3", s.id, f"event {eid}", f"posted {len(numbers)} times: {', '.join(sorted(numbers))}"))
    if s.events is not None:
        digests: dict[str, set[str]] = defaultdict(set)
        for e in s.events:
            digests[e.id].add(e.payload_digest)
        for eid, ds in sorted(digests.items()):
            if len(ds) < 2:
                continue
            eff = (s.effects or {}).get(eid, {})
            if not eff.get("dead_letters"):
                out.append(Breach("I3", s.id, f"event {eid}", f"published with {len(ds)} different payloads; "
                                                              "the ledger kept one silently (no dead letter)"))
    return out


# --- I4 ---------------------------------------------------------------------------------
def check_period_balances(s: Snapshot) -> list[Breach]:
    sums: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for ln in s.lines:
        t = sums[(ln["account"], ln["posting_date"][:7])]
        t[0] += D(ln["debit"])
        t[1] += D(ln["credit"])
    stored = {(b["account"], b["period"]): (D(b["debit"]), D(b["credit"])) for b in s.period_balances}
    out = []
    for key in sorted(set(sums) | set(stored)):
        lines = tuple(sums.get(key, (ZERO, ZERO)))
        kept = stored.get(key, (ZERO, ZERO))
        if lines != kept:
            out.append(Breach("I4", s.id, f"account {key[0]} {key[1]}",
                              f"period balance {kept[0]}/{kept[1]} != lines {lines[0]}/{lines[1]}"))
    return out + check_counterparty_balances(s)


def check_counterparty_balances(s: Snapshot) -> list[Breach]:
    """Per account kept by a counterparty (the company's `by_counterparty`: account ->
    dimension), counterparty, transaction currency and month: debit, credit and the
    transaction amount stored equal the sum of the lines; and so do the totals over all months."""
    if s.counterparty_balances is None:
        return []
    kept_by = s.company.get("by_counterparty") or {}
    sums: dict[tuple[str, str, str, str], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO, ZERO])
    for ln in s.lines:
        dim = kept_by.get(ln["account"])
        if dim is None:
            continue
        t = sums[(ln["account"], ln.get("dimensions", {}).get(dim, ""), ln["txn_currency"], ln["posting_date"][:7])]
        t[0] += D(ln["debit"])
        t[1] += D(ln["credit"])
        t[2] += D(ln["txn_amount"])
    stored: dict[tuple[str, str, str, str], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO, ZERO])
    for b in s.counterparty_balances:
        t = stored[(b["account"], b["counterparty"], b["currency"], b["period"])]
        t[0] += D(b["debit"])
        t[1] += D(b["credit"])
        t[2] += D(b["txn_amount"])
    out = []
    for key in sorted(set(sums) | set(stored)):
        lines, kept = sums.get(key, [ZERO] * 3), stored.get(key, [ZERO] * 3)
        if lines != kept:
            account, who, cur, period = key
            out.append(Breach("I4", s.id, f"account {account} {who or '(none)'} {cur} {period}",
                              f"balance per counterparty {kept[0]}/{kept[1]} ({cur} {kept[2]}) != lines "
                              f"{lines[0]}/{lines[1]} ({cur} {lines[2]})"))
    if s.counterparty_totals is None:
        return out
    totals: dict[tuple[str, str, str], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO, ZERO])
    for (account, who, cur, _), v in sums.items():
        t = totals[(account, who, cur)]
        t[0], t[1], t[2] = t[0] + v[0], t[1] + v[1], t[2] + v[2]
    stored_totals: dict[tuple[str, str, str], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO, ZERO])
    for b in s.counterparty_totals:
        t = stored_totals[(b["account"], b["counterparty"], b["currency"])]
        t[0], t[1], t[2] = t[0] + D(b["debit"]), t[1] + D(b["credit"]), t[2] + D(b["txn_amount"])
    for key in sorted(set(totals) | set(stored_totals)):
        lines, kept = totals.get(key, [ZERO] * 3), stored_totals.get(key, [ZERO] * 3)
        if lines != kept:
            account, who, cur = key
            out.append(Breach("I4", s.id, f"account {account} {who or '(none)'} {cur} all months",
                              f"total per counterparty {kept[0]}/{kept[1]} ({cur} {kept[2]}) != lines "
                              f"{lines[0]}/{lines[1]} ({cur} {lines[2]})"))
    return out


# --- I5 ---------------------------------------------------------------------------------
def check_lag(lag: dict[str, dict[str, int]]) -> list[Breach]:
    """`lag`: consumer group -> "topic[partition]" -> records not yet handled, read after
    the load stopped and the wait for it to drain ran out."""
    return [Breach("I5", "*", f"group {g} {tp}", f"{n} record(s) not handled")
            for g, parts in sorted(lag.items()) for tp, n in sorted(parts.items()) if n > 0]


# --- I6 ---------------------------------------------------------------------------------
def _stamp(x: str) -> dt.datetime:
    return dt.datetime.fromisoformat(x.replace("Z", "+00:00"))


def check_closed_periods(s: Snapshot) -> list[Breach]:
    """A journal's period was closed when it was posted: the last close/reopen of that
    period before the journal's posted_at was a close. The year-end closing journal alone
    goes into the year's closed last month."""
    if s.periods is None:
        return []
    history: dict[str, list[tuple[dt.datetime, bool]]] = defaultdict(list)
    for a in s.periods.get("audit", []):
        closed = a["action"] in ("closed", "year_end_closed")
        if a["action"] in ("closed", "reopened", "year_end_closed"):
            history[a["period"]].append((_stamp(a["at"]), closed))
    out = []
    for j in s.journals:
        if j.get("kind") == "closing" or j["period"] not in history:
            continue
        at = _stamp(j["posted_at"])
        before = [closed for when, closed in sorted(history[j["period"]]) if when <= at]
        if before and before[-1]:
            out.append(Breach("I6", s.id, f"journal {j['number']}",
                              f"posted {j['posted_at']} into {j['period']}, closed at the time"))
    return out


# --- I7 ---------------------------------------------------------------------------------
def _compare(out: list[Breach], company: str, subject: str, sub_ledger: Decimal, ledger: Decimal, what: str,
             unposted: Unposted | None = None) -> None:
    """A breach when the sub-ledger and the ledger differ, unless the difference is exactly
    what the ledger has not posted yet (`unposted`: the sub-ledger's documents whose events it
    parked or dead-lettered): then the difference is explained, and reported as such on
    `unposted.snapshot`, each reconciling item named."""
    if sub_ledger == ledger:
        return
    detail = f"{what}: sub-ledger {sub_ledger} != ledger {ledger} (difference {sub_ledger - ledger})"
    if unposted is None:
        out.append(Breach("I7", company, subject, detail))
    elif sub_ledger - ledger == unposted.amount:
        unposted.snapshot.explained.append(Breach("I7", company, subject, f"{detail}, explained by "
                                                  f"{unposted.describe()}"))
    else:
        out.append(Breach("I7", company, subject, f"{detail}; not yet posted: {unposted.describe()} "
                                                  f"({unposted.amount}), which does not explain it"))


@dataclass
class Unposted:
    """A party's sub-ledger documents (in one currency) that the ledger has not posted: their
    events parked (unresolved) or dead-lettered (not replayed), none with a journal."""

    snapshot: Snapshot
    amount: Decimal = ZERO  # in the sub-ledger's sign: what the ledger will add once they post
    items: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return f"{len(self.items)} event(s) not posted: " + "; ".join(self.items)


def _unposted(s: Snapshot, roles: set[str], party: str, sign: int) -> dict[tuple[str, str], Unposted]:
    """By (party, currency): what the events the ledger parked or dead-lettered would post to
    the accounts of `roles`, by the posting rules (GL /v1/rules) applied to their payloads
    (read from the topics). Without the topics or the rules nothing is explained."""
    if s.events is None or s.effects is None or s.rules is None:
        return {}
    out: dict[tuple[str, str], Unposted] = {}
    seen: set[str] = set()
    for e in s.events:
        eff = s.effects.get(e.id) or {}
        if e.id in seen or eff.get("journals"):
            continue
        parked = eff.get("parked")
        dead = [d for d in eff.get("dead_letters", []) if not d.get("replayed")]
        if parked and not parked.get("resolved"):
            why = f"parked: {parked.get('reason')}"
        elif dead:
            why = f"dead-lettered: {dead[0].get('error')}"
        else:
            continue
        seen.add(e.id)
        for a in s.rules.amounts_on(e.type, e.payload, roles, party):
            u = out.setdefault((a.party, a.currency or s.currency), Unposted(s))
            u.amount += sign * a.amount
            number = getattr(e.payload, "document_number", "") or e.id
            u.items.append(f"{e.type.split('.')[-2]} {number} {sign * a.amount} ({why})")
    return out


def _by_party(rows: Iterable[dict], party: str, sign: int) -> dict[tuple[str, str], Decimal]:
    out: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for r in rows:
        out[(r.get(party, ""), r["currency"])] += sign * D(r["balance"])
    return out


def check_receivables(s: Snapshot) -> list[Breach]:
    """AR: each customer's open invoices less its credit (unapplied cash and credit memos),
    in the customer's currency = the ledger's receivables for that customer in that currency."""
    if s.ar_ageing is None or s.receivables is None:
        return []
    ar: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    currencies = {}
    for c in s.ar_ageing.get("customers", []):
        cur = c.get("currency") or _currency_of(c, s)
        currencies[c["customer"]] = cur
        ar[(c["customer"], cur)] += D(c["net"])
    gl = _by_party(s.receivables, "customer", 1)
    unposted = _unposted(s, {"receivables"}, "customer", 1)
    out: list[Breach] = []
    for key in sorted(set(ar) | set(gl) | set(unposted)):
        _compare(out, s.id, f"customer {key[0] or '(none)'} {key[1]}", ar.get(key, ZERO), gl.get(key, ZERO),
                 "AR open items - credit vs receivables", unposted.get(key))
    return out


def _currency_of(row: dict, s: Snapshot) -> str:
    return s.currency


def check_payables(s: Snapshot) -> list[Breach]:
    """AP: each supplier's approved invoices less payments and discounts, per currency = the
    ledger's payables for that supplier in that currency (a credit balance). What AP owes its
    employees (expense claims) is in the ledger's other payables; that account also holds what
    is no supplier's (bank suspense, accruals), which is not AP's: its lines without a
    supplier are left out."""
    if s.ap_ageing is None or s.payables is None:
        return []
    ap: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for r in s.ap_ageing.get("suppliers", []):
        ap[(r["supplier"], r["currency"])] += D(r["total"])
    other = set(s.role_accounts("other_payables")) - set(s.role_accounts("payables"))
    gl = _by_party([r for r in s.payables if r.get("supplier") or r["account"] not in other], "supplier", -1)
    unposted = _unposted(s, {"payables", "other_payables"}, "supplier", -1)
    out: list[Breach] = []
    for key in sorted(set(ap) | set(gl) | set(unposted)):
        _compare(out, s.id, f"supplier {key[0] or '(none)'} {key[1]}", ap.get(key, ZERO), gl.get(key, ZERO),
                 "AP open items vs payables", unposted.get(key))
    return out


def check_inventory(s: Snapshot) -> list[Breach]:
    """Inventory: the valuation (every item and warehouse) = the inventory accounts."""
    if s.valuation is None or s.inventory_balances is None:
        return []
    value = sum((D(x["value"]) for x in s.valuation.get("lines", [])), ZERO)
    ledger = sum((D(r["functional_balance"]) for r in s.inventory_balances), ZERO)
    accounts = ", ".join(sorted({r["account"] for r in s.inventory_balances})) or "none posted"
    out: list[Breach] = []
    _compare(out, s.id, f"inventory ({accounts})", value, ledger, "valuation vs inventory accounts")
    return out


def check_budget(s: Snapshot) -> list[Breach]:
    """Budget: per budget line, the actuals charged from journal lines = the ledger's lines on
    the item's accounts with the line's cost centre in the line's month; the report's actual
    = the sum of the line's actuals; an actual without an account (a stock purchase made
    actual by its invoice's journal) names a journal of an approved AP invoice."""
    if s.budget_items is None or s.budget_report is None or s.budget_actuals is None:
        return []
    out: list[Breach] = []
    item_of = {a: i["code"] for i in s.budget_items for a in i.get("accounts", [])}
    budget_lines = {(r["cost_centre"], r["budget_item"], r["period"]): r for r in s.budget_report.get("rows", [])}
    ledger: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
    for ln in s.lines:
        item, cc = item_of.get(ln["account"]), ln.get("dimensions", {}).get("cost_centre")
        key = (cc, item, ln["posting_date"][:7])
        if item and cc and key in budget_lines:
            ledger[key] += D(ln["debit"]) - D(ln["credit"])
    from_lines: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
    every: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
    journals = {j["id"]: j for j in s.journals}
    for a in s.budget_actuals:
        key = (a["cost_centre"], a["budget_item"], a["period"])
        every[key] += D(a["amount"])
        if a["account"]:
            from_lines[key] += D(a["amount"])
            continue
        j = journals.get(a["journal_id"])
        if j is None:
            out.append(Breach("I7", s.id, f"budget {'/'.join(key)}",
                              f"actual {a['amount']} names journal {a['journal_id']}, which the ledger does not have"))
        elif not (j.get("source") or {}).get("event_type", "").startswith(AP_INVOICE):
            out.append(Breach("I7", s.id, f"budget {'/'.join(key)}",
                              f"actual {a['amount']} without an account from journal {j['number']}, "
                              "which is not an approved AP invoice's"))
    for key in sorted(set(ledger) | set(from_lines), key=str):
        _compare(out, s.id, f"budget {'/'.join(map(str, key))}", from_lines.get(key, ZERO), ledger.get(key, ZERO),
                 "actuals from journal lines vs the ledger's spend on the item's accounts")
    for key, row in sorted(budget_lines.items()):
        _compare(out, s.id, f"budget {'/'.join(key)} report", D(row["actual"]), every.get(key, ZERO),
                 "the report's actual vs the line's actuals")
    return out


def check_bank(s: Snapshot) -> list[Breach]:
    """Reconciled bank = bank account. Cash management serves each bank account's reconciled
    balance (its last statement's closing balance, less the lines not yet reconciled, plus
    the documents booked but not yet on a statement: /v1/reconciliation/bank-balances) and the
    GL account it maps to; `finverify.read` fills `Snapshot.bank` as {"accounts": [{"code",
    "currency", "gl_account", "reconciled_balance"}], "ledger": [GL /v1/balances rows]} and
    this compares them per ledger account and currency."""
    if s.bank is None:
        return []
    out: list[Breach] = []
    ledger = defaultdict(lambda: ZERO)
    for r in s.bank.get("ledger", []):
        ledger[(r["account"], r["currency"])] += D(r["balance"])
    sub = defaultdict(lambda: ZERO)
    for a in s.bank.get("accounts", []):
        sub[(a["gl_account"], a["currency"])] += D(a["reconciled_balance"])
    for key in sorted(set(sub) | set(ledger)):
        _compare(out, s.id, f"bank {key[0]} {key[1]}", sub.get(key, ZERO), ledger.get(key, ZERO),
                 "reconciled bank vs bank account")
    return out


SUB_LEDGERS: dict[str, Callable[[Snapshot], list[Breach]]] = {
    "receivables": check_receivables, "payables": check_payables, "inventory": check_inventory,
    "budget": check_budget, "bank": check_bank,
}
CHECKS: dict[str, Callable[[Snapshot], list[Breach]]] = {
    "I1": check_balanced, "I2": check_effects, "I3": check_posted_once, "I4": check_period_balances,
    "I6": check_closed_periods,
    "I7": lambda s: [b for f in SUB_LEDGERS.values() for b in f(s)],
}


def not_run(s: Snapshot) -> list[str]:
    """The checks that had nothing to read for this company (said in the report)."""
    missing = []
    if s.events is None or s.effects is None:
        missing.append("I2 (topics not read)")
    if s.periods is None:
        missing.append("I6 (periods not read)")
    for name, fields in (("receivables", ("ar_ageing", "receivables")), ("payables", ("ap_ageing", "payables")),
                         ("inventory", ("valuation", "inventory_balances")),
                         ("budget", ("budget_items", "budget_report", "budget_actuals")), ("bank", ("bank",))):
        if any(getattr(s, f) is None for f in fields):
            missing.append(f"I7 {name}")
    return missing


def run_checks(s: Snapshot, only: Iterable[str] = INVARIANTS) -> list[Breach]:
    only = set(only)
    return [b for name, check in CHECKS.items() if name in only for b in check(s)]
