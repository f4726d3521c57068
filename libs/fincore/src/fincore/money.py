"""Money as Decimal, quantised to the currency's minor unit at the edges; Money proto on the wire."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from finance.common.v1 import types_pb2

# ISO 4217 minor units of the currencies we expect; anything else defaults to 2.
MINOR_UNITS: dict[str, int] = {
    "CNY": 2, "USD": 2, "EUR": 2, "GBP": 2, "HKD": 2, "SGD": 2, "AUD": 2, "CAD": 2,
    "CHF": 2, "TWD": 2, "INR": 2, "JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0,
    "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3,
}
NANOS = Decimal(1_000_000_000)
ZERO = Decimal(0)


class MoneyError(ValueError):
    pass


@lru_cache(maxsize=256)
def minor_units(currency: str) -> int:
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        raise MoneyError(f"invalid ISO 4217 currency code: {currency!r}")
    return MINOR_UNITS.get(currency, 2)


@lru_cache(maxsize=256)
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


def to_proto(amount: Decimal, currency: str) -> types_pb2.Money:
    if isinstance(amount, float):
        raise MoneyError("money must not be a float")
    minor_units(currency)
    units = int(amount)  # truncates toward zero, so units and nanos share the sign
    nanos = int(((amount - units) * NANOS).to_integral_value(rounding=ROUND_HALF_EVEN))
    return types_pb2.Money(currency_code=currency, units=units, nanos=nanos)


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


_CENT = Decimal("0.01")


def cents(amount: Decimal | int | str) -> str:
    """An amount as a JSON string with two decimals (how reports show amounts stored at 4)."""
    return str(Decimal(amount).quantize(_CENT))
