"""fincore.schemas: the fast paths of the value checks refuse exactly what the full checks
refuse (every code point; decimals around the 15-digit bound), and fields the schema makes
safe (nested schemas, strict booleans, literals) are not walked again."""

from __future__ import annotations

import sys
from decimal import Decimal
from typing import Literal

import pytest
from fincore.schemas import MAX_SIGNIFICANT_DIGITS, StrictModel, Text, _check, check_decimal, check_text
from pydantic import ValidationError


def _refused(fn, *args, **kwargs) -> bool:
    try:
        fn(*args, **kwargs)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("multiline", [False, True])
def test_every_code_point_is_judged_as_the_regex_judges_it(multiline):
    for cp in range(sys.maxunicode + 1):
        if 0xD800 <= cp <= 0xDFFF:
            continue  # surrogates never come out of JSON as lone str characters here
        s = f"ab{chr(cp)}c"
        assert _refused(_check, s, multiline) == _refused(check_text, s, multiline=multiline), hex(cp)


def test_decimals_around_the_bound_are_judged_as_the_full_check_judges_them():
    values = ["0", "-0", "0E-30", "1E+40", "123456789012345", "1234567890123456", "-12345678901234.5",
              "12345678901234.50", "0.000000000000001", "0.0000000000000001234567890123456",
              "9999999999999999.99", "100000000000000000000", "1.000000000000000000", "NaN", "Infinity", "-Infinity",
              "12.625", "-1.5E-7"]
    for text in values:
        d = Decimal(text)
        assert _refused(_check, d, False) == _refused(check_decimal, d), text
    assert MAX_SIGNIFICANT_DIGITS == 15


class _Line(StrictModel):
    code: str
    note: Text = ""


class _Doc(StrictModel):
    kind: Literal["a", "b"]
    flag: bool = False
    lines: list[_Line]
    tags: list[str] = []


def test_nested_schemas_and_safe_fields_are_not_walked_again_but_still_checked():
    assert [n for n, _ in _Doc._fincore_checked] == ["tags"]
    assert _Doc(kind="a", lines=[{"code": "X", "note": "two\nlines\ttab"}]).lines[0].note == "two\nlines\ttab"
    for bad in ({"kind": "a", "lines": [{"code": "X\x00"}]}, {"kind": "a", "lines": [{"code": "X", "note": "\x07"}]},
                {"kind": "a", "lines": [], "tags": ["ok", "bad\u2028"]}, {"kind": "a", "lines": [], "flag": "yes"}):
        with pytest.raises(ValidationError):
            _Doc.model_validate(bad)
