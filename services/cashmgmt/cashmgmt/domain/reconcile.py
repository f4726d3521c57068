"""Automatic reconciliation: what each bank statement line is.

Rules are data (cashmgmt/data/reconciliation.yaml), evaluated in order like the ledger's
posting rules; the first rule that has something to say about a line decides:

    - id: bank_charges
      action: charge              # charge | interest: recognised by the line alone
      direction: out              # in | out (money in / money out); absent: either
      bank_codes: [CHRG, CHG]     # any of the bank's transaction codes ...
      text: "(?i)fee|charge"      # ... or the reference/description matching this regex
    - id: settled_documents
      action: match               # match | receipt | customer_receipt: candidates scored
      kinds: [ap_payment, ar_receipt, ar_refund, transfer]
      auto_accept: 60             # best score at or above: accepted on its own ...
      review_from: 30             # ... from here up to it: to the review queue

Candidates are what the other contexts published (open invoices, receipts, payments,
refunds) and our own transfers. Each is scored, 0..100, on

- reference (50): the line's text names the document(s), and names no other;
- amount (30 exact; 20 a part of one document: partial payment);
- counterparty (15 IBAN known for the party; 10 the same name, 5 one name within the other);
- date distance (5 within 5 days, 3 within 15, -5 beyond 45).

One line may pay several documents (its reference names them all and the amounts add up:
one-to-many) or part of one (partial); a document may be paid by several lines (many-to-one:
each line takes what is still open). Never accepted on its own, whatever the score:

- a line whose reference names another document than the candidate (`wrong-reference`);
- a candidate of another party than the one the line's IBAN belongs to (`other-party`);
- an ambiguous best: another candidate within 10 points (two open invoices of one amount
  and no reference).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import yaml

ZERO = Decimal(0)
ACTIONS = ("charge", "interest", "match", "receipt", "customer_receipt")
KINDS = ("ar_invoice", "ar_receipt", "ar_refund", "ap_payment", "transfer")
AMBIGUITY_MARGIN = 10
RULES_FILE = Path(__file__).resolve().parent.parent / "data" / "reconciliation.yaml"
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-_./]*[A-Za-z0-9]|[A-Za-z0-9]")


class RuleError(ValueError):
    pass


@dataclass(frozen=True)
class Rule:
    id: str
    action: str
    direction: str = ""
    bank_codes: tuple[str, ...] = ()
    text: re.Pattern | None = None
    kinds: tuple[str, ...] = ()
    auto_accept: int = 80
    review_from: int = 40

    def applies_to(self, line: Line) -> bool:
        if self.direction and self.direction != line.direction:
            return False
        if self.action in ("charge", "interest"):
            code_hit = bool(self.bank_codes) and line.bank_code.upper() in self.bank_codes
            text_hit = self.text is not None and bool(self.text.search(f"{line.reference} {line.description}"))
            return code_hit or text_hit
        return True


def parse_rules(text: str) -> list[Rule]:
    raw = yaml.safe_load(text) or []
    if not isinstance(raw, list):
        raise RuleError("reconciliation rules are a list")
    rules, seen = [], set()
    for i, r in enumerate(raw):
        where = f"rule {r.get('id', i)!r}"
        if not r.get("id") or r["id"] in seen:
            raise RuleError(f"{where}: a unique id is needed")
        seen.add(r["id"])
        unknown = set(r) - {"id", "action", "direction", "bank_codes", "text", "kinds", "auto_accept", "review_from",
                            "description"}
        if unknown:
            raise RuleError(f"{where}: unknown keys {sorted(unknown)}")
        if r.get("action") not in ACTIONS:
            raise RuleError(f"{where}: action is one of {', '.join(ACTIONS)}")
        if r.get("direction", "") not in ("", "in", "out"):
            raise RuleError(f"{where}: direction is in or out")
        kinds = tuple(r.get("kinds") or ())
        if any(k not in KINDS for k in kinds):
            raise RuleError(f"{where}: kinds among {', '.join(KINDS)}")
        if r["action"] in ("match", "receipt") and not kinds:
            raise RuleError(f"{where}: a {r['action']} rule names the kinds of document it matches")
        if r["action"] in ("charge", "interest") and not (r.get("bank_codes") or r.get("text")):
            raise RuleError(f"{where}: a {r['action']} rule needs bank_codes or text")
        try:
            pattern = re.compile(r["text"]) if r.get("text") else None
        except re.error as exc:
            raise RuleError(f"{where}: text: {exc}") from exc
        auto, review = int(r.get("auto_accept", 80)), int(r.get("review_from", 40))
        if not 0 < review <= auto <= 100:
            raise RuleError(f"{where}: 0 < review_from <= auto_accept <= 100")
        rules.append(Rule(r["id"], r["action"], r.get("direction", ""),
                          tuple(str(c).upper() for c in r.get("bank_codes") or ()), pattern, kinds, auto, review))
    return rules


def load_rules(path: Path = RULES_FILE) -> list[Rule]:
    return parse_rules(path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Line:
    id: int
    bank_account: str
    amount: Decimal  # money in positive
    currency: str
    booking_date: dt.date
    reference: str = ""
    counterparty_name: str = ""
    counterparty_iban: str = ""
    description: str = ""
    bank_code: str = ""

    @property
    def direction(self) -> str:
        return "in" if self.amount > 0 else "out"


@dataclass
class OpenItem:
    """A document whose money is expected on the bank: `open` is what is still to come (money
    in positive: an invoice or a receipt; negative: a payment, a refund, a transfer out)."""

    key: str  # kind:document_id[:leg]
    kind: str
    document_id: str
    number: str
    party: str  # customer or supplier code ("" for a transfer)
    currency: str
    open: Decimal
    date: dt.date
    references: tuple[str, ...] = ()
    bank_account: str = ""  # where it is expected, when the document says


@dataclass
class Party:
    kind: str  # customer | supplier
    code: str
    name: str
    ibans: set[str] = field(default_factory=set)
    currency: str = ""  # what AR/AP keep the party's documents in ("" when not published)


@dataclass(frozen=True)
class Candidate:
    items: tuple[str, ...]  # item keys
    amounts: tuple[Decimal, ...]  # what the line pays of each (same sign as the line)
    score: int
    reasons: tuple[str, ...]
    flags: tuple[str, ...] = ()
    party: str = ""


@dataclass(frozen=True)
class Decision:
    rule: str
    action: str
    status: str  # auto | review | none
    candidates: tuple[Candidate, ...] = ()
    party: str = ""  # customer_receipt: the customer


def _norm(s: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", s.upper())


def _name_words(s: str) -> frozenset[str]:
    return frozenset(w for w in re.sub(r"[^0-9a-z ]", " ", s.lower()).split()
                     if w not in {"ltd", "gmbh", "co", "inc", "llc", "sa", "ag", "limited", "the", "company"})


class Book:
    """The candidates of one company and currency, indexed for scoring many lines."""

    def __init__(self, items: list[OpenItem], parties: list[Party], accounts: frozenset[str] = frozenset()) -> None:
        self.items = {i.key: i for i in items}
        self.accounts = accounts  # the company's bank account codes (a document naming another is elsewhere)
        self.by_ref: dict[str, list[str]] = defaultdict(list)
        self.by_amount: dict[Decimal, list[str]] = defaultdict(list)
        for i in items:
            for ref in {_norm(r) for r in (i.number, *i.references) if r}:
                if len(ref) >= 4:
                    self.by_ref[ref].append(i.key)
            self.by_amount[i.open].append(i.key)
        self.parties = {p.code: p for p in parties}
        self.by_iban = {iban: p.code for p in parties for iban in p.ibans}

    def settle(self, key: str, amount: Decimal) -> None:
        item = self.items[key]
        old = item.open
        item.open -= amount
        self.by_amount[old].remove(key)
        if item.open != 0:
            self.by_amount[item.open].append(key)

    def named(self, line: Line) -> list[str]:
        """Keys of the documents the line's text names, in the order named."""
        out: list[str] = []
        for tok in _TOKEN.findall(f"{line.reference} {line.description}"):
            for key in self.by_ref.get(_norm(tok), ()):
                if key not in out:
                    out.append(key)
        return out

    def line_party(self, line: Line) -> str:
        if line.counterparty_iban and line.counterparty_iban in self.by_iban:
            return self.by_iban[line.counterparty_iban]
        return ""

    def name_score(self, line: Line, party: str) -> int:
        """10: the same name (legal forms and punctuation aside); 5: one name within the other."""
        p = self.parties.get(party)
        if p is None or not line.counterparty_name:
            return 0
        a, b = _name_words(line.counterparty_name), _name_words(p.name)
        if not a or not b:
            return 0
        return 10 if a == b else 5 if a <= b or b <= a else 0

    def customer_by_name(self, line: Line) -> str:
        """The one customer whose name is the line's counterparty name (else "")."""
        hits = [p.code for p in self.parties.values() if p.kind == "customer" and self.name_score(line, p.code) == 10]
        return hits[0] if len(hits) == 1 else ""


def _usable(book: Book, item: OpenItem, line: Line, kinds: tuple[str, ...]) -> bool:
    elsewhere = item.bank_account in book.accounts and item.bank_account != line.bank_account
    return (item.kind in kinds and item.currency == line.currency and item.open != 0
            and (item.open > 0) == (line.amount > 0) and not elsewhere)


def _score(book: Book, line: Line, keys: tuple[str, ...], amounts: tuple[Decimal, ...], named: list[str],
           line_party: str) -> Candidate:
    items = [book.items[k] for k in keys]
    score, reasons, flags = 0, [], []
    if named and set(keys) <= set(named):
        ids = {i.document_id for i in items}
        others = [k for k in named if book.items[k].document_id not in ids and book.items[k].kind == items[0].kind]
        if others:
            flags.append("wrong-reference")
        else:
            score += 50
            reasons.append("reference")
    elif named:
        flags.append("wrong-reference")
    total = sum(amounts, ZERO)
    if total == line.amount and all(a == i.open for a, i in zip(amounts, items, strict=True)):
        score += 30
        reasons.append("amount")
    elif total == line.amount:
        score += 20
        reasons.append("partial")
    party = items[0].party
    if line_party and party and line_party != party:
        flags.append("other-party")
    elif line_party and line_party == party:
        score += 15
        reasons.append("iban")
    elif (n := book.name_score(line, party)) > 0:
        score += n
        reasons.append("name")
    days = min(abs((line.booking_date - i.date).days) for i in items)
    score += 5 if days <= 5 else 3 if days <= 15 else 0 if days <= 45 else -5
    return Candidate(keys, amounts, max(0, min(100, score)), tuple(reasons), tuple(flags), party)


def candidates(book: Book, line: Line, rule: Rule, limit: int = 10) -> list[Candidate]:
    named = book.named(line)
    line_party = book.line_party(line)
    found: dict[tuple[str, ...], Candidate] = {}
    # the documents the reference names (one-to-many when they add up; partial when the line pays less)
    refs = [k for k in named if _usable(book, book.items[k], line, rule.kinds)]
    by_party: dict[str, list[str]] = defaultdict(list)
    for k in refs:
        by_party[book.items[k].party].append(k)
    for keys in by_party.values():
        left, take = line.amount, []
        for k in keys:
            if left == 0:
                break
            open_ = book.items[k].open
            part = min(open_, left) if line.amount > 0 else max(open_, left)
            take.append((k, part))
            left -= part
        whole = all(part == book.items[k].open for k, part in take)
        if take and left == 0 and (whole or rule.action == "receipt"):  # only invoices are paid in parts
            ks, amts = tuple(k for k, _ in take), tuple(a for _, a in take)
            found[ks] = _score(book, line, ks, amts, named, line_party)
    # documents of the same amount
    for k in book.by_amount.get(line.amount, ())[:50]:
        if (k,) not in found and _usable(book, book.items[k], line, rule.kinds):
            found[(k,)] = _score(book, line, (k,), (line.amount,), named, line_party)
    ranked = sorted(found.values(), key=lambda c: (-c.score, c.items))
    return [c for c in ranked if c.score >= rule.review_from or c.flags][:limit]


def decide(book: Book, line: Line, rules: list[Rule]) -> Decision:
    """What the first rule with something to say makes of the line (nothing is changed)."""
    for rule in rules:
        if not rule.applies_to(line):
            continue
        if rule.action in ("charge", "interest"):
            return Decision(rule.id, rule.action, "auto")
        if rule.action == "customer_receipt":
            if line.amount <= 0:
                continue
            party = book.line_party(line) or book.customer_by_name(line)
            if party and book.parties[party].kind == "customer":
                other = book.parties[party].currency
                if other and other != line.currency:
                    # AR keeps the customer's receipts in its currency: never published as theirs
                    # (AR could not book it); a person decides, the reason beside the line
                    why = (f"customer {party} pays in {other}; this line is in {line.currency}",)
                    return Decision(rule.id, rule.action, "review",
                                    (Candidate((), (), 0, why, ("other-currency",), party),), party)
                return Decision(rule.id, rule.action, "auto", party=party)
            continue
        cands = candidates(book, line, rule)
        if not cands:
            continue
        best = cands[0]
        ambiguous = len(cands) > 1 and cands[1].score > best.score - AMBIGUITY_MARGIN
        if best.score >= rule.auto_accept and not best.flags and not ambiguous:
            return Decision(rule.id, rule.action, "auto", (best,), best.party)
        if best.score >= rule.review_from or best.flags:
            return Decision(rule.id, rule.action, "review", tuple(cands), best.party)
    return Decision("", "", "none")
