"""Bank details checked once for every service: an IBAN (checksum and the country's format),
a BIC (its format, and of the IBAN's country), or a local account number where the bank
gives no IBAN. Checked with schwifty, which carries the IBAN registry and the national
bank registries."""

from __future__ import annotations

from dataclasses import dataclass

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException


class BankDetailsError(ValueError):
    pass


@dataclass(frozen=True)
class BankDetails:
    iban: str  # compact; "" when none was given
    bic: str
    account_number: str  # spaces removed; "" unless local numbers are allowed


def validate_bank_details(iban: str = "", bic: str = "", account_number: str = "", *, required: bool = False,
                          local_number: bool = False, derive_bic: bool = False) -> BankDetails:
    """`required`: an IBAN (or, with `local_number`, a local account number) must be given.
    `local_number`: a local account number is accepted where the bank has no IBAN.
    `derive_bic`: with an IBAN and no BIC, the BIC from the national bank registry, where
    schwifty knows the bank."""
    if account_number and not local_number:
        raise BankDetailsError("a local account number is not accepted here: give the IBAN")
    if required and not iban and not account_number:
        raise BankDetailsError("give the IBAN" + (" or, where the bank has none, the local account number"
                                                  if local_number else ""))
    i = None
    if iban:
        try:
            i = IBAN(iban)
        except SchwiftyException as exc:
            raise BankDetailsError(f"IBAN {iban!r}: {exc}") from exc
    b = None
    if bic:
        try:
            b = BIC(bic)
        except SchwiftyException as exc:
            raise BankDetailsError(f"BIC {bic!r}: {exc}") from exc
        if i is not None and b.country_code != i.country_code:
            raise BankDetailsError(f"BIC {bic} is of {b.country_code}, the IBAN of {i.country_code}")
    elif i is not None and derive_bic:
        b = i.bic
    return BankDetails(i.compact if i is not None else "", str(b) if b else "", account_number.replace(" ", ""))
