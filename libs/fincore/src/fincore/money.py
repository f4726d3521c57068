"""Money as Decimal, quantised to the currency's minor unit at the edges; Money proto on the wire.

The rule every service follows (README, "Amounts and currencies"):

- **Money** (a total, a balance, a limit, a reservation, an exposure, a tax, a payment) is
  quantised to its currency's ISO 4217 minor unit when it is computed for storage and printed
  with exactly that many decimals by `format_amount`: JPY "1000", CNY "1000.00", KWD "1000.000".
  Columns are NUMERIC(20, 4), wide enough for every minor unit in use (KWD, BHD: 3).
- **Prices and rates** (a unit price, a unit cost, an exchange rate) are not money: they keep
  their own precision (unit prices 6 decimals, rates 10) and print canonically, without
  trailing zeros and never in exponent form. A unit price prints at least its currency's minor
  unit ("100.00", "12.345", JPY "100"; `format_price`); an exchange rate prints its significant
  digits ("7.1", "0.0482"; `format_rate`).
- Currency codes are ISO 4217 codes with a minor unit, checked against the `iso4217` package
  (not a hand-kept table); "ZZZ", "cny" and the fund/metal codes (XAU, XXX) are refused.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Annotated

from finance.common.v1 import types_pb2
from iso4217 import Currency
from pydantic import AfterValidator

NANOS = Decimal(1_000_000_000)
ZERO = Decimal(0)
PRICE_PLACES = 6  # unit prices and unit costs: NUMERIC(20, 6)
_PRICE_QUANTUM = Decimal(1).scaleb(-PRICE_PLACES)
# The largest amount one document may carry (exclusive). Every service stores amounts as
# NUMERIC(20, 4) (16 integer digits) and the ledger sums documents into balances, so a
# source refuses a document at or above this rather than publish one the ledger cannot store.
MAX_DOCUMENT_AMOUNT = Decimal(10) ** 15


class MoneyError(ValueError):
    pass


@lru_cache(maxsize=512)
def minor_units(currency: str) -> int:
    """ISO 4217 minor unit (exponent) of `currency`; MoneyError if it is not an ISO 4217 currency."""
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        raise MoneyError(f"invalid ISO 4217 currency code: {currency!r}")
    try:
        exponent = Currency(currency).exponent
    except ValueError:
        raise MoneyError(f"unknown ISO 4217 currency code: {currency!r}") from None
    if exponent is None:  # funds, metals, XXX/XTS: no minor unit, not money we book
        raise MoneyError(f"{currency!r} is not a currency with a minor unit")
    return exponent


def is_currency(code: str) -> bool:
    try:
        minor_units(code)
    except MoneyError:
        return False
    return True


def _check_currency(code: str) -> str:
    minor_units(code)  # MoneyError is a ValueError: pydantic reports it as a validation error (422)
    return code


# A request field holding a currency code: `currency: CurrencyCode`.
CurrencyCode = Annotated[str, AfterValidator(_check_currency)]


@lru_cache(maxsize=512)
def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


def quantize(amount: Decimal | int | str, currency: str, *, rounding: str = ROUND_HALF_UP) -> Decimal:
    """Round to the currency's minor unit. Commercial rounding (half up) by default, as
    invoices and tax authorities expect; pass ROUND_HALF_EVEN for allocations."""
    try:
        value = Decimal(amount) if not isinstance(amount, Decimal) else amount
    except InvalidOperation as exc:
        raise MoneyError(f"not a decimal amount: {amount!r}") from exc
    if isinstance(amount, float):  # pragma: no cover - defensive: floats never carry money
        raise MoneyError("money must not be a float")
    if not value.is_finite():
        raise MoneyError(f"not a finite amount: {amount!r}")
    return value.quantize(quantum(currency), rounding=rounding)


def is_quantized(amount: Decimal, currency: str) -> bool:
    return amount == amount.quantize(quantum(currency))


def exact(amount: Decimal, currency: str) -> Decimal:
    """An amount someone entered, at its currency's minor unit: JPY 100.5 or CNY 1.005 is refused
    (MoneyError), never rounded behind the user's back."""
    value = quantize(amount, currency)
    if value != amount:
        raise MoneyError(f"{currency} amounts have {minor_units(currency)} decimals, not {amount}")
    return value


def to_proto(amount: Decimal, currency: str) -> types_pb2.Money:
    return fill(types_pb2.Money(), amount, currency)


def fill(msg: types_pb2.Money, amount: Decimal, currency: str) -> types_pb2.Money:
    """Write `amount` into the Money message `msg` in place (a field of a message being built:
    no Money made first and copied in); returns `msg`."""
    if isinstance(amount, float):
        raise MoneyError("money must not be a float")
    minor_units(currency)
    if not amount:  # a journal line's other side
        msg.currency_code, msg.units, msg.nanos = currency, 0, 0
        return msg
    units = int(amount)  # truncates toward zero, so units and nanos share the sign
    frac = amount - units
    msg.currency_code = currency
    msg.units = units
    msg.nanos = int((frac * NANOS).to_integral_value(rounding=ROUND_HALF_EVEN)) if frac else 0
    return msg


def amount_pb(amount: Decimal | int | str, currency: str) -> types_pb2.Money:
    """Money on the wire: rounded half up to the currency's minor unit (a unit price travels
    unrounded through `to_proto`)."""
    return to_proto(quantize(amount, currency), currency)


def from_proto(money: types_pb2.Money) -> Decimal:
    if money.units and money.nanos and (money.units > 0) != (money.nanos > 0):
        raise MoneyError("Money units and nanos must share a sign")
    if not -999_999_999 <= money.nanos <= 999_999_999:
        raise MoneyError("Money nanos out of range")
    value = Decimal(money.units) + Decimal(money.nanos) / NANOS
    if money.currency_code:
        # Show the currency's scale (12.50, not 12.5) when that is exact.
        q = value.quantize(quantum(money.currency_code))
        if q == value:
            return q
    return value


def format_amount(amount: Decimal | int | str, currency: str) -> str:
    """Money as its JSON string: rounded half up to the currency's minor unit, exactly that many
    decimals (CNY "8000.00", JPY "8000", KWD "8000.000")."""
    if type(amount) is Decimal and amount.is_finite():  # the common case, without quantize's checks
        value = amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)
    else:
        value = quantize(amount, currency)
    return f"{abs(value) if value.is_zero() else value:f}"  # never "-0.00"


def _plain(value: Decimal) -> str:
    """Significant digits only, never exponent form: 7.1000000000 -> "7.1", 1E+2 -> "100"."""
    text = f"{value.normalize():f}"
    return "0" if text in ("-0", "0") else text


def price(value: Decimal | int | str) -> Decimal:
    """A unit price or unit cost at its own precision (6 decimals, half up), never at the
    currency's minor unit: 33.33 for 10 units is 3.333, not 3.33."""
    return (value if type(value) is Decimal else Decimal(value)).quantize(_PRICE_QUANTUM, rounding=ROUND_HALF_UP)


def format_price(price_: Decimal | int | str, currency: str) -> str:
    """A unit price or unit cost: its own precision (up to 6 decimals), at least the currency's
    minor unit, no trailing zeros beyond it ("100.00", "12.345", "0.123457"; JPY "100", "0.5")."""
    value = price(price_)
    whole, _, decimals = f"{value:f}".partition(".")  # exactly PRICE_PLACES decimals
    decimals = decimals.rstrip("0").ljust(minor_units(currency), "0")
    return f"{whole}.{decimals}" if decimals else whole


def format_rate(rate: Decimal | int | str) -> str:
    """An exchange rate: its significant digits ("7.1", "0.0482", "100")."""
    return _plain(Decimal(rate))
