"""fincore.bank: the one IBAN/BIC check AP's suppliers and cash management's accounts use."""

from __future__ import annotations

import pytest
from fincore.bank import BankDetailsError, validate_bank_details

DE = "DE89370400440532013000"  # the IBAN registry's example: Commerzbank Köln, BIC COBADEFFXXX


def test_an_iban_is_compacted_and_its_bic_derived_where_asked():
    assert validate_bank_details("DE89 3704 0044 0532 0130 00") == validate_bank_details(DE)
    d = validate_bank_details(DE, derive_bic=True)
    assert (d.iban, d.bic.startswith("COBADE"), d.account_number) == (DE, True, "")
    assert validate_bank_details(DE).bic == ""  # not derived unless asked


@pytest.mark.parametrize(("kw", "words"), [
    ({"iban": "DE89370400440532013001"}, "IBAN"),                        # checksum
    ({"iban": DE, "bic": "BNPAFRPP"}, "BIC BNPAFRPP is of FR"),         # another country's bank
    ({"iban": DE, "bic": "NOTABIC"}, "BIC 'NOTABIC'"),
    ({"required": True}, "give the IBAN"),
    ({"required": True, "local_number": True}, "local account number"),
    ({"account_number": "6222 0200 1234"}, "not accepted here"),       # AP: an IBAN or nothing
])
def test_what_is_refused(kw, words):
    with pytest.raises(BankDetailsError, match=words):
        validate_bank_details(**kw)


def test_a_local_account_number_where_the_bank_has_no_iban():
    d = validate_bank_details("", "ICBKCNBJ", "6222 0200 1234 5678", required=True, local_number=True)
    assert (d.iban, d.bic, d.account_number) == ("", "ICBKCNBJ", "6222020012345678")
