"""The base of every request schema: what any input must satisfy before a route sees it.

Why this exists: hostile or careless input reached the services' logic and databases as
500s or as wrong effects ("post": "yes" posted a journal; a supplier name with control
characters broke the bank file; 9999999999999999.99 was stored as 1e16 on SQLite; an integer
beyond 64 bits overflowed PostgreSQL). One base model holds the rules, so no route has to
remember them:

- unknown fields are refused (no mass assignment);
- booleans are JSON booleans (no "yes", "1", 1);
- strings carry no control characters (a `Text` field may hold line breaks and tabs);
- dates lie in the supported range (fincore.dates: 1900-01-01 .. 2199-12-31);
- integers fit 64 bits, and decimals have at most 15 significant digits: what both
  databases store exactly (SQLite keeps NUMERIC as an 8-byte float, exact to 15 digits;
  the PostgreSQL NUMERIC columns hold more, and the API does not depend on the database).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, Strict, model_validator

from fincore.dates import MAX_DATE, MIN_DATE

MAX_SIGNIFICANT_DIGITS = 15
INT64 = (-(2**63), 2**63 - 1)
_MULTILINE = "fincore:multiline"
# Unicode category Cc is exactly U+0000-U+001F and U+007F-U+009F; with the line and paragraph
# separators. One regex scan per string (a 10,000-line request checks tens of thousands).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_BUT_LINE_BREAKS_AND_TABS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")


def control_characters(s: str, *, multiline: bool = False) -> list[str]:
    """The control (Unicode category Cc) and format-breaking separator characters in `s`
    (a multi-line text may hold line breaks and tabs)."""
    return (_CONTROL_BUT_LINE_BREAKS_AND_TABS if multiline else _CONTROL).findall(s)


def check_text(s: str, *, multiline: bool = False) -> str:
    bad = control_characters(s, multiline=multiline)
    if bad:
        raise ValueError(f"control characters are not allowed (found {', '.join(sorted({repr(c) for c in bad}))})")
    return s


def check_decimal(d: Decimal) -> Decimal:
    if not d.is_finite():
        raise ValueError("not a finite number")
    digits = len(d.normalize().as_tuple().digits)
    if digits > MAX_SIGNIFICANT_DIGITS and d != 0:
        raise ValueError(f"at most {MAX_SIGNIFICANT_DIGITS} significant digits are stored exactly")
    return d


def _check(value: Any, multiline: bool) -> None:
    # Fast paths first (a 10,000-line request checks tens of thousands of values): a printable
    # string has no control character (they, U+2028 and U+2029 are all non-printable); a
    # finite decimal whose text is at most 15 characters has at most 15 digits.
    kind = type(value)
    if kind is str:
        if not value.isprintable():
            check_text(value, multiline=multiline)
    elif kind is Decimal:
        if not (value.is_finite() and len(str(value)) <= MAX_SIGNIFICANT_DIGITS):
            check_decimal(value)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, str):
        check_text(value, multiline=multiline)
    elif isinstance(value, int):
        if not INT64[0] <= value <= INT64[1]:
            raise ValueError("integer out of range (64 bits)")
    elif isinstance(value, Decimal):
        check_decimal(value)
    elif isinstance(value, dt.date):
        d = value.date() if isinstance(value, dt.datetime) else value
        if not MIN_DATE <= d <= MAX_DATE:
            raise ValueError(f"date out of the supported range {MIN_DATE}..{MAX_DATE}")
    elif isinstance(value, dict):
        for k, v in value.items():
            _check(k, multiline)
            _check(v, multiline)
    elif isinstance(value, list | tuple | set | frozenset):
        for v in value:
            if not isinstance(v, BaseModel):  # a nested schema checked itself
                _check(v, multiline)


def _needs_check(annotation: Any) -> bool:
    """False for fields whose values the schema itself makes safe: booleans (strict), nested
    schemas and lists of them (each checks itself), literals without control characters."""
    import types
    import typing

    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _needs_check(args[0])
    if origin in (typing.Union, types.UnionType):
        return any(_needs_check(a) for a in args if a is not type(None))
    if origin is typing.Literal:
        return not all(isinstance(a, bool) or (isinstance(a, str) and a.isprintable()) for a in args)
    if origin in (list, tuple, set, frozenset) and args:
        return any(_needs_check(a) for a in args if a is not Ellipsis)
    if annotation is bool:
        return False
    return not (isinstance(annotation, type) and issubclass(annotation, BaseModel))


def _is_bool(annotation: Any) -> bool:
    import types
    import typing

    if annotation is bool:
        return True
    args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _is_bool(args[0])
    if origin in (typing.Union, types.UnionType):
        non_none = [a for a in args if a is not type(None)]
        return len(non_none) == 1 and _is_bool(non_none[0])
    return False


class StrictModel(BaseModel):
    """Base of request schemas (see the module docstring for the rules).

    Cheap by construction (a 10,000-line invoice is one request): booleans are made strict
    in the schema itself when the class is created, and the value checks run once per object
    over the fields that can hold a scalar."""

    model_config = ConfigDict(extra="forbid")
    _fincore_checked: ClassVar[tuple[tuple[str, bool], ...]] = ()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        rebuild = False
        for f in cls.model_fields.values():
            if _is_bool(f.annotation) and not any(isinstance(m, Strict) for m in f.metadata):
                f.metadata.append(Strict())
                rebuild = True
        if rebuild:
            cls.model_rebuild(force=True, raise_errors=False)
        cls._fincore_checked = tuple((name, _MULTILINE in f.metadata) for name, f in cls.model_fields.items()
                                     if _needs_check(f.annotation))

    @model_validator(mode="after")
    def _safe_values(self) -> Self:
        values = self.__dict__
        for name, multiline in self._fincore_checked:
            value = values[name]
            if value is not None and not isinstance(value, BaseModel):
                try:
                    _check(value, multiline)
                except ValueError as exc:
                    raise ValueError(f"{name}: {exc}") from None
        return self


# Text that may span lines (descriptions, notes); every other string is one line.
Text = Annotated[str, _MULTILINE]
Name = Annotated[str, Field(min_length=1, max_length=200)]
# A database row id given in a path or query (a bigint): 1 .. 2^63-1.
RowId = Annotated[int, Field(ge=1, le=INT64[1])]
