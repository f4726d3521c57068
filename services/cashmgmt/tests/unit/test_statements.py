"""Statement files and the checks a statement must pass, without a database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from cashmgmt.adapters import bankfiles
from cashmgmt.domain.statements import (
    ContinuityBreak,
    LinesDoNotAddUp,
    ParsedLine,
    ParsedStatement,
    StatementRefused,
    check_continuity,
    check_statement,
    lines_digest,
)
from lxml import etree

D = dt.date
IBAN = "DE75512108001245126199"
LINES = (
    ParsedLine(D(2026, 11, 2), D(2026, 11, 2), Decimal("500.00"), "INV-1", "ACME Ltd", "DE89370400440532013000",
               "Invoice INV-1 & spare <parts>", "B1", "RCDT"),
    ParsedLine(D(2026, 11, 3), D(2026, 11, 4), Decimal("-2.50"), "", "", "", "Account fee", "B2", "CHRG"),
    ParsedLine(D(2026, 11, 3), D(2026, 11, 3), Decimal("-1200.00"), "PAY-7", "Supplier GmbH",
               "FR1420041010050500013M02606", "Payment run 7", "B3", "ICDT"),
)
STATEMENT = ParsedStatement("any", "STMT-1", "EUR", Decimal("1000.00"), Decimal("297.50"), D(2026, 11, 1),
                            D(2026, 11, 3), LINES, iban=IBAN, sequence="7")
MAPPING = {"columns": {"booking_date": "Buchungstag", "value_date": "Valuta", "credit": "Haben", "debit": "Soll",
                       "reference": "Referenz", "counterparty_name": "Name", "counterparty_iban": "IBAN",
                       "description": "Verwendungszweck", "bank_reference": "Bankreferenz", "bank_code": "Code",
                       "balance": "Saldo"},
           "delimiter": ";", "date_format": "%d.%m.%Y", "decimal_comma": True}


@pytest.mark.parametrize("version", bankfiles.CAMT_VERSIONS)
def test_camt053_written_is_valid_against_the_official_xsd_and_reads_back(version):
    data = bankfiles.write_camt053(STATEMENT, version)
    assert bankfiles.camt_schema(version).validate(etree.fromstring(data))
    (st,) = bankfiles.read_camt053(data)
    assert (st.format, st.statement_id, st.iban, st.currency, st.sequence) == (version, "STMT-1", IBAN, "EUR", "7")
    assert (st.opening_balance, st.closing_balance) == (Decimal("1000.00"), Decimal("297.50"))
    assert st.lines == LINES


def test_camt053_that_fails_its_xsd_is_refused():
    data = bankfiles.write_camt053(STATEMENT, "camt.053.001.08").replace(b"<CdtDbtInd>CRDT", b"<CdtDbtInd>PLUS")
    with pytest.raises(bankfiles.FileRefused, match="fails its XSD"):
        bankfiles.read_camt053(data)


def test_an_unknown_camt_version_is_refused():
    data = bankfiles.write_camt053(STATEMENT).replace(b"camt.053.001.08", b"camt.053.001.99")
    with pytest.raises(bankfiles.FileRefused, match="supported version"):
        bankfiles.read_camt053(data)


def test_mt940_reads_the_same_statement():
    (st,) = bankfiles.read_mt940(bankfiles.write_mt940(STATEMENT))
    assert (st.statement_id, st.iban, st.opening_balance, st.closing_balance) == (
        "STMT-1", IBAN, Decimal("1000.00"), Decimal("297.50"))
    # MT940 carries SWIFT's three-letter transaction types where camt has its own codes
    assert [(ln.booking_date, ln.value_date, ln.amount, ln.reference, ln.counterparty_name, ln.counterparty_iban,
             ln.description, ln.bank_reference) for ln in st.lines] == [
        (ln.booking_date, ln.value_date, ln.amount, ln.reference, ln.counterparty_name, ln.counterparty_iban,
         ln.description, ln.bank_reference) for ln in LINES]
    assert [ln.bank_code for ln in st.lines] == ["TRF", "CHG", "TRF"]


def test_csv_by_its_mapping_reads_the_same_lines_and_takes_balances_from_the_running_balance():
    data = bankfiles.write_csv(STATEMENT, MAPPING)
    assert data.decode().splitlines()[1].startswith("02.11.2026;02.11.2026;500,00;;INV-1")
    (st,) = bankfiles.read_csv(data, MAPPING, statement_id="STMT-1", currency="EUR", opening_balance=None,
                               closing_balance=None)
    assert st.lines == LINES
    assert (st.opening_balance, st.closing_balance) == (Decimal("1000.00"), Decimal("297.50"))


def test_csv_lacking_a_mapped_column_is_refused():
    with pytest.raises(bankfiles.FileRefused, match="Saldo"):
        bankfiles.read_csv(b"Buchungstag;Haben;Soll\n01.11.2026;1,00;\n", MAPPING, statement_id="S", currency="EUR",
                           opening_balance=None, closing_balance=None)


def test_format_detection():
    assert bankfiles.detect_format(bankfiles.write_camt053(STATEMENT)) == "camt053"
    assert bankfiles.detect_format(bankfiles.write_mt940(STATEMENT)) == "mt940"
    assert bankfiles.detect_format(bankfiles.write_csv(STATEMENT, MAPPING)) == "csv"


def test_lines_must_add_up_to_the_closing_balance():
    check_statement(STATEMENT, account_currency="EUR")
    bad = ParsedStatement("any", "STMT-1", "EUR", Decimal("1000.00"), Decimal("297.51"), D(2026, 11, 1),
                          D(2026, 11, 3), LINES)
    with pytest.raises(LinesDoNotAddUp, match=r"is 297\.50, but the closing balance is 297\.51"):
        check_statement(bad, account_currency="EUR")


def test_a_statement_in_another_currency_or_beyond_the_minor_unit_is_refused():
    with pytest.raises(StatementRefused, match="account is in CNY"):
        check_statement(STATEMENT, account_currency="CNY")
    odd = ParsedStatement("any", "S", "EUR", Decimal("1.001"), Decimal("1.001"), D(2026, 11, 1), D(2026, 11, 1), ())
    with pytest.raises(StatementRefused, match="minor unit"):
        check_statement(odd, account_currency="EUR")


def test_continuity_with_the_previous_statement():
    check_continuity(STATEMENT, previous_id=None, previous_closing=None, previous_to=None)
    check_continuity(STATEMENT, previous_id="S0", previous_closing=Decimal("1000.00"), previous_to=D(2026, 10, 31))
    with pytest.raises(ContinuityBreak, match=r"opens at 1000\.00, but the previous statement S0 closed at 999\.00"):
        check_continuity(STATEMENT, previous_id="S0", previous_closing=Decimal("999.00"), previous_to=D(2026, 10, 31))
    with pytest.raises(ContinuityBreak, match="before the previous"):
        check_continuity(STATEMENT, previous_id="S0", previous_closing=Decimal("1000.00"), previous_to=D(2026, 12, 1))


def test_the_same_lines_have_the_same_digest_whatever_the_statement_id():
    other = ParsedStatement("csv", "OTHER-ID", "EUR", Decimal("1000.00"), Decimal("297.50"), D(2026, 11, 1),
                            D(2026, 11, 3), LINES)
    assert lines_digest(other) == lines_digest(STATEMENT)
    assert lines_digest(other) != lines_digest(ParsedStatement("csv", "X", "EUR", Decimal(0), Decimal(0),
                                                               D(2026, 11, 1), D(2026, 11, 3), LINES[:2]))


@pytest.mark.parametrize("version", bankfiles.CAMT_VERSIONS)
def test_a_reference_longer_than_an_end_to_end_id_travels_as_remittance_text(version):
    refs = "INV-2026-000001 INV-2026-000002 INV-2026-000003"
    long = ParsedStatement("any", "S", "EUR", Decimal(0), Decimal(1), D(2026, 11, 1), D(2026, 11, 1),
                           (ParsedLine(D(2026, 11, 1), D(2026, 11, 1), Decimal(1), refs, "", "", "Invoices"),),
                           account_number="12345678")
    data = bankfiles.write_camt053(long, version)
    assert bankfiles.camt_schema(version).validate(etree.fromstring(data))
    (ln,) = bankfiles.read_camt053(data)[0].lines
    assert (ln.reference, ln.description) == ("", f"{refs} Invoices")
