import datetime as dt
from decimal import Decimal

import pytest
from cockpit.i18n import MESSAGES, Translator, negotiate


def test_every_message_has_english_and_chinese():
    for key, (en, zh) in MESSAGES.items():
        assert en.strip() and zh.strip(), key


@pytest.mark.parametrize(("choice", "header", "lang"), [
    ("zh", "en-US,en;q=0.9", "zh"), ("en", "zh-CN", "en"), (None, "zh-CN,zh;q=0.9,en;q=0.8", "zh"),
    (None, "fr-FR,en;q=0.5,zh;q=0.7", "zh"), (None, "zh;q=0,en;q=0.1", "en"), (None, "", "en"), (None, "de", "en"),
    ("xx", "zh-Hans", "zh")])
def test_language_by_choice_then_accept_language(choice, header, lang):
    assert negotiate(choice, header) == lang


def test_amounts_at_the_minor_unit_per_locale():
    en, zh = Translator("en"), Translator("zh")
    assert en.amount(Decimal("1234567.5"), "CNY") == "1,234,567.50"
    assert zh.amount("-1234.56", "CNY") == "-1,234.56"
    assert en.amount("1234", "JPY") == "1,234"
    assert en.amount(None, "CNY") == "—"
    assert en.percent(Decimal("43.7")) == "43.7 %"
    assert zh.date(dt.date(2026, 11, 30)) == "2026年11月30日"
    assert en.date("2026-11-30") == "Nov 30, 2026"
    assert zh("revenue") == "营业收入" and en("revenue") == "Revenue"
    assert zh.account_name({"name_zh": "应收账款", "name_en": "Accounts receivable"}) == "应收账款"
