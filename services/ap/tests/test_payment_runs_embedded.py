"""Payment runs on the embedded database: what a proposal selects, holds, items changed before
approval, four eyes, and the pain.001 file (transfers per supplier or per invoice; service
level SEPA only for euro between SEPA-zone accounts), validated against its XSD."""

import asyncio
import datetime as dt
from decimal import Decimal as D

import pytest
from ap.adapters.tables import BankAccount, PaymentRun, Supplier, SupplierInvoice
from ap.bootstrap import MIGRATIONS
from ap.domain.terms import parse_terms
from ap.service import payments as pay
from fincore.db import Database, migrate
from fincore.tables import utcnow
from lxml import etree
from schwifty import IBAN

DE = str(IBAN.generate("DE", bank_code="37040044", account_code="0532013000").compact)
OURS = str(IBAN.generate("DE", bank_code="10010010", account_code="0123456789").compact)
TR = "TR330006100519786457841326"  # outside the SEPA zone
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}
DAY = dt.date(2026, 11, 16)


@pytest.fixture()
def db(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'ap.db'}"
    migrate(MIGRATIONS, url)
    d = Database(url)
    asyncio.run(_seed(d))
    yield d
    asyncio.run(d.dispose())


def _invoice(n: int, supplier: str, sin: str, gross: str, date: dt.date, terms: str) -> SupplierInvoice:
    t = parse_terms(terms)
    return SupplierInvoice(
        id=f"00000000-0000-0000-0000-00000000000{n}", company_id="C", number=f"PI-2026-{n:06d}", kind="expense",
        supplier_code=supplier, supplier_invoice_number=sin, invoice_date=date, due_date=t.due_date(date),
        discount_date=t.discount_date(date), discount_pct=t.discount_pct, payment_terms=terms, currency="EUR",
        net_total=D(gross), tax_total=D(0), gross_total=D(gross), status="approved", reasons=[], budget=[],
        settled=D(0), created_at=utcnow())


async def _seed(db):
    async with db.transaction() as s:
        s.add(BankAccount(company_id="C", code="MAIN", name="Us AG", iban=OURS, bic="", currency="EUR"))
        for code, iban, terms in (("ACME", DE, "2/10 NET30"), ("BETA", TR, "NET30")):
            s.add(Supplier(company_id="C", code=code, name=f"{code} Ltd", supplier_group="", currency="EUR",
                           payment_terms=terms, iban=iban, bic="", intercompany_partner="", updated_at=utcnow()))
        s.add_all([_invoice(1, "ACME", "SI-1", "1000.00", dt.date(2026, 11, 6), "NET30"),
                   _invoice(2, "ACME", "SI-2", "500.00", dt.date(2026, 11, 6), "2/10 NET30"),
                   _invoice(3, "ACME", "SI-3", "300.00", dt.date(2026, 11, 8), "2/10 NET30"),
                   _invoice(4, "BETA", "B-77", "200.00", dt.date(2026, 11, 2), "NET7")])


def run(coro):
    return asyncio.run(coro)


async def _in(db, fn, run_id=None):
    async with db.transaction() as s:
        r = await s.get(PaymentRun, run_id) if run_id else None
        return await fn(s, r)


def _items(db, run_id):
    async def go(s, r):
        return sorted((t.supplier.code, [(i.invoice_id[-1], str(i.amount), str(i.discount)) for i, _ in t.rows])
                      for t in await pay.transfers(s, r))
    return run(_in(db, go, run_id))


def test_a_run_selects_steers_and_writes_its_bank_file(db):
    sel = pay.Selection(payment_date=DAY, due_by=DAY, bank_account="MAIN", suppliers=("ACME",))

    async def hold3(s, _):
        return await pay.hold(s, await s.get(SupplierInvoice, "00000000-0000-0000-0000-000000000003"),
                              reason="not ordered", by="clerk")

    assert run(_in(db, hold3)) == []
    r1 = run(_in(db, lambda s, _: pay.propose(s, company="C", selection=sel, proposed_by="clerk")))
    # 2: discount 2 % of 500.00 = 10.00 on 11-16; 1: own terms NET30, due 12-06; 3: held; 4: BETA
    assert _items(db, r1.id) == [("ACME", [("2", "490.0000", "10.0000")])]
    with pytest.raises(pay.PaymentError, match="nothing is due"):
        run(_in(db, lambda s, _: pay.propose(s, company="C", selection=sel, proposed_by="clerk")))

    async def _add(s, r, n):
        return await pay.add_item(s, r, await s.get(SupplierInvoice, f"00000000-0000-0000-0000-00000000000{n}"))

    assert run(_in(db, lambda s, r: _add(s, r, 1), r1.id)).total == D("1490.00")
    with pytest.raises(pay.PaymentError, match="on payment hold"):
        run(_in(db, lambda s, r: _add(s, r, 3), r1.id))
    # a hold takes an invoice out of the proposed run it is in
    assert run(_in(db, lambda s, r: _add(s, r, 4), r1.id)).total == D("1690.00")

    async def hold4(s, _):
        return await pay.hold(s, await s.get(SupplierInvoice, "00000000-0000-0000-0000-000000000004"),
                              reason="dispute", by="clerk")

    assert run(_in(db, hold4)) == [r1.number]
    assert _items(db, r1.id) == [("ACME", [("1", "1000.0000", "0.0000"), ("2", "490.0000", "10.0000")])]
    with pytest.raises(pay.DutiesNotSegregated):
        run(_in(db, lambda s, r: pay.approve_run(s, r, "clerk"), r1.id))
    assert run(_in(db, lambda s, r: pay.approve_run(s, r, "treasurer"), r1.id)).status == "approved"
    xml = run(_in(db, lambda s, r: pay.pain001(s, r), r1.id))
    doc = etree.fromstring(xml)
    assert [t.findtext("p:RmtInf/p:Ustrd", namespaces=NS) for t in doc.iterfind(".//p:CdtTrfTxInf", NS)] == \
        ["Invoices SI-1, SI-2"]
    assert doc.findtext(".//p:SvcLvl/p:Cd", namespaces=NS) == "SEPA" and b"00000000-" not in xml

    # per invoice, mixed SEPA and non-SEPA: two payment information blocks, one file
    async def release4(s, _):
        await pay.release_hold(s, await s.get(SupplierInvoice, "00000000-0000-0000-0000-000000000004"))

    run(_in(db, release4))
    everything = pay.Selection(payment_date=DAY, due_by=dt.date(2026, 12, 31), currency="EUR")
    r2 = run(_in(db, lambda s, _: pay.propose(s, company="C", selection=everything, proposed_by="clerk",
                                              transfers="invoice")))
    assert _items(db, r2.id) == [("BETA", [("4", "200.0000", "0.0000")])]  # 3 is still held
    run(_in(db, lambda s, r: pay.approve_run(s, r, "treasurer"), r2.id))
    doc = etree.fromstring(run(_in(db, lambda s, r: pay.pain001(s, r), r2.id)))
    assert [b.findtext("p:PmtTpInf/p:SvcLvl/p:Cd", namespaces=NS) for b in doc.iterfind(".//p:PmtInf", NS)] == [None]
    assert run(_in(db, lambda s, r: pay.cancel_run(s, r, "clerk"), r2.id)).status == "cancelled"
    r3 = run(_in(db, lambda s, _: pay.propose(s, company="C", selection=everything, proposed_by="clerk",
                                              transfers="invoice")))  # 4 is free again after the cancel
    with pytest.raises(LookupError):
        run(_in(db, lambda s, r: pay.remove_item(s, r, "nope"), r3.id))

    async def release3(s, _):
        await pay.release_hold(s, await s.get(SupplierInvoice, "00000000-0000-0000-0000-000000000003"))

    run(_in(db, release3))
    run(_in(db, lambda s, r: _add(s, r, 3), r3.id))  # 2 % of 300.00 = 6.00 until 11-18
    run(_in(db, lambda s, r: pay.approve_run(s, r, "treasurer"), r3.id))
    xml = run(_in(db, lambda s, r: pay.pain001(s, r), r3.id))
    doc = etree.fromstring(xml)
    blocks = [(b.findtext("p:PmtTpInf/p:SvcLvl/p:Cd", namespaces=NS),
               [(t.findtext("p:PmtId/p:EndToEndId", namespaces=NS), t.findtext("p:Amt/p:InstdAmt", namespaces=NS))
                for t in b.iterfind("p:CdtTrfTxInf", NS)]) for b in doc.iterfind(".//p:PmtInf", NS)]
    assert blocks == [("SEPA", [("PI-2026-000003", "294.00")]), (None, [("PI-2026-000004", "200.00")])]
    header = doc.find(".//p:GrpHdr", NS)
    assert (header.findtext("p:NbOfTxs", namespaces=NS), header.findtext("p:CtrlSum", namespaces=NS)) == ("2", "494.00")
    payments = run(_in(db, lambda s, r: pay.execute(s, r), r3.id))
    assert [(p.supplier_code, p.amount) for p in payments] == [("ACME", D("294.00")), ("BETA", D("200.00"))]
