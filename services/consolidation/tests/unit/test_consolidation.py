"""The consolidation domain against figures worked out by hand (derivations in the comments).

Group: P (CNY, China Accounting Standards chart) and its subsidiary S (USD, CAS chart too),
presentation currency CNY. Rates CNY per USD (the group's rate table): 7.0 on 2025-12-31 (the
acquisition day: closing and historical), 7.2 the average of every month of 2026, 7.3 on
2026-06-30 (dividend day), 7.5 closing on 2026-12-31.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from consolidation.domain.engine import IcInventory, consolidate
from consolidation.domain.rates import RateMissing, Rates
from consolidation.domain.statements import balance_sheet, changes_in_equity, comprehensive_income, income_statement
from consolidation.domain.structure import CAS, Acquisition, Entity, Group, OwnershipChange, StructureError
from consolidation.domain.translation import Movement

P, S = "P", "S"
ACQ = dt.date(2025, 12, 31)
YE = dt.date(2026, 12, 31)


def rates(extra: dict | None = None) -> Rates:
    table = {("closing", "USD", "2025-12-31"): D("7.0"), ("historical", "USD", "2025-12-31"): D("7.0"),
             ("historical", "USD", "2026-06-30"): D("7.3"), ("closing", "USD", "2026-12-31"): D("7.5")}
    for m in range(1, 13):
        table[("average", "USD", f"2026-{m:02d}")] = D("7.2")
    table.update(extra or {})
    return Rates("CNY", table=table)


def group(pct="0.8", consideration="9000", fv="1600", changes=()) -> Group:
    return Group("G", "Group", "CNY", Entity(P, "Parent", "CNY", CAS), (Entity(S, "Sub", "USD", CAS),),
                 (Acquisition(S, ACQ, D(pct), D(consideration), D(fv)),), tuple(changes))


def book(entity: str, on: str, *lines) -> list[Movement]:
    """lines: (account, debit-positive amount[, partner[, txn currency, txn amount[, document]]])."""
    out = []
    for ln in lines:
        account, amount, partner, *rest = (*ln, "") if len(ln) == 2 else ln
        txn_ccy, txn_amt, doc = (rest + ["", D(0), ""])[:3] if rest else ("", D(0), "")
        out.append(Movement(entity, dt.date.fromisoformat(on), account, D(amount), partner, txn_ccy, D(txn_amt), doc))
    assert sum(m.amount for m in out) == 0, "a booking balances"
    return out


def base_books() -> dict[str, list[Movement]]:
    p = (book(P, "2025-01-01", ("1002", "20000"), ("1405", "5040"), ("4001", "-25040"))
         # The investment: 80 % of S for 9000 CNY, tagged with S as partner.
         + book(P, "2025-12-31", ("1511", "9000", S), ("1002", "-9000")))
    s = (book(S, "2025-06-01", ("1002", "1500"), ("4001", "-1000"), ("6001", "-500"))
         # 2026: revenue 1000, expenses 400 (profit 600 USD); a dividend of 100 USD on 30 June, 80 to P.
         + book(S, "2026-03-10", ("1002", "1000"), ("6001", "-1000"))
         + book(S, "2026-03-20", ("6602", "400"), ("1002", "-400"))
         + book(S, "2026-06-30", ("4104", "100", P), ("1002", "-100")))
    p += book(P, "2026-06-30", ("1002", "584"), ("6111", "-584", S))  # 80 USD x 7.3
    return {P: p, S: s}


def statements(g, books, r, *, start=dt.date(2026, 1, 1), end=YE, inventory=()):
    opening = consolidate(g, books, r, start - dt.timedelta(days=1), ic_inventory=inventory)
    closing = consolidate(g, books, r, end, ic_inventory=inventory)
    return opening, closing


def assert_balanced(*cons):
    for c in cons:
        if c is None:
            continue
        bs = balance_sheet(c)
        assert bs["balanced"], bs
        assert sum(c.trial_balance().values()) == 0


def test_translation_acquisition_dividend_nci_and_cta():
    g, books, r = group(), base_books(), rates()
    opening, closing = statements(g, books, r)
    assert_balanced(opening, closing)
    # S translated at 2026-12-31: bank 2000 USD x 7.5 = 15000; equity at acquisition (share capital
    # 1000 + profit before it 500) x 7.0 = 10500; 2026 profit (1000 - 400) x 7.2 = 4320; dividend
    # 100 x 7.3 = 730. CTA = 15000 - (10500 + 4320 - 730) = 910.
    t = closing.translated[S]
    assert t.net_assets() == D("15000.00") and t.cta == D("910.00") and t.profit() == D("4320.00")
    # Acquisition: net assets at fair value 1600 x 7.0 = 11200 (fair-value adjustment 100 USD = 700);
    # NCI 20 % x 11200 = 2240; goodwill 9000 + 2240 - 11200 = 40.
    acq = next(j for j in closing.journals if j.kind == "acquisition")
    assert {(ln.account, ln.amount) for ln in acq.lines} >= {("1700", D("40.00")), ("3900", D("-2240.00")),
                                                             ("1600", D("-9000.00")), ("1550", D("700.00"))}
    bs = balance_sheet(closing)
    assets = {a["account"]: a["amount"] for a in bs["assets"]}
    # Bank: P 20000 - 9000 + 584 = 11584, S 15000. Fair-value adjustment 100 x 7.5 = 750. Goodwill
    # 40 / 7.0 USD x 7.5 = 42.857 -> 42.86. The investment is gone. Inventory 5040 (P's).
    assert assets == {"1000": D("26584.00"), "1200": D("5040.00"), "1550": D("750.00"), "1700": D("42.86")}
    # NCI: 2240 + 20 % x 4320 (profit 864) + 20 % x (CTA 910 + FV retranslation 50 = 960: 192)
    #      - 20 % x 730 (dividend 146) = 3150 = 20 % x (15000 + 750).
    eq = bs["equity"]
    assert eq["nci"] == D("3150.00")
    # Owners: share capital 25040; retained earnings = 80 % of 4320 = 3456 (P's dividend income 584
    # is eliminated); translation reserve 80 % x 960 + goodwill 2.86 = 770.86.
    assert (eq["share_capital"], eq["retained_earnings"], eq["translation_reserve"]) == (
        D("25040.00"), D("3456.00"), D("770.86"))
    is_ = income_statement(opening, closing)
    assert (is_["revenue"], is_["profit"], is_["attributable"]["nci"]) == (D("7200.00"), D("4320.00"), D("864.00"))
    sci = comprehensive_income(opening, closing)
    oci = sci["other_comprehensive_income"]["exchange_differences_on_translation"]
    assert (oci["total"], oci["owners"], oci["nci"]) == (D("962.86"), D("770.86"), D("192.00"))
    soce = changes_in_equity(opening, closing)["rows"]
    assert soce["opening"]["nci"] == D("2240.00") and soce["opening"]["retained_earnings"] == 0
    assert soce["dividends"]["nci"] == D("-146.00")
    assert all(v == 0 for v in soce["other"].values())
    assert soce["closing"] == eq


def test_intercompany_sale_open_balance_and_unrealised_profit():
    g, books, r = group(), base_books(), rates({("historical", "USD", "2026-04-15"): D("7.2"),
                                                  ("historical", "USD", "2026-09-30"): D("7.4")})
    # P sells goods to S for USD 1000 (x 7.2 = 7200 CNY), cost 5040: margin 2160 / 7200 = 30 %.
    books[P] += book(P, "2026-04-15", ("1122", "7200", S, "USD", "1000", "INV-1"), ("6001", "-7200", S),
                     ("6401", "5040"), ("1405", "-5040"))
    books[S] += book(S, "2026-04-15", ("1405", "1000"), ("220201", "-1000", P, "", "0", "INV-1"))
    # S sells 60 % outside for 900 USD; 40 % (400 USD at transfer price) is in its stock at year end.
    books[S] += book(S, "2026-05-10", ("1002", "900"), ("6001", "-900"), ("6401", "600"), ("1405", "-600"))
    # S pays 600 USD on 30 September (P: 600 x 7.4 = 4440 received, carrying 4320, gain 120).
    books[S] += book(S, "2026-09-30", ("220201", "600", P, "", "0", "PAY-1"), ("1002", "-600"))
    books[P] += book(P, "2026-09-30", ("1002", "4440"), ("1122", "-4320", S, "USD", "-600", "PAY-1"),
                     ("660302", "-120"))
    inventory = [IcInventory(S, P, YE, D("400"), D("0.3"))]
    opening, closing = statements(g, books, r, inventory=inventory)
    assert_balanced(opening, closing)
    # Open balance: P's receivable 400 USD at 2880 CNY (not revalued), S's payable 400 x 7.5 = 3000.
    # Same documents both sides (transaction currency nets to 0): nothing in transit, and the 120
    # difference is the exchange difference P did not book (400 x (7.5 - 7.2)).
    [mm] = closing.mismatches
    assert (mm.entity_total, mm.partner_total, mm.difference, mm.in_transit, mm.fx) == (
        D("2880.00"), D("-3000.00"), D("-120.00"), D("0"), D("-120.00"))
    tb = closing.trial_balance()
    assert "1100" not in tb and "2000" not in tb  # intercompany balances are gone
    is_ = income_statement(opening, closing)
    lines = {ln["account"]: ln["amount"] for ln in is_["lines"]}
    # Revenue: S 1000 x 7.2 = 7200 + 900 x 7.2 = 6480 = 13680, plus P's 7200 intercompany, out.
    assert lines["4000"] == D("13680.00")
    # Cost of sales: P 5040 + S 600 x 7.2 = 4320, less the 7200 bought inside the group, plus the
    # unrealised profit 400 x 30 % x 7.2 = 864: 5040 + 4320 - 7200 + 864 = 3024 (= 60 % of P's cost
    # 5040, the goods sold outside).
    assert lines["5000"] == D("3024.00")
    # Finance: P's realised gain 120 and the 120 on the open balance: income of 240.
    assert lines["5200"] == D("-240.00")
    # Profit: 4320 (as before) + S's 6480 - 4320 (its margin on the resale 2160 x 7.2/7.2) ... all at once:
    # income 13680 + 240 - expenses (3024 + 2880) = 8016. NCI 20 % of S's profit (1000+900-400-600 = 900 USD
    # x 7.2 = 6480): 1296; the unrealised profit is P's (a downstream sale), not the NCI's.
    assert (is_["profit"], is_["attributable"]["nci"]) == (D("8016.00"), D("1296.00"))
    inv = {a["account"]: a["amount"] for a in balance_sheet(closing)["assets"]}
    # Inventory: P 0; S 400 x 7.5 = 3000 less unrealised profit 864 = 2136.
    assert inv["1200"] == D("2136.00")


def test_loss_making_subsidiary_with_a_bargain_purchase():
    # 60 % bought for 5000 CNY, net assets at fair value 1500 USD x 7 = 10500: NCI 4200; 5000 + 4200
    # < 10500, a bargain-purchase gain of 1300 in the acquisition year's profit (P's).
    g = group(pct="0.6", consideration="5000", fv="1500")
    books = base_books()
    books[P] = [m for m in books[P] if m.account not in ("1511",) and m.on != ACQ] + \
        book(P, "2025-12-31", ("1511", "5000", S), ("1002", "-5000"))
    books[P] = [m for m in books[P] if m.account != "6111" and not (m.on == dt.date(2026, 6, 30))]
    books[S] = [m for m in books[S] if m.on < dt.date(2026, 1, 1)]
    books[S] += book(S, "2026-02-10", ("6602", "800"), ("1002", "-800"))  # a loss of 800 USD
    opening, closing = statements(g, books, rates(), start=dt.date(2025, 1, 1))
    assert_balanced(opening, closing)
    is_ = income_statement(opening, closing)
    lines = {ln["account"]: ln["amount"] for ln in is_["lines"]}
    assert lines["4300"] == D("1300.00")
    assert closing.flows["nci_profit"] == D("-2304.00")  # 40 % x -(800 x 7.2 = 5760)
    # NCI = 4200 - 2304 + 40 % x CTA; S: bank 700 x 7.5 = 5250, equity 10500 - 5760 -> CTA 510 -> 204.
    assert balance_sheet(closing)["equity"]["nci"] == D("4200.00") - D("2304.00") + D("204.00")
    assert balance_sheet(closing)["equity"]["nci"] == D("0.4") * D("5250.00")


def test_ownership_change_within_the_year():
    # P buys another 10 % of S on 2026-06-30 for 1500 CNY (80 % -> 90 %).
    change = OwnershipChange(S, dt.date(2026, 6, 30), D("0.9"), D("1500"))
    g = group(changes=[change])
    books = base_books()
    books[P] += book(P, "2026-06-30", ("1511", "1500", S), ("1002", "-1500"))
    r = rates({("closing", "USD", "2026-06-30"): D("7.3")})
    opening, closing = statements(g, books, r)
    assert_balanced(opening, closing)
    # S's profit is all in March (segment 80 %): NCI profit 20 % x 4320 = 864.
    assert closing.flows["nci_profit"] == D("864.00")
    # At 30 June: S's net assets 2000 USD x 7.3 = 14600 + fair-value adjustment 100 x 7.3 = 730 =
    # 15330 (the dividend of the day is still in: the change counts from the next day, the dividend
    # was paid on the day: bank 2000 is after it). 10 % of it, 1533, moves from NCI to owners; paid 1500:
    # retained earnings + 33.
    own = next(j for j in closing.journals if j.kind == "ownership_change")
    assert {(ln.account, ln.amount) for ln in own.lines} == {
        ("3900", D("1533.00")), ("1600", D("-1500.00")), ("3100", D("-33.00"))}
    # NCI at year end = 10 % x (15000 + 750) = 1575, within rounding of the roll-forward.
    nci = balance_sheet(closing)["equity"]["nci"]
    assert abs(nci - D("1575.00")) <= D("0.02")
    soce = changes_in_equity(opening, closing)["rows"]
    assert soce["changes_in_ownership"]["nci"] == D("-1533.00")
    assert soce["changes_in_ownership"]["retained_earnings"] == D("33.00")
    assert all(v == 0 for v in soce["other"].values())


def test_items_in_transit_are_shown_by_document():
    g, books, r = group(), base_books(), rates({("historical", "USD", "2026-12-20"): D("7.4")})
    # P invoices S a fee of USD 100 on 20 December (740 CNY); S has not booked it by year end.
    books[P] += book(P, "2026-12-20", ("1122", "740", S, "USD", "100", "FEE-9"), ("6051", "-740", S))
    opening, closing = statements(g, books, r)
    assert_balanced(opening, closing)
    [mm] = closing.mismatches
    # 100 USD on one side only: in transit at the closing rate 750; P's 740 vs 750: exchange -10.
    assert (mm.difference, mm.in_transit, mm.fx) == (D("740.00"), D("750.00"), D("-10.00"))
    assert mm.documents == [{"entity": P, "document": "FEE-9", "currency": "USD", "amount": D("100")}]


def test_same_inputs_same_figures_and_rates_replay():
    g, books = group(), base_books()
    r1 = rates()
    c1 = consolidate(g, books, r1, YE)
    c2 = consolidate(g, books, Rates.replay("CNY", r1.used_json()), YE)
    assert c1.trial_balance() == c2.trial_balance()


def test_structure_and_rate_errors():
    with pytest.raises(StructureError):
        OwnershipChange(S, YE, D("0.4"), D("1"))
    with pytest.raises(StructureError):
        Group("G", "G", "CNY", Entity(P, "P", "CNY", CAS), (Entity(S, "S", "USD", CAS),), ())
    with pytest.raises(RateMissing):
        consolidate(group(), base_books(), Rates("CNY"), YE)


def test_transaction_rate_accounts_and_mapping_overrides():
    # S's administrative expenses (group 5100) at the rate of their day (7.25 on 20 March) instead
    # of March's average 7.2; an override maps S's 6602xx accounts onto other expenses (5300).
    from consolidation.domain.translation import translate

    mapping = CAS.with_overrides({"6602": "5300"}, frozenset({"5300"}))
    entity = Entity(S, "Sub", "USD", mapping)
    r = rates({("historical", "USD", "2026-03-20"): D("7.25")})
    t = translate(entity, base_books()[S], as_of=YE, acquired_on=ACQ, rates=r, presentation="CNY")
    admin = [ln for ln in t.lines if ln.account == "6602"]
    assert [(ln.group, ln.rate, ln.rate_type, ln.pc) for ln in admin] == [
        ("5300", D("7.25"), "historical", D("2900.00"))]  # 400 x 7.25
    revenue = [ln for ln in t.lines if ln.account == "6001" and ln.bucket == "pl"]
    assert [(ln.rate, ln.rate_type, ln.pc) for ln in revenue] == [(D("7.2"), "average", D("-7200.00"))]
    # The CTA still makes it balance: 15000 - (10500 + (7200 - 2900) - 730) = 930.
    assert t.cta == D("930.00")
