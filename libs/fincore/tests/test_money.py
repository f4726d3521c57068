from decimal import Decimal

import pytest
from fincore import money
from hypothesis import given
from hypothesis import strategies as st


def test_quantize_uses_minor_units_and_half_up():
    assert money.quantize(Decimal("1.005"), "CNY") == Decimal("1.01")
    assert money.quantize(Decimal("2.5"), "JPY") == Decimal("3")
    assert money.quantize(Decimal("1.0005"), "KWD") == Decimal("1.001")


def test_bad_currency_and_float_refused():
    with pytest.raises(money.MoneyError):
        money.minor_units("cny")
    with pytest.raises(money.MoneyError):
        money.to_proto(1.5, "CNY")  # type: ignore[arg-type]
    with pytest.raises(money.MoneyError):
        money.quantize("NaN", "CNY")


@given(st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=4, allow_nan=False))
def test_proto_round_trip_is_exact(amount):
    back = money.from_proto(money.to_proto(amount, "CNY"))
    assert back == amount


def test_units_and_nanos_share_sign():
    m = money.to_proto(Decimal("-12.34"), "CNY")
    assert (m.units, m.nanos) == (-12, -340_000_000)
    assert money.from_proto(m) == Decimal("-12.34")
    assert str(money.from_proto(money.to_proto(Decimal("12.5"), "CNY"))) == "12.50"
