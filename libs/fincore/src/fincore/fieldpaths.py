"""Field paths into protobuf events, as the GL's posting rules name them: one reading for the
ledger (gl.domain.rules, which posts by the rules) and the checker (finverify.rules, which
tells from the same rules whether an event had nothing to post). The two must agree on which
rule an event matches and whether a field is set; the checker cannot import the ledger, so
the reading lives here.

A path is dotted field names (`lines`, `dimensions.cost_centre`), relative to the message it
is read on (an event, or an element of a repeated field the rule iterates); a leading `^`
reads from the event itself. A value is compared as text: Money as its decimal amount, Date
as ISO, enums as their numbers, strings as they are (`text`). A condition (`when`) maps a
path to the texts it may have, or to `@present` / `@absent`: a message field set, a repeated
field not empty, a scalar not its default - or not.

The ledger drafts every event through these, so they are compiled once per path and message
type (`text_getter`, `presence`, `Conditions`): an attribute getter, and for a string field
no conversion at all."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from typing import Any

from finance.common.v1 import types_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from fincore import dates, money

PRESENT, ABSENT = "@present", "@absent"


class FieldPathError(ValueError):
    """A path names no field of the message type."""


@cache
def parse(path: str) -> tuple[bool, tuple[str, ...]]:
    """(from the event's root?, the attribute names), parsed once per path."""
    return path.startswith("^"), tuple(path.lstrip("^").split("."))


def resolve(root: Message, item: Message, path: str) -> Any:
    """The value at `path`: on `item`, or on `root` for a `^` path."""
    from_root, parts = parse(path)
    obj: Any = root if from_root else item
    for part in parts:
        obj = getattr(obj, part)
    return obj


def field_of(desc: Descriptor, path: str, root: Descriptor) -> FieldDescriptor:
    """The descriptor of the field at `path` on `desc` (`root` for a `^` path)."""
    d: Descriptor | None = root if path.startswith("^") else desc
    fd = None
    for part in parse(path)[1]:
        if d is None or part not in d.fields_by_name:
            raise FieldPathError(f"no field {path!r} on {(d or desc).full_name}")
        fd = d.fields_by_name[part]
        d = fd.message_type
    return fd


def text(value: Any) -> str:
    """A field's value as conditions compare it."""
    if isinstance(value, types_pb2.Money):
        return str(money.from_proto(value))
    if isinstance(value, types_pb2.Date):
        return dates.from_proto(value).isoformat()
    return str(value)


def value_getter(path: str) -> tuple[bool, Callable[[Message], Any]]:
    """(from the event's root?, a function giving the value at `path`)."""
    from_root, parts = parse(path)
    return from_root, operator.attrgetter(".".join(parts))


def text_getter(path: str, desc: Descriptor | None = None,
                root: Descriptor | None = None) -> tuple[bool, Callable[[Message], str]]:
    """(from the event's root?, a function giving the value at `path` as `text`); a string
    field (known from the descriptors `desc` of the item and `root` of the event) is read as
    it is."""
    from_root, get = value_getter(path)
    if desc is not None and root is not None:
        fd = field_of(desc, path, root)
        if fd.type == FieldDescriptor.TYPE_STRING and not fd.is_repeated:
            return from_root, get
    return from_root, lambda obj: text(get(obj))


def presence(path: str, root: Descriptor) -> Callable[[Message], bool]:
    """A function telling whether the field at `path` is set on a message of type `root`: a
    message field with presence, a repeated field not empty, a scalar not its default."""
    *head, last = parse(path)[1]
    fd = field_of(root, path, root)
    parent = operator.attrgetter(".".join(head)) if head else None
    if fd.is_repeated:
        field = operator.attrgetter(last)
        return (lambda msg: len(field(parent(msg))) > 0) if parent else (lambda msg: len(field(msg)) > 0)
    if fd.message_type is not None:
        return (lambda msg: parent(msg).HasField(last)) if parent else (lambda msg: msg.HasField(last))
    field = operator.attrgetter(last)
    return (lambda msg: bool(field(parent(msg)))) if parent else (lambda msg: bool(field(msg)))


class Conditions:
    """A rule's `when` conditions compiled for its event type: `matches(msg)` is True when
    every condition holds. `when` maps paths to the texts they may have (enum values by
    number), or to (`@present`,) / (`@absent`,)."""

    __slots__ = ("_checks",)

    def __init__(self, when: Mapping[str, Iterable[str]], root: Descriptor) -> None:
        checks: list[Callable[[Message], bool]] = []
        for path, values in when.items():
            values = tuple(values)
            if values in ((PRESENT,), (ABSENT,)):
                is_set = presence(path, root)
                checks.append(is_set if values == (PRESENT,) else (lambda msg, f=is_set: not f(msg)))
            else:
                get = text_getter(path.lstrip("^"), root, root)[1]
                allowed = frozenset(values)
                checks.append(lambda msg, get=get, allowed=allowed: get(msg) in allowed)
        self._checks = tuple(checks)

    def matches(self, msg: Message) -> bool:
        for check in self._checks:
            if not check(msg):
                return False
        return True
