"""Posting rules as data: which event makes which journal lines.

A rule file (gl/data/rules/*.yaml) holds rules like::

    - id: ar.invoice_issued
      version: 1
      effective_from: 2000-01-01
      effective_to: 2026-10-31               # optional: the last day this version is in force
      event: finance.ar.InvoiceIssued.v1
      when: {customer_group: [INTERCO]}      # optional: field -> value or list of values
      lines:
        - debit: receivables                 # a chart role, or an account code
          amount: gross_total                # path to a Money field of the event
          dimensions: {customer: customer_code}
        - credit: revenue
          each: lines                        # one journal line per element of a repeated field
          amount: net                        # paths are relative to the element ...
          account_by: {field: item_category, map: {SERVICE: other_revenue}}
          dimensions: {customer: ^customer_code}   # ... and ^ reaches the event itself

A negative amount posts on the other side; a zero amount posts no line. The `dimensions`
message of the event and of each element are carried to the lines automatically.
`account_from: gl_account` posts to the account code the event names in that field, when it
names one: the line's account or one of its sub-accounts (a bank account's 100201 under
bank 1002); any other code refuses the event.
`bank_account: bank_account` posts to the ledger sub-account of the bank account (cash
management's code) the event names in that field, as cash management opened it
(BankAccountOpened: the GL keeps code -> sub-account per company, `bank_accounts` below);
an event that names no bank account posts to the line's account. One that names a code the
ledger has not learned yet waits for it (`await_bank_accounts`: AwaitingBankAccount, the
event parked until BankAccountOpened arrives), so a bank line never lands on the parent
account because two topics were read out of order. So AR's receipts and AP's payments land
on the sub-account the bank's statement is reconciled against, and the mapping has one
home: the bank account in cash management.

Open items (gl/domain/settlement.py): `opens: invoice_id` tags a control-account line with
the document whose balance it opens; `settles: invoice_id` relieves that document at its
carrying amount instead of converting at the event's rate, and the rule's `@balance` line
(on `fx_gain_loss`) takes the realised exchange difference. A condition value `"@present"`
matches a message field that is set or a repeated field that is not empty, `"@absent"` the
opposite (so a rule for itemised settlements leaves older events, which lack the items, to
a rule that posts them as before).

Rules are validated when loaded (start-up): known event type, known roles in every chart,
paths that exist on the message. The versions of one rule id cover consecutive date ranges:
version n+1 starts the day after version n ends, so exactly one version is in force on any
date from the first one's `effective_from` (only the last may be open-ended or end, retiring
the rule); overlapping or gapped versions refuse to load. For one event the rule applied is
the matching rule whose version is in force on the event's date, so a rule change applies to
events from its effective date, and every journal records the rule id and version that made it.
"""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import yaml
from finance.common.v1 import types_pb2
from fincore import dates, fieldpaths, money
from fincore.events.registry import registry
from fincore.fieldpaths import ABSENT, PRESENT, Conditions, FieldPathError, resolve, text_getter, value_getter
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from gl.domain.cashflow import ITEMS as CASH_FLOW_ITEMS
from gl.domain.chart import Chart
from gl.domain.journal import DIMENSIONS, DraftLine, JournalDraft
from gl.domain.postable import PostingRefused, UnknownAccount, check_lines
from gl.domain.settlement import AwaitingBankAccount, OpenItem, relieve

RULES_DIR = Path(__file__).resolve().parent.parent / "data" / "rules"


class RuleError(ValueError):
    """A rule file is invalid (raised at start-up, never while posting)."""


class NoRule(LookupError):
    """No rule matches the event."""



class NothingToPost(LookupError):
    """Every amount of the event is zero at the minor unit (an issue of a few grams whose cost
    rounds to 0.00): a valid fact with no journal. The posting consumer records it and moves on."""


class MissingRate(LookupError):
    """No exchange rate on or before the event's date for a currency it uses."""

    def __init__(self, currency: str, on: dt.date) -> None:
        super().__init__(f"no exchange rate for {currency} on or before {on.isoformat()}")
        self.currency, self.on = currency, on


BALANCE = "@balance"


@dataclass(frozen=True)
class LineSpec:
    side: str  # debit | credit
    account: str  # role or code
    amount: str
    each: str = ""
    account_by: tuple[str, dict[str, str]] | None = None
    dimensions: dict[str, str] = field(default_factory=dict)
    memo: str = ""
    cash_flow: str = ""
    subtract: str = ""
    opens: str = ""  # path to the id of the document whose open item this line opens
    settles: str = ""  # path to the id of the document whose open item this line relieves
    account_from: str = ""  # path to an account code the event names (a bank sub-account); empty: `account`
    bank_account: str = ""  # path to a bank account code (cash management's): its ledger sub-account


@dataclass(frozen=True)
class Rule:
    id: str
    version: int
    effective_from: dt.date
    event: str
    lines: tuple[LineSpec, ...]
    description: str = ""
    when: dict[str, tuple[str, ...]] = field(default_factory=dict)
    effective_to: dt.date | None = None  # None: open-ended

    def in_force(self, on: dt.date) -> bool:
        return self.effective_from <= on and (self.effective_to is None or on <= self.effective_to)

    def matches(self, msg: Message) -> bool:
        return self._conditions.matches(msg)

    @cached_property
    def _conditions(self) -> Conditions:
        """The `when` conditions compiled once for the event's type (fincore.fieldpaths: the
        checker reads them the same way)."""
        return Conditions(self.when, registry.by_type(self.event).message_class.DESCRIPTOR)

    @cached_property
    def settles(self) -> bool:
        return any(spec.settles for spec in self.lines)

    @property
    def tracks(self) -> bool:
        """Does the rule keep open items (a line that opens or settles one)?"""
        return any(spec.settles or spec.opens for spec in self.lines)


class RuleBook:
    def __init__(self, rules: list[Rule]) -> None:
        check_versions(rules)
        self.rules = rules
        self._by_event: dict[str, list[Rule]] = {}
        self._by_key = {(r.id, r.version): r for r in rules}
        for r in rules:
            self._by_event.setdefault(r.event, []).append(r)
        for lst in self._by_event.values():
            lst.sort(key=lambda r: (r.effective_from, r.version), reverse=True)
        # Event types some rule of which settles open items (the others never do: no rule lookup)
        self.settling_types = {t for t, lst in self._by_event.items() if any(r.settles for r in lst)}
        self._plans: dict[tuple[int, int], tuple[Rule, Chart, _RulePlan]] = {}

    def plan(self, rule: Rule, chart: Chart) -> _RulePlan:
        """The rule compiled for the chart, once (the rule and chart are kept with it, so the
        ids that key it stay theirs)."""
        got = self._plans.get((id(rule), id(chart)))
        if got is None:
            got = self._plans[(id(rule), id(chart))] = (rule, chart, _RulePlan(rule, chart))
        return got[2]

    def version(self, rule_id: str, version: int) -> Rule | None:
        return self._by_key.get((rule_id, version))

    @property
    def event_types(self) -> list[str]:
        return sorted(self._by_event)

    def select(self, ce_type: str, msg: Message, on: dt.date) -> Rule:
        for rule in self._by_event.get(ce_type, []):
            if rule.in_force(on) and rule.matches(msg):
                return rule
        raise NoRule(f"no posting rule for {ce_type} on {on}")

    def tracking_rule(self, ce_type: str, msg: Message) -> Rule | None:
        """The first version that keeps open items of the rules matching the event (whatever its
        date): how a document posted before open items were tracked would have been itemised."""
        found = [r for r in self._by_event.get(ce_type, []) if r.tracks and r.matches(msg)]
        return min(found, key=lambda r: (r.effective_from, r.version)) if found else None

    def open_items_settled(self, ce_type: str, msg: Message) -> set[str]:
        """The documents whose open items the event's rule relieves (their balances are
        looked up before drafting)."""
        rule = self.select(ce_type, msg, dates.from_proto(msg.occurrence_date))
        out = set()
        for spec in rule.lines:
            if spec.settles:
                for item in (resolve(msg, msg, spec.each) if spec.each else [msg]):
                    if ref := fieldpaths.text(resolve(msg, item, spec.settles)):
                        out.add(ref)
        return out

    def draft(self, *, ce_type: str, msg: Message, chart: Chart, functional_currency: str,
              event_id: str = "", rates: Mapping[str, Decimal] | None = None,
              open_items: Mapping[str, OpenItem] | None = None, rule: Rule | None = None,
              bank_accounts: Mapping[str, str] | None = None,
              await_bank_accounts: bool = False) -> JournalDraft:
        """`rates`: functional units per unit of each foreign currency the event uses, at its date.
        `open_items`: the balances of the documents the event settles (missing ones are
        valued at the event's rate, as a document posted before open items were tracked).
        `rule`: draft by this rule instead of the one in force (gl.service.legacy itemises an
        older journal by the first version that keeps open items). `bank_accounts`: the
        company's bank account codes -> their ledger sub-accounts (for `bank_account` lines);
        `await_bank_accounts`: a code not among them raises AwaitingBankAccount (the ledger's
        posting: it waits for the account) instead of posting to the line's account."""
        posting_date = dates.from_proto(msg.occurrence_date)
        fx = _Fx(functional_currency, rates or {}, posting_date)
        rule = rule or self.select(ce_type, msg, posting_date)
        plan = self.plan(rule, chart)
        open_now = dict(open_items) if open_items else {}  # updated line by line: two lines may relieve one item
        lines: list[DraftLine] = []
        root_dims = plan.root_dims(msg)
        balancing: list[tuple[_LinePlan, Message]] = []
        for lp in plan.lines:
            spec = lp.spec
            for item in (lp.items(msg) if lp.items is not None else (msg,)):
                if lp.balance:
                    balancing.append((lp, item))
                    continue
                root, get = lp.amount
                amount, cur, txn = fx.convert(get(msg if root else item), spec.amount)
                if lp.subtract is not None:
                    root, get = lp.subtract
                    sub, _, sub_txn = fx.convert(get(msg if root else item), spec.subtract)
                    amount, txn = amount - sub, txn - sub_txn
                if lp.ref is not None:
                    root, get = lp.ref
                    ref = get(msg if root else item)
                    if spec.settles and ref and cur:
                        amount = _carrying(open_now, ref, spec.side, amount, txn, cur, fx, functional_currency)
                else:
                    ref = ""
                line = lp.line(msg, item, amount, root_dims, chart, functional_currency, cur, txn, ref, bank_accounts,
                               await_bank_accounts)
                if line is not None:
                    lines.append(line)
                    if spec.settles and ref in open_now:
                        open_now[ref] = open_now[ref].less(-line.txn_amount, line.credit - line.debit)
        for lp, item in balancing:
            # The amount that balances the journal, on this line's side (flipped if negative).
            net = sum((ln.debit - ln.credit for ln in lines), Decimal(0))
            amount = -net if lp.spec.side == "debit" else net
            line = lp.line(msg, item, amount, root_dims, chart, functional_currency)
            if line is not None:
                lines.append(line)
        if not lines:
            raise NothingToPost(f"{ce_type} {msg.document_number}: every amount is zero; nothing to post")
        lines = _absorb_rounding(lines, functional_currency) if fx.used else lines
        draft = JournalDraft(
            company_id=msg.company_id,
            posting_date=posting_date,
            currency=functional_currency,
            description=f"{rule.description or rule.id} {msg.document_number}".strip(),
            lines=tuple(lines),
            source_event_id=event_id,
            source_event_type=ce_type,
            source_document=msg.document_number,
            rule_id=rule.id,
            rule_version=rule.version,
        )
        try:
            check_lines(draft, chart, sub_ledger=True)  # the same check as every other journal
        except PostingRefused as exc:
            raise type(exc)(f"{exc} ({ce_type} {msg.document_number})") from exc
        return draft


def _code_or_none(chart: Chart, role_or_code: str) -> str | None:
    try:
        return chart.account_for(role_or_code)
    except KeyError:
        return None  # looked up again when a line posts there, which raises as before


class _RulePlan:
    """A rule compiled for one chart, once: which fields each line reads (attribute getters
    instead of parsing paths per event), the account codes its roles name in the chart, the
    memo templates and dimension paths, and whether the event and its items carry a
    `dimensions` message. The rule stays data; this is how it is read."""

    __slots__ = ("has_dims", "has_partner", "lines")

    def __init__(self, rule: Rule, chart: Chart) -> None:
        root = registry.by_type(rule.event).message_class.DESCRIPTOR
        self.has_dims = "dimensions" in root.fields_by_name
        self.has_partner = "intercompany_partner" in root.fields_by_name
        self.lines = tuple(_LinePlan(spec, chart, root) for spec in rule.lines)

    def root_dims(self, msg: Message) -> dict[str, str]:
        dims = _set_dims(msg.dimensions) if self.has_dims else {}
        if self.has_partner and (partner := msg.intercompany_partner):  # the customer's / supplier's group company
            dims["intercompany_partner"] = partner
        return dims


class _LinePlan:
    """One line of a rule, compiled for one chart (see `_RulePlan`)."""

    __slots__ = ("account_by", "account_from", "amount", "balance", "bank_account", "code", "dims", "item_dims",
                 "items", "memo", "ref", "spec", "subtract")

    def __init__(self, spec: LineSpec, chart: Chart, root: Descriptor) -> None:
        self.spec = spec
        self.balance = spec.amount == BALANCE
        self.items = value_getter(spec.each)[1] if spec.each else None
        item_desc = _field_of(root, spec.each, root).message_type if spec.each else root
        self.item_dims = spec.each and "dimensions" in item_desc.fields_by_name
        self.amount = None if self.balance else value_getter(spec.amount)
        self.subtract = value_getter(spec.subtract) if spec.subtract else None
        self.ref = (text_getter(spec.settles or spec.opens, item_desc, root) if (spec.settles or spec.opens)
                    else None)
        self.code = _code_or_none(chart, spec.account)
        self.account_by = None
        if spec.account_by:
            path, mapping = spec.account_by
            self.account_by = (text_getter(path, item_desc, root),
                               {k: _code_or_none(chart, v) for k, v in mapping.items()})
        self.account_from = text_getter(spec.account_from, item_desc, root) if spec.account_from else None
        self.bank_account = text_getter(spec.bank_account, item_desc, root) if spec.bank_account else None
        self.dims = tuple((dim, *text_getter(path, item_desc, root)) for dim, path in spec.dimensions.items())
        self.memo = tuple((literal, *(text_getter(f, item_desc, root) if f else (False, None)))
                          for literal, f in _template(spec.memo))

    def line(self, msg: Message, item: Message, amount: Decimal, root_dims: dict[str, str], chart: Chart,
             currency: str, txn_currency: str = "", txn_amount: Decimal = Decimal(0), open_item: str = "",
             bank_accounts: Mapping[str, str] | None = None, await_bank_accounts: bool = False) -> DraftLine | None:
        if amount == 0:
            return None
        spec = self.spec
        code = self.code
        if self.account_by is not None:
            (root, get), codes = self.account_by
            key = get(msg if root else item)
            if key in codes:
                code = codes[key]
                if code is None:
                    code = chart.account_for(spec.account_by[1][key])
        if code is None:
            code = chart.account_for(spec.account)
        if self.account_from is not None:
            root, get = self.account_from
            if named := get(msg if root else item):
                if named not in chart.accounts or not named.startswith(code):
                    raise UnknownAccount(f"{spec.account_from} {named!r} is no sub-account of {code} "
                                         f"in chart {chart.id}")
                code = named
        if self.bank_account is not None:
            root, get = self.bank_account
            if bank := get(msg if root else item):
                named = (bank_accounts or {}).get(bank)
                if named is None and await_bank_accounts:
                    raise AwaitingBankAccount(bank)
                if named is not None:
                    if named not in chart.accounts or not named.startswith(code):
                        raise UnknownAccount(f"bank account {bank!r} posts to {named}, no sub-account of {code} "
                                             f"in chart {chart.id}")
                    code = named
        dims = dict(root_dims)
        if self.item_dims and item is not msg:
            dims.update(_set_dims(item.dimensions))
        for dim, root, get in self.dims:
            if value := get(msg if root else item):
                dims[dim] = value
        debit_side = (spec.side == "debit") == (amount > 0)
        amount = abs(amount)
        memo = "".join([literal + get(msg if root else item) if get is not None else literal
                        for literal, root, get in self.memo])
        if not txn_currency:
            txn_amount = money.ZERO
        elif debit_side:
            txn_amount = abs(txn_amount)
        else:
            txn_amount = -abs(txn_amount)
        # positional (account, debit, credit, currency, memo, dimensions, cash flow item,
        # transaction currency and amount, open item): the hot path's call
        if debit_side:
            return DraftLine(code, amount, money.ZERO, currency, memo, dims, spec.cash_flow, txn_currency, txn_amount,
                             open_item)
        return DraftLine(code, money.ZERO, amount, currency, memo, dims, spec.cash_flow, txn_currency, txn_amount,
                         open_item)



def _carrying(items: dict[str, OpenItem], ref: str, side: str, amount: Decimal, txn: Decimal, cur: str,
              fx: _Fx, functional: str) -> Decimal:
    """A settling line's functional amount: the carrying amount of what it relieves of the
    open item (settlement.relieve), plus any excess over the item at the event's rate.
    `amount`/`txn` are the line's amounts at the event's rate, signed as the rule gives them."""
    open_item = items.get(ref)
    if txn == 0:
        return amount
    line_debit = (side == "debit") == (txn > 0)
    if open_item is None or open_item.currency != cur or open_item.txn == 0 or (open_item.txn > 0) == line_debit:
        return amount  # nothing open to relieve in this direction: the event's rate
    settled = abs(txn)
    relieved = abs(relieve(open_item, settled, functional))
    excess = settled - abs(open_item.txn)
    if excess > 0:
        relieved += money.quantize(excess * fx.rates[cur], functional)
    return relieved if amount >= 0 else -relieved


class _Fx:
    """Converts event amounts to the functional currency at the rates of the event's date."""

    def __init__(self, functional: str, rates: Mapping[str, Decimal], on: dt.date) -> None:
        self.functional, self.rates, self.on, self.used = functional, rates, on, False
        self._unit = money.quantum(functional)

    def convert(self, value: Any, path: str) -> tuple[Decimal, str, Decimal]:
        if not isinstance(value, types_pb2.Money):
            raise RuleError(f"{path} is not a Money field")
        cur = value.currency_code
        if not cur or cur == self.functional:  # money.quantize (half up) of a finite amount, inline
            return money.from_proto(value).quantize(self._unit, rounding=ROUND_HALF_UP), "", money.ZERO
        rate = self.rates.get(cur)
        if rate is None:
            raise MissingRate(cur, self.on)
        self.used = True
        txn = money.quantize(money.from_proto(value), cur)
        return money.quantize(txn * rate, self.functional), cur, txn


def _absorb_rounding(lines: list[DraftLine], currency: str) -> list[DraftLine]:
    """Lines converted one by one can miss balance by a few minor units; the difference goes
    to the largest line of the lighter side (as a bookkeeper would), never more than one
    minor unit per line."""
    dr = sum((ln.debit for ln in lines), Decimal(0))
    cr = sum((ln.credit for ln in lines), Decimal(0))
    diff = dr - cr
    if diff == 0 or abs(diff) > money.quantum(currency) * len(lines):
        return lines
    side = "credit" if diff > 0 else "debit"
    idx = max((i for i, ln in enumerate(lines) if getattr(ln, side)), key=lambda i: getattr(lines[i], side))
    ln = lines[idx]
    fixed = replace(ln, **{side: getattr(ln, side) + abs(diff)})
    return [*lines[:idx], fixed, *lines[idx + 1:]]


@cache
def _template(memo: str) -> tuple[tuple[str, str | None], ...]:
    """A memo template parsed once: (literal text, field path or None) pairs."""
    return tuple((literal, field) for literal, field, _, _ in string.Formatter().parse(memo))


def _set_dims(msg: Message) -> dict[str, str]:
    """The dimensions set on a Dimensions message (reading only the fields set)."""
    return {fd.name: value for fd, value in msg.ListFields() if value and fd.name in _DIMENSION_NAMES}


_DIMENSION_NAMES = frozenset(DIMENSIONS)


# --- loading and validation -------------------------------------------------------------

def _field_of(desc: Descriptor, path: str, root: Descriptor) -> FieldDescriptor:
    try:
        return fieldpaths.field_of(desc, path, root)
    except FieldPathError as exc:
        raise RuleError(str(exc)) from exc


def _parse(raw: dict, source: str, charts: list[Chart]) -> Rule:
    try:
        rid, version, event = raw["id"], int(raw["version"]), raw["event"]
        eff = _date(raw.get("effective_from", dt.date(1900, 1, 1)))
        eff_to = _date(raw["effective_to"]) if raw.get("effective_to") is not None else None
    except (KeyError, ValueError, TypeError) as exc:
        raise RuleError(f"{source}: rule {raw.get('id', '?')}: {exc}") from exc
    where = f"{source}: rule {rid} v{version}"
    if eff_to is not None and eff_to < eff:
        raise RuleError(f"{where}: effective_to {eff_to} is before effective_from {eff}")
    try:
        spec = registry.by_type(event)
    except KeyError as exc:
        raise RuleError(f"{where}: {exc}") from exc
    root = spec.message_class.DESCRIPTOR
    when = {}
    for path, values in (raw.get("when") or {}).items():
        fd = _field_of(root, path, root)
        values = values if isinstance(values, list) else [values]
        if values in ([PRESENT], [ABSENT]):
            when[path] = (values[0],)
            continue
        if fd.enum_type is not None:  # conditions name enum values; the message holds numbers
            try:
                values = [fd.enum_type.values_by_name[str(v)].number for v in values]
            except KeyError as exc:
                raise RuleError(f"{where}: {path}: no enum value {exc}") from exc
        when[path] = tuple(str(v) for v in values)
    lines = []
    for i, ln in enumerate(raw.get("lines") or []):
        sides = [s for s in ("debit", "credit") if s in ln]
        if len(sides) != 1:
            raise RuleError(f"{where}: line {i}: give exactly one of debit/credit")
        side = sides[0]
        desc = root
        each = ln.get("each", "")
        try:
            if each:
                fd = _field_of(root, each, root)
                if not fd.is_repeated or fd.message_type is None:
                    raise RuleError(f"{where}: each {each!r} is not a repeated message field")
                desc = fd.message_type
            for key in ("amount", "subtract"):
                if key not in ln or (key == "amount" and ln[key] == BALANCE):
                    continue
                fd = _field_of(desc, ln[key], root)
                if fd.message_type is None or fd.message_type.full_name != "finance.common.v1.Money":
                    raise RuleError(f"{where}: {key} {ln[key]!r} is not a Money field")
            if "account_from" in ln and _field_of(desc, ln["account_from"], root).type != FieldDescriptor.TYPE_STRING:
                raise RuleError(f"{where}: line {i}: account_from {ln['account_from']!r} is not a string field")
            if "bank_account" in ln and _field_of(desc, ln["bank_account"], root).type != FieldDescriptor.TYPE_STRING:
                raise RuleError(f"{where}: line {i}: bank_account {ln['bank_account']!r} is not a string field")
            account_by = None
            if "account_by" in ln:
                _field_of(desc, ln["account_by"]["field"], root)
                account_by = (ln["account_by"]["field"], {str(k): str(v) for k, v in ln["account_by"]["map"].items()})
            dims = dict(ln.get("dimensions") or {})
            for dim, path in dims.items():
                if dim not in DIMENSIONS:
                    raise RuleError(f"{where}: unknown dimension {dim!r}")
                _field_of(desc, path, root)
            try:
                memo_fields = [f for _, f in _template(ln.get("memo", "")) if f]
            except ValueError as exc:
                raise RuleError(f"{where}: line {i}: memo {ln['memo']!r}: {exc}") from exc
            for f in memo_fields:
                _field_of(desc, f, root)
            if "opens" in ln and "settles" in ln:
                raise RuleError(f"{where}: line {i}: a line opens or settles an item, not both")
            for key in ("opens", "settles"):
                if key in ln and _field_of(desc, ln[key], root).type != FieldDescriptor.TYPE_STRING:
                    raise RuleError(f"{where}: line {i}: {key} {ln[key]!r} is not a document id (string)")
            if ln.get("settles") and ln["amount"] == BALANCE:
                raise RuleError(f"{where}: line {i}: a settling line needs an amount")
        except KeyError as exc:
            raise RuleError(f"{where}: line {i}: missing {exc}") from exc
        targets = [ln[side], *(account_by[1].values() if account_by else [])]
        for chart in charts:
            for t in targets:
                try:
                    code = chart.account_for(t)
                except KeyError as exc:
                    raise RuleError(f"{where}: {exc}") from exc
                if chart.accounts[code].cash and not ln.get("cash_flow"):
                    raise RuleError(f"{where}: line {i} posts to cash account {code} ({chart.id}) "
                                    "without a cash_flow item")
        lines.append(LineSpec(side, str(ln[side]), ln["amount"], each, account_by, dims,
                              ln.get("memo", ""), ln.get("cash_flow", ""), ln.get("subtract", ""),
                              ln.get("opens", ""), ln.get("settles", ""), ln.get("account_from", ""),
                              ln.get("bank_account", "")))
    for x in lines:
        if x.cash_flow and x.cash_flow not in CASH_FLOW_ITEMS:
            raise RuleError(f"{where}: unknown cash_flow item {x.cash_flow!r}")
    if sum(1 for x in lines if x.amount == BALANCE) > 1:
        raise RuleError(f"{where}: at most one {BALANCE} line")
    if len(lines) < 2:
        raise RuleError(f"{where}: a rule needs at least two lines")
    if any(x.settles for x in lines) and not any(x.amount == BALANCE for x in lines):
        raise RuleError(f"{where}: a rule that settles open items needs a {BALANCE} line for the exchange difference")
    return Rule(rid, version, eff, event, tuple(lines), raw.get("description", ""), when, eff_to)


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, (dt.date, str)):
        raise ValueError(f"not a date: {value!r}")
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def check_versions(rules: list[Rule]) -> None:
    """The versions of each rule id, in version order, cover consecutive date ranges: exactly
    one version in force on any date from the first one's start (the last may be open-ended)."""
    by_id: dict[str, list[Rule]] = {}
    for r in rules:
        by_id.setdefault(r.id, []).append(r)
    for rid, versions in by_id.items():
        versions.sort(key=lambda r: r.version)
        for prev, nxt in zip(versions, versions[1:], strict=False):
            where = f"rule {rid}: v{prev.version} and v{nxt.version}"
            if prev.version == nxt.version:
                raise RuleError(f"rule {rid} v{prev.version} defined twice")
            if nxt.event != prev.event:
                raise RuleError(f"{where} post different events")
            if prev.effective_to is None:
                raise RuleError(f"{where} overlap: v{prev.version} has no effective_to "
                                f"(it should end on {nxt.effective_from - dt.timedelta(days=1)})")
            gap = (nxt.effective_from - prev.effective_to).days
            if gap < 1:
                raise RuleError(f"{where} overlap: v{prev.version} ends {prev.effective_to}, "
                                f"v{nxt.version} starts {nxt.effective_from}")
            if gap > 1:
                raise RuleError(f"{where} leave a gap: v{prev.version} ends {prev.effective_to}, "
                                f"v{nxt.version} starts {nxt.effective_from}")


def parse_rules(text: str, charts: list[Chart], source: str = "<candidate>") -> list[Rule]:
    try:
        raw_rules = yaml.safe_load(text) or []
    except yaml.YAMLError as exc:
        raise RuleError(f"{source}: not YAML: {exc}") from exc
    if not isinstance(raw_rules, list):
        raise RuleError(f"{source}: a rule file is a list of rules")
    return [_parse(raw, source, charts) for raw in raw_rules]


def load_rules(charts: list[Chart], directory: Path = RULES_DIR) -> RuleBook:
    rules: list[Rule] = []
    seen = set()
    for path in sorted(directory.glob("*.yaml")):
        for rule in parse_rules(path.read_text(encoding="utf-8"), charts, path.name):
            if (rule.id, rule.version) in seen:
                raise RuleError(f"{path.name}: rule {rule.id} v{rule.version} defined twice")
            seen.add((rule.id, rule.version))
            rules.append(rule)
    return RuleBook(rules)


def with_candidates(book: RuleBook, candidates: list[Rule]) -> RuleBook:
    """The book as it would be with candidate rules added, as if the files were edited: a
    candidate replaces the rule of the same id and version, and a candidate that is a new
    latest version ends the version before it (open-ended, or ending later) the day before
    it starts. The result is validated like the files (RuleError if versions overlap or
    leave a gap)."""
    keys = {(r.id, r.version) for r in candidates}
    kept = [r for r in book.rules if (r.id, r.version) not in keys]
    for cand in candidates:
        older = [r for r in kept if r.id == cand.id and r.version < cand.version]
        newer = [r for r in kept + candidates if r.id == cand.id and r.version > cand.version]
        if older and not newer:
            prev = max(older, key=lambda r: r.version)
            ends_later = prev.effective_to is None or prev.effective_to >= cand.effective_from
            if ends_later and prev.effective_from < cand.effective_from:
                kept[kept.index(prev)] = replace(prev, effective_to=cand.effective_from - dt.timedelta(days=1))
    return RuleBook(kept + list(candidates))
