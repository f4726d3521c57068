from finance.common.v1 import types_pb2 as _types_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CheckCreditRequest(_message.Message):
    __slots__ = ("company_id", "customer_code", "amount", "order_ref")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_CODE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    ORDER_REF_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    customer_code: str
    amount: _types_pb2.Money
    order_ref: str
    def __init__(self, company_id: _Optional[str] = ..., customer_code: _Optional[str] = ..., amount: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., order_ref: _Optional[str] = ...) -> None: ...

class ReserveCreditRequest(_message.Message):
    __slots__ = ("company_id", "customer_code", "amount", "order_ref", "idempotency_key")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_CODE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    ORDER_REF_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    customer_code: str
    amount: _types_pb2.Money
    order_ref: str
    idempotency_key: str
    def __init__(self, company_id: _Optional[str] = ..., customer_code: _Optional[str] = ..., amount: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., order_ref: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class CreditDecision(_message.Message):
    __slots__ = ("approved", "limit", "exposure", "available", "reason", "policy", "amount", "conversion")
    APPROVED_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    EXPOSURE_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CONVERSION_FIELD_NUMBER: _ClassVar[int]
    approved: bool
    limit: _types_pb2.Money
    exposure: _types_pb2.Money
    available: _types_pb2.Money
    reason: str
    policy: str
    amount: _types_pb2.Money
    conversion: _types_pb2.Conversion
    def __init__(self, approved: _Optional[bool] = ..., limit: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., exposure: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., available: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., reason: _Optional[str] = ..., policy: _Optional[str] = ..., amount: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., conversion: _Optional[_Union[_types_pb2.Conversion, _Mapping]] = ...) -> None: ...

class ReleaseCreditRequest(_message.Message):
    __slots__ = ("company_id", "customer_code", "order_ref")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_CODE_FIELD_NUMBER: _ClassVar[int]
    ORDER_REF_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    customer_code: str
    order_ref: str
    def __init__(self, company_id: _Optional[str] = ..., customer_code: _Optional[str] = ..., order_ref: _Optional[str] = ...) -> None: ...

class ReleaseCreditResponse(_message.Message):
    __slots__ = ("released", "released_amount")
    RELEASED_FIELD_NUMBER: _ClassVar[int]
    RELEASED_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    released: bool
    released_amount: _types_pb2.Money
    def __init__(self, released: _Optional[bool] = ..., released_amount: _Optional[_Union[_types_pb2.Money, _Mapping]] = ...) -> None: ...
