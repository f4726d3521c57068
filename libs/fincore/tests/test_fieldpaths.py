"""fincore.fieldpaths: the one reading of the posting rules' field paths that the ledger (gl)
and the checker (finverify) share."""

from __future__ import annotations

import datetime as dt
import operator
from decimal import Decimal

import pytest
from finance.ap.v1 import events_pb2 as ap
from finance.ar.v1 import events_pb2 as ar
from fincore import dates, money
from fincore.fieldpaths import ABSENT, PRESENT, Conditions, FieldPathError, field_of, presence, resolve, text_getter

INV = ar.InvoiceIssued.DESCRIPTOR


def invoice(**kw) -> ar.InvoiceIssued:
    return ar.InvoiceIssued(company_id="C", document_number="I-1", customer_code="K",
                            occurrence_date=dates.to_proto(dt.date(2026, 12, 3)), **kw)


@pytest.mark.parametrize("path, kw, expected", [
    ("lines", {}, False),  # repeated: not empty
    ("lines", {"lines": [ar.InvoiceLine(line_no=1)]}, True),
    ("gross_total", {}, False),  # message: set, even to zero
    ("gross_total", {"gross_total": money.to_proto(Decimal(0), "CNY")}, True),
    ("customer_group", {}, False),  # scalar: not its default
    ("customer_group", {"customer_group": "INTERCO"}, True),
    ("dimensions.project", {"dimensions": {"cost_centre": "CC"}}, False),  # nested
    ("dimensions.project", {"dimensions": {"project": "P1"}}, True),
    ("^dimensions", {"dimensions": {"project": "P1"}}, True),
])
def test_presence(path, kw, expected):
    assert presence(path, INV)(invoice(**kw)) is expected


def test_conditions_compare_as_text_and_by_presence():
    m = invoice(customer_group="INTERCO", gross_total=money.to_proto(Decimal("113.00"), "CNY"))
    assert Conditions({"customer_group": ("INTERCO", "GROUP")}, INV).matches(m)
    assert not Conditions({"customer_group": ("GROUP",)}, INV).matches(m)
    assert Conditions({"gross_total": ("113.00",), "occurrence_date": ("2026-12-03",)}, INV).matches(m)
    assert Conditions({"lines": (ABSENT,), "gross_total": (PRESENT,)}, INV).matches(m)
    assert not Conditions({"lines": (PRESENT,)}, INV).matches(m)
    assert Conditions({}, INV).matches(m)
    kind = str(ap.INVOICE_KIND_STOCK)  # enums by number (the ledger reads names when it loads its rules)
    assert Conditions({"kind": (kind,)}, ap.InvoiceApproved.DESCRIPTOR).matches(
        ap.InvoiceApproved(kind=ap.INVOICE_KIND_STOCK))


def test_getters_and_resolve():
    m = invoice(lines=[ar.InvoiceLine(line_no=1, item_code="P1", net=money.to_proto(Decimal("5.5"), "CNY"))])
    item = m.lines[0]
    line = INV.fields_by_name["lines"].message_type
    from_root, get = text_getter("item_code", line, INV)
    assert not from_root and isinstance(get, operator.attrgetter) and get(item) == "P1"  # a string: as it is
    assert text_getter("net", line, INV)[1](item) == "5.50"
    from_root, get = text_getter("^customer_code", line, INV)
    assert from_root and get(m) == "K"
    assert text_getter("line_no", line, INV)[1](item) == "1"
    assert resolve(m, item, "^document_number") == "I-1" and resolve(m, item, "item_code") == "P1"


def test_an_unknown_path_is_refused():
    with pytest.raises(FieldPathError, match="no field 'lines.colour'"):
        field_of(INV, "lines.colour", INV)
    with pytest.raises(FieldPathError):
        Conditions({"colour": ("RED",)}, INV)
