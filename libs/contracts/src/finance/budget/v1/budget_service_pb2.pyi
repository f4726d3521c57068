from finance.common.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ControlMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONTROL_MODE_UNSPECIFIED: _ClassVar[ControlMode]
    CONTROL_MODE_BLOCK: _ClassVar[ControlMode]
    CONTROL_MODE_WARN: _ClassVar[ControlMode]
    CONTROL_MODE_NONE: _ClassVar[ControlMode]
CONTROL_MODE_UNSPECIFIED: ControlMode
CONTROL_MODE_BLOCK: ControlMode
CONTROL_MODE_WARN: ControlMode
CONTROL_MODE_NONE: ControlMode

class CheckBudgetRequest(_message.Message):
    __slots__ = ("company_id", "cost_centre", "budget_item", "period", "amount")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    COST_CENTRE_FIELD_NUMBER: _ClassVar[int]
    BUDGET_ITEM_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    cost_centre: str
    budget_item: str
    period: str
    amount: _types_pb2.Money
    def __init__(self, company_id: _Optional[str] = ..., cost_centre: _Optional[str] = ..., budget_item: _Optional[str] = ..., period: _Optional[str] = ..., amount: _Optional[_Union[_types_pb2.Money, _Mapping]] = ...) -> None: ...

class ReserveBudgetRequest(_message.Message):
    __slots__ = ("check", "document_ref", "idempotency_key", "expires_in_seconds")
    CHECK_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_REF_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_IN_SECONDS_FIELD_NUMBER: _ClassVar[int]
    check: CheckBudgetRequest
    document_ref: str
    idempotency_key: str
    expires_in_seconds: int
    def __init__(self, check: _Optional[_Union[CheckBudgetRequest, _Mapping]] = ..., document_ref: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., expires_in_seconds: _Optional[int] = ...) -> None: ...

class CommitBudgetRequest(_message.Message):
    __slots__ = ("company_id", "document_ref", "amount", "invoice_ref")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_REF_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    INVOICE_REF_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    document_ref: str
    amount: _types_pb2.Money
    invoice_ref: str
    def __init__(self, company_id: _Optional[str] = ..., document_ref: _Optional[str] = ..., amount: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., invoice_ref: _Optional[str] = ...) -> None: ...

class ReleaseBudgetRequest(_message.Message):
    __slots__ = ("company_id", "document_ref")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_REF_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    document_ref: str
    def __init__(self, company_id: _Optional[str] = ..., document_ref: _Optional[str] = ...) -> None: ...

class BudgetDecision(_message.Message):
    __slots__ = ("allowed", "budget", "consumed", "reserved", "available", "control_mode", "reason", "warning", "budget_line_id", "requested", "conversion")
    ALLOWED_FIELD_NUMBER: _ClassVar[int]
    BUDGET_FIELD_NUMBER: _ClassVar[int]
    CONSUMED_FIELD_NUMBER: _ClassVar[int]
    RESERVED_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    CONTROL_MODE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    WARNING_FIELD_NUMBER: _ClassVar[int]
    BUDGET_LINE_ID_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_FIELD_NUMBER: _ClassVar[int]
    CONVERSION_FIELD_NUMBER: _ClassVar[int]
    allowed: bool
    budget: _types_pb2.Money
    consumed: _types_pb2.Money
    reserved: _types_pb2.Money
    available: _types_pb2.Money
    control_mode: ControlMode
    reason: str
    warning: bool
    budget_line_id: str
    requested: _types_pb2.Money
    conversion: _types_pb2.Conversion
    def __init__(self, allowed: _Optional[bool] = ..., budget: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., consumed: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., reserved: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., available: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., control_mode: _Optional[_Union[ControlMode, str]] = ..., reason: _Optional[str] = ..., warning: _Optional[bool] = ..., budget_line_id: _Optional[str] = ..., requested: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., conversion: _Optional[_Union[_types_pb2.Conversion, _Mapping]] = ...) -> None: ...
