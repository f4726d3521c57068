"""Which protobuf messages are events, their CloudEvents type, topic and key.

Read from the `(finance.common.v1.event)` option in proto/, so the contracts are the one
place that says where an event goes; nothing here is a second, hand-kept list.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass

import finance
from finance.common.v1 import types_pb2
from google.protobuf.message import Message


@dataclass(frozen=True)
class EventSpec:
    ce_type: str
    topic: str
    key_field: str
    producer: str
    message_class: type[Message]

    def key_of(self, msg: Message) -> str:
        return str(getattr(msg, self.key_field))


def ce_type_of(full_name: str) -> str:
    # finance.ar.v1.InvoiceIssued -> finance.ar.InvoiceIssued.v1
    parts = full_name.split(".")
    return ".".join([*parts[:-2], parts[-1], parts[-2]])


class Registry:
    def __init__(self) -> None:
        self._by_type: dict[str, EventSpec] = {}
        self._by_class: dict[type[Message], EventSpec] = {}
        self._loaded = False

    def _load(self) -> None:
        if self._loaded:
            return
        for mod in pkgutil.walk_packages(finance.__path__, "finance."):
            if not mod.name.endswith("_pb2"):
                continue
            module = importlib.import_module(mod.name)
            for desc in module.DESCRIPTOR.message_types_by_name.values():
                opts = desc.GetOptions()
                if not opts.HasExtension(types_pb2.event):
                    continue
                opt = opts.Extensions[types_pb2.event]
                cls = getattr(module, desc.name)
                spec = EventSpec(ce_type_of(desc.full_name), opt.topic, opt.key, opt.producer, cls)
                self._by_type[spec.ce_type] = spec
                self._by_class[cls] = spec
        self._loaded = True

    def by_type(self, ce_type: str) -> EventSpec:
        self._load()
        try:
            return self._by_type[ce_type]
        except KeyError:
            raise KeyError(f"unknown event type {ce_type!r}") from None

    def for_message(self, msg: Message) -> EventSpec:
        self._load()
        try:
            return self._by_class[type(msg)]
        except KeyError:
            raise KeyError(f"{type(msg).__name__} is not declared as an event in proto/") from None

    def all(self) -> list[EventSpec]:
        self._load()
        return sorted(self._by_type.values(), key=lambda s: s.ce_type)

    def topics(self, producer: str | None = None) -> list[str]:
        return sorted({s.topic for s in self.all() if producer is None or s.producer == producer})


registry = Registry()
