"""Consolidation as at a day: the entities' translated trial balances plus consolidation journals,
each balanced and explained, never a plug.

`consolidate(group, movements, rates, as_of)` returns a cumulative consolidated trial balance:
balance-sheet accounts as at `as_of`, income and expenses summed since each entity joined the
group (a subsidiary from its acquisition, the parent over its whole history). Statements for a
period are the difference of two of them (statements.py), so what is realised, translated or
attributed once stays so.

The journals (each one kind, for one subsidiary or one pair of entities):
- acquisition: the subsidiary's equity at the acquisition (at that day's rate) and the parent's
  investment out; fair-value adjustments, goodwill (or a bargain-purchase gain) and NCI at their
  proportionate share of the net assets at fair value in (IFRS 3, simple case);
- retranslation: goodwill and fair-value adjustments are assets of the foreign operation
  (IAS 21.47), at the closing rate; the difference goes to the translation reserve;
- ownership change: a purchase or sale of shares that keeps control moves the NCI's carrying
  amount of the shares; what was paid beyond it goes to retained earnings (IFRS 10.23, B96);
- intercompany balances: every balance an entity holds with a partner in the group out; what
  does not cancel is shown as items in transit (documents on one side only, at the closing rate)
  and the exchange difference on the balances (the rest), by partner pair (`mismatches`);
- intercompany revenue against the buyer's cost of sales (and intercompany expenses such as fees);
- unrealised profit in inventory still held at the day, from the seller's profit;
- intercompany dividends against the parent's dividend income and the NCI;
- NCI share of profit and of OCI (the CTA), month by month at the ownership of the time.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from consolidation.domain.rates import Rates
from consolidation.domain.structure import (
    EXPENSE,
    GROUP_CHART,
    IC_BALANCE_ACCOUNTS,
    INCOME,
    PROFIT_OR_LOSS,
    Group,
    role,
)
from consolidation.domain.translation import BS, EQ, PL, ZERO, Movement, Prepared, Translated, q, translate


class UnbalancedJournal(AssertionError):
    pass


@dataclass(frozen=True)
class JLine:
    account: str  # group account
    entity: str
    amount: Decimal  # debit positive
    partner: str = ""
    memo: str = ""


@dataclass
class Journal:
    id: str
    kind: str
    title: str
    explanation: str
    lines: list[JLine] = field(default_factory=list)

    def add(self, account: str, entity: str, amount: Decimal, partner: str = "", memo: str = "") -> None:
        if amount:
            self.lines.append(JLine(account, entity, amount, partner, memo))

    def check(self) -> Journal:
        total = sum((ln.amount for ln in self.lines), ZERO)
        if total:
            raise UnbalancedJournal(f"consolidation journal {self.id} is off by {total}")
        return self


@dataclass(frozen=True)
class IcInventory:
    """Goods bought from another group entity still held at a period end (`on`): their amount at
    the transfer price in the holder's functional currency, and the seller's margin on them
    (a fraction of the transfer price)."""

    holder: str
    seller: str
    on: dt.date
    amount: Decimal
    margin: Decimal
    bought_on: dt.date | None = None  # the goods' purchase day: URP at its rate (else the period's average)


@dataclass
class Mismatch:
    """Intercompany balances of a pair that do not cancel in the presentation currency."""

    entity: str
    partner: str
    entity_total: Decimal
    partner_total: Decimal
    difference: Decimal
    in_transit: Decimal  # documents one side has and the other lacks, at the closing rate
    fx: Decimal  # the rest: the exchange difference between the two sides' books
    documents: list[dict] = field(default_factory=list)  # unmatched documents


@dataclass
class Consolidation:
    group: Group
    as_of: dt.date
    translated: dict[str, Translated]
    journals: list[Journal]
    mismatches: list[Mismatch]
    flows: dict[str, Decimal]
    warnings: list[str]
    _tb: dict[str, Decimal] | None = field(default=None, repr=False)

    def trial_balance(self) -> dict[str, Decimal]:
        """Group account -> debit-positive balance (computed once: a consolidation does not change)."""
        if self._tb is not None:
            return dict(self._tb)
        tb: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for t in self.translated.values():
            for ln in t.lines:
                tb[ln.group] += ln.pc
            tb[role("translation_reserve")] -= t.cta
        for j in self.journals:
            for ln in j.lines:
                tb[ln.account] += ln.amount
        self._tb = {k: v for k, v in sorted(tb.items()) if v}
        return dict(self._tb)

    def contributions(self, account: str) -> dict[str, list]:
        """Where a consolidated figure comes from: entity lines and consolidation journal lines."""
        entities = [ln for t in self.translated.values() for ln in t.lines if ln.group == account]
        if account == role("translation_reserve"):
            entities += [("cta", t.entity, -t.cta) for t in self.translated.values() if t.cta]
        journals = [(j, ln) for j in self.journals for ln in j.lines if ln.account == account]
        return {"entities": entities, "journals": journals}


def consolidate(group: Group, movements: dict[str, list[Movement]], rates: Rates, as_of: dt.date, *,
                ic_inventory: list[IcInventory] = (), prepared: dict[str, Prepared] | None = None) -> Consolidation:
    """`prepared`: a dict shared by the calls of one run (the end and the day before the start),
    so each entity's movements are mapped to the group chart once."""
    pres = group.presentation_currency
    parent = group.parent
    pid = parent.company_id
    warnings: list[str] = []
    prepared = {} if prepared is None else prepared
    for e in group.entities:
        if e.company_id not in prepared:
            prepared[e.company_id] = Prepared(e, movements.get(e.company_id, []))
    translated: dict[str, Translated] = {
        pid: translate(parent, prepared[pid], as_of=as_of, acquired_on=None, rates=rates, presentation=pres)}
    members = [pid]
    for sub in group.subsidiaries:
        acq = group.acquisition(sub.company_id)
        if acq.on > as_of:
            continue
        members.append(sub.company_id)
        translated[sub.company_id] = translate(
            sub, prepared[sub.company_id], as_of=as_of, acquired_on=acq.on, rates=rates, presentation=pres,
            changes=[c.on for c in group.changes_of(sub.company_id)])
    journals: list[Journal] = []
    flows: dict[str, Decimal] = defaultdict(lambda: ZERO)
    R = role  # noqa: N806 - reads as the chart's roles
    inventory = [i for i in ic_inventory if i.on == as_of and i.holder in members and i.seller in members]
    urp_of_seller: dict[str, Decimal] = defaultdict(lambda: ZERO)

    # Unrealised profit in inventory (needed before the NCI's share of profit: upstream sales).
    for item in inventory:
        holder = group.entity(item.holder)
        # The profit the seller recognised: at the rate of the purchase (the period's average when not given).
        rate = (rates.historical(holder.functional_currency, item.bought_on) if item.bought_on
                else rates.average(holder.functional_currency, f"{as_of.year:04d}-{as_of.month:02d}"))
        urp = q(item.amount * item.margin * rate, pres)
        j = Journal(f"urp:{item.seller}:{item.holder}", "unrealised_profit",
                    f"Unrealised profit in {item.holder}'s inventory bought from {item.seller}",
                    f"{item.holder} holds goods bought from {item.seller} "
                    f"at {item.amount} {holder.functional_currency} "
                    f"(transfer price) at {as_of}; {item.seller}'s margin on them is {_pct(item.margin)}, so "
                    f"{urp} {pres} of profit is not realised by the group: it comes off the seller's profit "
                    f"(cost of sales) and the holder's inventory.")
        j.add(R("cost_of_sales"), item.seller, urp, item.holder, "unrealised profit")
        j.add(R("inventory"), item.holder, -urp, item.seller, "unrealised profit")
        journals.append(j.check())
        urp_of_seller[item.seller] += urp

    for sub in group.subsidiaries:
        sid = sub.company_id
        if sid not in members:
            continue
        journals.extend(_subsidiary(group, sub, prepared[sid], translated, rates, as_of, flows,
                                    urp_of_seller[sid], warnings))

    # Lines and movements with a partner, by (entity, partner): pairs are read from these only.
    ic_lines: dict[tuple[str, str], list] = defaultdict(list)
    for e, t in translated.items():
        for ln in t.lines:
            if ln.partner:
                ic_lines[(e, ln.partner)].append(ln)
    ic_moves: dict[tuple[str, str], list[Movement]] = defaultdict(list)
    for e in members:
        for m in movements.get(e, ()):
            if m.partner and m.on <= as_of:
                ic_moves[(e, m.partner)].append(m)
    mismatches: list[Mismatch] = []
    for i, a in enumerate(members):
        for b in members[i + 1:]:
            if not (ic_lines.get((a, b)) or ic_lines.get((b, a))):
                continue
            j, mm = _ic_balances(group, a, b, ic_lines, ic_moves, rates, as_of)
            if j is not None:
                journals.append(j.check())
            if mm is not None:
                mismatches.append(mm)
            for seller, buyer in ((a, b), (b, a)):
                j = _ic_revenue(seller, buyer, ic_lines, pres)
                if j is not None:
                    journals.append(j.check())

    # The parent's own equity movements (its dividends, share issues) and the group's totals.
    for ln in translated[pid].lines:
        if ln.bucket == EQ and ln.group == R("retained_earnings"):
            flows["dividends_owners"] += ln.pc
        elif ln.bucket == EQ and ln.group == R("share_capital"):
            flows["share_issue"] -= ln.pc
    result = Consolidation(group, as_of, translated, journals, mismatches, flows, warnings)
    tb = result.trial_balance()
    if sum(tb.values(), ZERO):
        raise UnbalancedJournal(f"consolidated trial balance at {as_of} is off by {sum(tb.values(), ZERO)}")
    flows["profit"] = -sum((v for k, v in tb.items() if GROUP_CHART[k].kind in PROFIT_OR_LOSS), ZERO)
    flows["nci_profit"] = tb.get(R("nci_profit"), ZERO)
    flows["oci"] = -tb.get(R("translation_reserve"), ZERO)
    return result


def _pct(fraction: Decimal) -> str:
    return f"{(fraction * 100).normalize():f} %"


def _subsidiary(group: Group, sub, moves: Prepared, translated: dict[str, Translated], rates: Rates,
                as_of: dt.date, flows: dict, urp: Decimal, warnings: list[str]) -> list[Journal]:
    R = role  # noqa: N806
    pres, sid, pid = group.presentation_currency, sub.company_id, group.parent.company_id
    ccy, pccy = sub.functional_currency, group.parent.functional_currency
    acq = group.acquisition(sid)
    t = translated[sid]
    out: list[Journal] = []
    changes = group.changes_of(sid)
    segments = group.segments(sid)

    # Acquisition: the equity the subsidiary had at the day, at the day's rate.
    r0 = rates.historical(ccy, acq.on)
    pre = [ln for ln in t.lines if ln.bucket == "pre"]
    equity_fc = -sum((ln.fc for ln in pre), ZERO)
    equity_pc = -sum((ln.pc for ln in pre), ZERO)
    fv_adj_fc = acq.fv_net_assets - equity_fc
    fv_adj_hist = q(fv_adj_fc * r0, pres)
    fv_pc = equity_pc + fv_adj_hist
    consideration = q(acq.consideration * rates.historical(pccy, acq.on), pres)
    nci0 = q((1 - acq.pct) * fv_pc, pres)
    goodwill = consideration + nci0 - fv_pc
    j = Journal(f"acquisition:{sid}", "acquisition", f"Acquisition of {sid}",
                f"On {acq.on} {pid} acquired {_pct(acq.pct)} of {sid} for {acq.consideration} {pccy} "
                f"({consideration} {pres}). {sid}'s equity that day was {equity_fc} {ccy}, its identifiable net "
                f"assets at fair value {acq.fv_net_assets} {ccy} ({fv_pc} {pres} at the day's rate {r0}), so the "
                f"fair-value adjustment is {fv_adj_fc} {ccy}. NCI at its proportionate share: "
                f"{_pct(1 - acq.pct)} x {fv_pc} = {nci0}. "
                + (f"Goodwill = consideration {consideration} + NCI {nci0} - net assets {fv_pc} = {goodwill}."
                   if goodwill >= 0 else
                   f"Consideration {consideration} + NCI {nci0} is below the net assets {fv_pc}: a gain on a bargain "
                   f"purchase of {-goodwill} (IFRS 3.34), in profit or loss, the parent's."))
    for ln in pre:
        j.add(ln.group, sid, -ln.pc, memo=f"equity at acquisition ({ln.account})")
    j.add(R("fv_adjustment"), sid, fv_adj_hist, memo="fair-value adjustment at acquisition")
    if goodwill >= 0:
        j.add(R("goodwill"), sid, goodwill, memo="goodwill")
    else:
        j.add(R("bargain_gain"), pid, goodwill, sid, "gain on a bargain purchase")
    j.add(R("investment"), pid, -consideration, sid, "cost of the investment")
    j.add(R("nci"), sid, -nci0, memo="NCI at acquisition")
    out.append(j.check())
    flows["nci_acquired"] += nci0
    invested = consideration

    # Retranslation of goodwill and fair-value adjustments at the closing rate.
    def fv_retranslation(on: dt.date) -> Decimal:
        return q(fv_adj_fc * rates.closing(ccy, on), pres) - fv_adj_hist

    closing = rates.closing(ccy, as_of)
    fv_diff = fv_retranslation(as_of)
    gw_diff = q(goodwill / r0 * closing, pres) - goodwill if goodwill > 0 and r0 else ZERO
    if fv_diff or gw_diff:
        j = Journal(f"retranslation:{sid}", "retranslation", f"Goodwill and fair-value adjustments of {sid} at the "
                    f"closing rate", f"Goodwill ({goodwill} {pres} at {r0}) and the fair-value adjustment "
                    f"({fv_adj_fc} {ccy}) are assets of {sid}, a foreign operation (IAS 21.47): at the closing rate "
                    f"{closing} of {as_of} they change by {gw_diff} and {fv_diff}, in the translation reserve.")
        j.add(R("goodwill"), sid, gw_diff, memo="goodwill at the closing rate")
        j.add(R("fv_adjustment"), sid, fv_diff, memo="fair-value adjustment at the closing rate")
        j.add(R("translation_reserve"), sid, -gw_diff, memo="goodwill retranslation (owners)")
        j.add(R("translation_reserve"), sid, -fv_diff, memo="fair-value adjustment retranslation")
        out.append(j.check())
    flows["oci_goodwill"] += gw_diff

    # Ownership changes that keep control: an equity transaction.
    def cta_at(on: dt.date) -> Decimal:
        tt = t if on == as_of else translate(sub, moves, as_of=on, acquired_on=acq.on, rates=rates,
                                             presentation=pres, changes=[c.on for c in changes])
        return tt.cta + fv_retranslation(on)

    for c in changes:
        if c.on > as_of:
            continue
        old = group.pct(sid, c.on)
        tc = translate(sub, moves, as_of=c.on, acquired_on=acq.on, rates=rates, presentation=pres,
                       changes=[x.on for x in changes])
        net_assets = tc.net_assets() + q(fv_adj_fc * rates.closing(ccy, c.on), pres)
        moved = q((c.pct - old) * net_assets, pres)
        paid = q(c.consideration * rates.historical(pccy, c.on), pres)
        j = Journal(f"ownership:{sid}:{c.on}", "ownership_change", f"Change in ownership of {sid} on {c.on}",
                    f"{pid}'s share of {sid} went from {_pct(old)} to {_pct(c.pct)} on {c.on}, control kept (IFRS "
                    f"10.23): the NCI's carrying amount of {_pct(c.pct - old)} of the net assets ({net_assets} {pres} "
                    f"incl. fair-value adjustments) = {moved} moves to the owners; {paid} paid for it; the "
                    f"difference {paid - moved} is in retained earnings.")
        j.add(R("nci"), sid, moved, memo="NCI's carrying amount of the shares")
        j.add(R("investment"), pid, -paid, sid, "cost of the shares")
        j.add(R("retained_earnings"), pid, paid - moved, sid, "paid beyond the NCI's carrying amount")
        out.append(j.check())
        invested += paid
        flows["ownership_owners"] += moved - paid
        flows["ownership_nci"] -= moved

    # The parent's investment should be what the structure says it paid.
    booked = sum((ln.pc for ln in translated[pid].lines if ln.group == R("investment") and ln.partner == sid), ZERO)
    if booked != invested:
        warnings.append(f"{pid}'s investment in {sid} is {booked} {pres} in its books; the acquisition and ownership "
                        f"changes say {invested}: the difference stays in investments in subsidiaries")

    # Intercompany dividends: the subsidiary's distributions against the parent's income and the NCI.
    dividends = [ln for ln in t.lines if ln.bucket == EQ and ln.group == R("retained_earnings")]
    income = [ln for ln in translated[pid].lines if ln.bucket == PL and ln.group == R("dividend_income")
              and ln.partner == sid]
    if dividends or income:
        j = Journal(f"dividends:{sid}", "dividends", f"Dividends of {sid}",
                    f"{sid} distributed {sum((d.pc for d in dividends), ZERO)} {pres} (at the rates of the days); "
                    f"{pid} booked {-sum((i.pc for i in income), ZERO)} as dividend income from it. Both are "
                    f"internal to the group except the NCI's share, which reduces the NCI.")
        nci_div = ZERO
        for d in dividends:
            j.add(d.group, sid, -d.pc, memo=f"dividend of {d.key}")
            nci_div += q((1 - group.pct(sid, dt.date.fromisoformat(d.key))) * d.pc, pres)
        for i in income:
            j.add(i.group, pid, -i.pc, sid, "dividend income from the subsidiary")
        j.add(R("nci"), sid, nci_div, memo="NCI's share of the dividends")
        diff = -sum((ln.amount for ln in j.lines), ZERO)
        j.add(R("finance_costs"), pid, diff, sid, "exchange difference: the parent's booked rate vs the day's rate")
        out.append(j.check())
        flows["dividends_nci"] += nci_div

    # NCI: share of profit (per ownership segment) and of OCI (the CTA, between ownership days).
    nci_profit = ZERO
    for k, (_, pct) in enumerate(segments):
        profit = t.profit(k)
        nci_profit += q((1 - pct) * profit, pres)
    nci_profit -= q((1 - group.pct(sid, as_of + dt.timedelta(days=1))) * urp, pres)
    points = [acq.on, *(c.on for c in changes if c.on < as_of), as_of]
    nci_oci = ZERO
    prev = cta_at(acq.on)
    for k in range(len(points) - 1):
        now = cta_at(points[k + 1])
        nci_oci += q((1 - segments[k][1]) * (now - prev), pres)
        prev = now
    if nci_profit or nci_oci:
        j = Journal(f"nci:{sid}", "nci", f"Non-controlling interests in {sid}",
                    f"The NCI's share of {sid}'s profit since the acquisition ({nci_profit} {pres}, each part at the "
                    f"NCI's percentage of its time, after unrealised profit on {sid}'s sales) and of its "
                    f"translation difference ({nci_oci}).")
        j.add(R("nci_profit"), sid, nci_profit, memo="NCI share of profit")
        j.add(R("nci_oci"), sid, nci_oci, memo="NCI share of the translation difference")
        j.add(R("nci"), sid, -nci_profit - nci_oci, memo="NCI share of profit and OCI")
        out.append(j.check())
    flows["nci_oci"] += nci_oci
    return out


def _ic_balances(group: Group, a: str, b: str, ic_lines: dict, ic_moves: dict,
                 rates: Rates, as_of: dt.date) -> tuple[Journal | None, Mismatch | None]:
    pres = group.presentation_currency
    lines = [ln for ent, other in ((a, b), (b, a)) for ln in ic_lines.get((ent, other), ())
             if ln.bucket == BS and ln.group in IC_BALANCE_ACCOUNTS]
    if not lines:
        return None, None
    total_a = sum((ln.pc for ln in lines if ln.entity == a), ZERO)
    total_b = sum((ln.pc for ln in lines if ln.entity == b), ZERO)
    difference = total_a + total_b
    # Transaction-currency view: what one side has and the other lacks.
    docs: dict[tuple[str, str, str], Decimal] = defaultdict(lambda: ZERO)
    for ent, partner in ((a, b), (b, a)):
        entity = group.entity(ent)
        for m in ic_moves.get((ent, partner), ()):
            g = entity.mapping.group_account(m.account)
            if g.code not in IC_BALANCE_ACCOUNTS:
                continue
            cur = m.txn_currency or entity.functional_currency
            amt = m.txn_amount if m.txn_currency else m.amount
            docs[(ent, m.document, cur)] += amt
    open_docs = {k: v for k, v in docs.items() if v}
    unmatched = _unmatched(open_docs)
    by_currency: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for (_, _, cur), amt in unmatched.items():
        by_currency[cur] += amt
    in_transit = sum((q(amt * rates.closing(cur, as_of), pres) for cur, amt in by_currency.items() if amt), ZERO)
    fx = difference - in_transit
    mismatch = None
    if difference or unmatched:
        mismatch = Mismatch(a, b, total_a, total_b, difference, in_transit, fx, [
            {"entity": e, "document": d, "currency": c, "amount": amt} for (e, d, c), amt in sorted(unmatched.items())])
    if not difference and all(not ln.pc for ln in lines):
        return None, mismatch
    j = Journal(f"ic_balances:{a}:{b}", "ic_balances", f"Intercompany balances {a} / {b}",
                f"{a} holds {total_a} {pres} with {b}, {b} holds {total_b} with {a} (at the closing rate of "
                f"{as_of}); both come out. "
                + (f"They differ by {difference}: {in_transit} is documents one side has not booked (items in "
                   f"transit, listed in the mismatch report) and {fx} is the exchange difference between the two "
                   f"books (IAS 21.45: it stays in the group's profit or loss)." if difference else "They cancel."))
    for ln in lines:
        j.add(ln.group, ln.entity, -ln.pc, ln.partner, f"intercompany balance ({ln.account})")
    j.add(role("ic_in_transit"), a, in_transit, b, "documents booked on one side only")
    j.add(role("finance_costs"), a, fx, b, "exchange difference on intercompany balances")
    return j, mismatch


def _unmatched(docs: dict[tuple[str, str, str], Decimal]) -> dict[tuple[str, str, str], Decimal]:
    """Documents of one side without a document of equal and opposite amount (same currency) on the
    other: first by the same document reference, then by amount."""
    left = dict(docs)
    for (e, d, c), amt in sorted(docs.items()):
        if (e, d, c) not in left:
            continue
        for (e2, d2, c2), amt2 in sorted(left.items(), key=lambda kv: kv[0][1] != d):
            if e2 != e and c2 == c and amt2 == -amt:
                del left[(e, d, c)]
                del left[(e2, d2, c2)]
                break
    return left


def _ic_revenue(seller: str, buyer: str, ic_lines: dict, pres: str) -> Journal | None:
    R = role  # noqa: N806
    sold = [ln for ln in ic_lines.get((seller, buyer), ()) if ln.bucket == PL
            and GROUP_CHART[ln.group].kind == INCOME and ln.group != R("dividend_income")]
    bought = [ln for ln in ic_lines.get((buyer, seller), ()) if ln.bucket == PL
              and GROUP_CHART[ln.group].kind == EXPENSE]
    if not sold and not bought:
        return None
    revenue = -sum((ln.pc for ln in sold), ZERO)
    expenses = sum((ln.pc for ln in bought), ZERO)
    j = Journal(f"ic_revenue:{seller}:{buyer}", "ic_revenue", f"Intercompany sales {seller} -> {buyer}",
                f"{seller} recognised {revenue} {pres} of revenue from {buyer}; {buyer} booked {expenses} of it as "
                f"expenses with {seller} as partner, and the rest ({revenue - expenses}) went through its inventory "
                f"into its cost of sales. Sales inside the group are neither revenue nor cost for the group.")
    for ln in sold + bought:
        j.add(ln.group, ln.entity, -ln.pc, ln.partner, f"intercompany {ln.account} {ln.key}")
    j.add(R("cost_of_sales"), buyer, -(revenue - expenses), seller, "goods bought inside the group")
    return j
