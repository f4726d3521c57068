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


@pytest.mark.parametrize("currency, minor", [("CNY", 2), ("USD", 2), ("JPY", 0), ("KRW", 0), ("KWD", 3),
                                              ("BHD", 3), ("CLF", 4), ("NOK", 2), ("UYW", 4)])
def test_minor_units_come_from_iso_4217(currency, minor):
    # Currencies outside the old hand-kept table of 21 (NOK, CLF, UYW) now get their real exponent.
    assert money.minor_units(currency) == minor


@pytest.mark.parametrize("code", ["ZZZ", "cny", "CN", "CNYY", "XAU", "XXX", "XTS", "", "12A"])
def test_unknown_and_non_monetary_codes_refused(code):
    assert not money.is_currency(code)
    with pytest.raises(money.MoneyError):
        money.minor_units(code)


def test_currency_code_field_refuses_zzz():
    from pydantic import BaseModel, ValidationError

    class M(BaseModel):
        currency: money.CurrencyCode

    assert M(currency="KWD").currency == "KWD"
    with pytest.raises(ValidationError, match="ZZZ"):
        M(currency="ZZZ")


def test_format_amount_prints_exactly_the_minor_unit():
    # Stored NUMERIC(20, 4) values come back as "8000.0000"; they print in minor units.
    assert money.format_amount(Decimal("8000.0000"), "CNY") == "8000.00"
    assert money.format_amount(Decimal("8000.0000"), "JPY") == "8000"
    assert money.format_amount(Decimal("8000.0000"), "KWD") == "8000.000"
    assert money.format_amount(Decimal("8E+3"), "JPY") == "8000"  # never exponent form
    # Half up at the minor unit: JPY 1234.5 -> 1235, KWD 1.2345 -> 1.235, CNY 0.125 -> 0.13.
    assert money.format_amount(Decimal("1234.5"), "JPY") == "1235"
    assert money.format_amount(Decimal("-1234.5"), "JPY") == "-1235"
    assert money.format_amount(Decimal("1.2345"), "KWD") == "1.235"
    assert money.format_amount(Decimal("0.125"), "CNY") == "0.13"
    assert money.format_amount(Decimal("-0.001"), "CNY") == "0.00"  # no negative zero
    assert money.format_amount(7, "KWD") == "7.000"


def test_quantize_rounding_per_currency():
    # 1000 JPY at 0.0482 CNY/JPY = 48.2 CNY; 48.2 CNY / 0.0482 = 1000 JPY; 333.3333 KWD stays at 3 places.
    assert money.quantize(Decimal("1000") * Decimal("0.0482"), "CNY") == Decimal("48.20")
    assert money.quantize(Decimal("48.2") / Decimal("0.0482"), "JPY") == Decimal("1000")
    assert money.quantize(Decimal("1000") / 3, "KWD") == Decimal("333.333")
    # Banker's rounding on request, for allocations: 0.5 JPY -> 0, 1.5 -> 2.
    assert money.quantize(Decimal("0.5"), "JPY", rounding=money.ROUND_HALF_EVEN) == Decimal("0")
    assert money.quantize(Decimal("1.5"), "JPY", rounding=money.ROUND_HALF_EVEN) == Decimal("2")


def test_format_price_keeps_its_precision_without_trailing_junk():
    assert money.format_price(Decimal("100"), "CNY") == "100.00"
    assert money.format_price(Decimal("100.000000"), "CNY") == "100.00"
    assert money.format_price(Decimal("12.345000"), "CNY") == "12.345"
    assert money.format_price(Decimal("0.1234567"), "CNY") == "0.123457"  # 6 places, half up
    assert money.format_price(Decimal("100.000000"), "JPY") == "100"
    assert money.format_price(Decimal("0.5"), "JPY") == "0.5"
    assert money.format_price(Decimal("2.5"), "KWD") == "2.500"


def test_format_rate_prints_significant_digits():
    assert money.format_rate(Decimal("7.1000000000")) == "7.1"
    assert money.format_rate(Decimal("0.0482000000")) == "0.0482"
    assert money.format_rate(Decimal("100.0000000000")) == "100"  # not "1E+2"


def test_exact_refuses_digits_beyond_the_minor_unit():
    assert str(money.exact(Decimal("1000"), "JPY")) == "1000"
    assert str(money.exact(Decimal("1.125"), "KWD")) == "1.125"
    assert str(money.exact(Decimal("1.50"), "CNY")) == "1.50"
    for amount, cur in (("100.5", "JPY"), ("1.005", "CNY"), ("1.0001", "KWD")):
        with pytest.raises(money.MoneyError, match=f"{cur} amounts have"):
            money.exact(Decimal(amount), cur)


def test_amount_pb_puts_money_on_the_wire_at_its_minor_unit():
    # 1234.5 JPY -> 1235 (half up); 1.2345 KWD -> 1.235 = 1 unit + 235,000,000 nanos
    jpy, kwd = money.amount_pb(Decimal("1234.5"), "JPY"), money.amount_pb(Decimal("1.2345"), "KWD")
    assert (jpy.currency_code, jpy.units, jpy.nanos) == ("JPY", 1235, 0)
    assert (kwd.units, kwd.nanos) == (1, 235_000_000)
    assert money.from_proto(money.amount_pb("8000.0000", "CNY")) == Decimal("8000.00")


def test_format_price_is_the_shortest_text_at_least_the_minor_unit_over_many_values():
    """Checked against the definition (significant decimals of the 6-place price, at least the
    currency's minor unit), over values around every rounding and padding edge."""

    def by_definition(price, currency: str) -> str:
        value = Decimal(price).quantize(Decimal("0.000001"), rounding="ROUND_HALF_UP")
        text = f"{value.normalize():f}"
        places = len(("0" if text in ("-0", "0") else text).partition(".")[2])
        return f"{value.quantize(Decimal(1).scaleb(-max(places, money.minor_units(currency)))):f}"

    values = ["0", "-0", "0.0000004", "0.0000005", "-0.0000005", "1", "100", "1E+2", "12.5", "12.50", "12.345",
              "0.123456", "0.1234565", "7.1000000000", "-3.25", "99999999999999.999999", "0.5", "1000000", 7, "3.10"]
    for v in values:
        for cur in ("CNY", "JPY", "KWD"):
            assert money.format_price(v if isinstance(v, int) else Decimal(v), cur) == by_definition(v, cur), (v, cur)
    assert money.format_price(Decimal("12.5"), "EUR") == "12.50"
    assert money.format_price("0.5", "JPY") == "0.5"
