"""Suppliers (published as SupplierUpserted) and the company's paying bank accounts; bank
details are validated by fincore.bank (IBAN checksum and country format, BIC)."""

from __future__ import annotations

import datetime as dt

from finance.ap.v1 import events_pb2 as ap_events
from fincore import dates, money
from fincore.bank import BankDetailsError, validate_bank_details
from fincore.outbox import add_event
from fincore.tables import utcnow
from sqlalchemy.ext.asyncio import AsyncSession

from ap.adapters.tables import BankAccount, Supplier
from ap.domain.terms import parse_terms


class SupplierError(ValueError):
    pass


def validate_bank(iban: str, bic: str) -> tuple[str, str]:
    """(IBAN compact, BIC): fincore's check; without a BIC, the bank's from the IBAN registry."""
    try:
        d = validate_bank_details(iban, bic, derive_bic=True)
    except BankDetailsError as exc:
        raise SupplierError(str(exc)) from exc
    return d.iban, d.bic


async def upsert_supplier(session: AsyncSession, *, company_id: str, code: str, name: str, supplier_group: str,
                          currency: str, payment_terms: str, iban: str, bic: str,
                          intercompany_partner: str) -> Supplier:
    money.minor_units(currency)
    parse_terms(payment_terms)
    iban, bic = validate_bank(iban, bic) if iban else ("", bic)
    s = await session.get(Supplier, (company_id, code))
    values = dict(name=name, supplier_group=supplier_group, currency=currency, payment_terms=payment_terms.upper(),
                  iban=iban, bic=bic, intercompany_partner=intercompany_partner, updated_at=utcnow())
    if s is None:
        s = Supplier(company_id=company_id, code=code, **values)
        session.add(s)
    else:
        for k, v in values.items():
            setattr(s, k, v)
    add_event(session, ap_events.SupplierUpserted(
        company_id=company_id, document_number=code, occurrence_date=dates.to_proto(dt.date.today()),
        supplier_code=code, name=name, supplier_group=supplier_group, currency=currency,
        payment_terms=values["payment_terms"], iban=iban, bic=bic), source="ap")
    return s


async def upsert_bank_account(session: AsyncSession, *, company_id: str, code: str, name: str, iban: str, bic: str,
                              currency: str) -> BankAccount:
    money.minor_units(currency)
    iban, bic = validate_bank(iban, bic) if iban else ("", bic)
    b = await session.get(BankAccount, (company_id, code))
    if b is None:
        b = BankAccount(company_id=company_id, code=code, name=name, iban=iban, bic=bic, currency=currency)
        session.add(b)
    else:
        b.name, b.iban, b.bic, b.currency = name, iban, bic, currency
    return b
