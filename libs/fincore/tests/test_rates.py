"""Conversion at the ledger's rate of the day (fincore.rates): the arithmetic, the lookup of the
latest rate on or before a day, crossing through the functional currency, and the consumer that
keeps the copy from the GL's ExchangeRatesSet events."""

import asyncio
import datetime as dt
from decimal import Decimal as D

import pytest
from finance.gl.v1 import events_pb2 as gl
from fincore import dates, rates
from fincore.db import Database
from fincore.events import new_envelope


def test_cross_rate_goes_through_the_functional_currency():
    book = {"USD": D("7.10"), "EUR": D("7.80"), "JPY": D("0.0482")}
    assert rates.cross_rate("USD", "CNY", "CNY", book) == D("7.10")  # straight from the book
    # CNY -> USD: 1 / 7.10 = 0.140845070422... -> 10 places, half even
    assert rates.cross_rate("CNY", "USD", "CNY", book) == D("0.1408450704")
    # USD -> EUR: 7.10 / 7.80 = 0.910256410256... -> 0.9102564103
    assert rates.cross_rate("USD", "EUR", "CNY", book) == D("0.9102564103")
    with pytest.raises(KeyError):
        rates.cross_rate("GBP", "CNY", "CNY", book)


@pytest.mark.parametrize("amount, src, dst, rate, expected", [
    ("99000", "USD", "CNY", "7.10", "702900.00"),  # 99,000 x 7.10
    ("10000.00", "USD", "CNY", "7.10", "71000.00"),
    ("1234", "JPY", "CNY", "0.0482", "59.48"),  # 1,234 x 0.0482 = 59.4788 -> 59.48
    ("100.00", "CNY", "JPY", "20.7468879668", "2075"),  # 2,074.68879668 -> 2,075 (JPY: no decimals)
    ("100.00", "USD", "KWD", "0.3071", "30.710"),  # KWD: 3 decimals
    ("0.01", "USD", "CNY", "7.10", "0.07"),  # 0.071 -> 0.07
])
def test_converted_amount_is_rounded_half_up_to_the_target_minor_unit(amount, src, dst, rate, expected):
    c = rates.convert_at(D(amount), src, dst, D(rate), dt.date(2026, 11, 1))
    assert str(c.amount) == expected and c.currency == dst and c.converted
    assert c.as_dict()["original_amount"] == str(D(amount).quantize(D(1).scaleb(-{"USD": 2, "JPY": 0, "CNY": 2}[src])))
    assert c.columns() == {"original_amount": D(amount), "original_currency": src, "rate": D(rate),
                           "rate_date": dt.date(2026, 11, 1)}


@pytest.fixture()
def db(tmp_path):
    d = Database(f"sqlite+aiosqlite:///{tmp_path / 'rates.db'}")

    async def create():
        async with d.engine.begin() as conn:
            await conn.run_sync(rates.LedgerRate.__table__.create)

    asyncio.run(create())
    yield d
    asyncio.run(d.dispose())


def rates_set(company: str, *entries: tuple[str, dt.date, str], functional: str = "CNY"):
    return new_envelope(gl.ExchangeRatesSet(
        company_id=company, occurrence_date=dates.to_proto(dt.date(2026, 12, 2)), functional_currency=functional,
        rates=[gl.ExchangeRate(currency=c, rate_date=dates.to_proto(d), rate=r) for c, d, r in entries]), source="gl")


def test_the_copy_converts_at_the_latest_rate_on_or_before_the_day(db):
    nov1, nov15, nov20 = dt.date(2026, 11, 1), dt.date(2026, 11, 15), dt.date(2026, 11, 20)

    async def scenario():
        handler = rates.LedgerRatesConsumer()
        async with db.transaction() as s:
            await handler(s, rates_set("C", ("USD", nov1, "7.10"), ("EUR", nov1, "7.80")))
            await handler(s, rates_set("C", ("USD", nov15, "7.20")))
            await handler(s, rates_set("OTHER", ("USD", nov1, "1.5"), functional="SGD"))
        async with db.transaction() as s:  # a correction of the 15th: the later event wins
            await handler(s, rates_set("C", ("USD", nov15, "7.15")))
        async with db.sessions() as s:
            before = await rates.convert(s, "C", D("100.00"), "USD", "CNY", dt.date(2026, 11, 14))
            after = await rates.convert(s, "C", D("100.00"), "USD", "CNY", nov20)
            cross = await rates.convert(s, "C", D("100.00"), "USD", "EUR", nov20)
            same = await rates.convert(s, "C", D("100.00"), "CNY", "CNY", nov20)
            with pytest.raises(rates.RateUnavailable, match="USD/CNY on or before 2026-10-31"):
                await rates.convert(s, "C", D("1"), "USD", "CNY", dt.date(2026, 10, 31))
            with pytest.raises(rates.RateUnavailable, match="GBP/CNY"):
                await rates.convert(s, "C", D("1"), "GBP", "CNY", nov20)
            with pytest.raises(rates.RateUnavailable, match="in company NONE"):
                await rates.convert(s, "NONE", D("1"), "USD", "CNY", nov20)
        return before, after, cross, same

    before, after, cross, same = asyncio.run(scenario())
    assert (before.amount, before.rate, before.rate_date) == (D("710.00"), D("7.10"), dt.date(2026, 11, 1))
    assert (after.amount, after.rate, after.rate_date) == (D("715.00"), D("7.15"), nov15)
    # USD -> EUR on the 20th: 7.15 / 7.80 = 0.9166666667; 100 x that = 91.67; dated by the older rate (1 Nov)
    assert (cross.amount, cross.rate, cross.rate_date) == (D("91.67"), D("0.9166666667"), nov1)
    assert not same.converted and same.amount == D("100.00") and same.columns()["rate"] is None
