from finance.common.v1 import types_pb2 as _types_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AssetAcquired(_message.Message):
    __slots__ = ("company_id", "document_number", "occurrence_date", "asset_id", "asset_class", "supplier_code", "cost", "dimensions")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_DATE_FIELD_NUMBER: _ClassVar[int]
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    ASSET_CLASS_FIELD_NUMBER: _ClassVar[int]
    SUPPLIER_CODE_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    document_number: str
    occurrence_date: _types_pb2.Date
    asset_id: str
    asset_class: str
    supplier_code: str
    cost: _types_pb2.Money
    dimensions: _types_pb2.Dimensions
    def __init__(self, company_id: _Optional[str] = ..., document_number: _Optional[str] = ..., occurrence_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., asset_id: _Optional[str] = ..., asset_class: _Optional[str] = ..., supplier_code: _Optional[str] = ..., cost: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., dimensions: _Optional[_Union[_types_pb2.Dimensions, _Mapping]] = ...) -> None: ...

class AssetDepreciated(_message.Message):
    __slots__ = ("company_id", "document_number", "occurrence_date", "asset_id", "asset_class", "amount", "dimensions")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_DATE_FIELD_NUMBER: _ClassVar[int]
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    ASSET_CLASS_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    document_number: str
    occurrence_date: _types_pb2.Date
    asset_id: str
    asset_class: str
    amount: _types_pb2.Money
    dimensions: _types_pb2.Dimensions
    def __init__(self, company_id: _Optional[str] = ..., document_number: _Optional[str] = ..., occurrence_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., asset_id: _Optional[str] = ..., asset_class: _Optional[str] = ..., amount: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., dimensions: _Optional[_Union[_types_pb2.Dimensions, _Mapping]] = ...) -> None: ...

class AssetDisposed(_message.Message):
    __slots__ = ("company_id", "document_number", "occurrence_date", "asset_id", "asset_class", "cost", "accumulated_depreciation", "proceeds", "bank_account")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_DATE_FIELD_NUMBER: _ClassVar[int]
    ASSET_ID_FIELD_NUMBER: _ClassVar[int]
    ASSET_CLASS_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    ACCUMULATED_DEPRECIATION_FIELD_NUMBER: _ClassVar[int]
    PROCEEDS_FIELD_NUMBER: _ClassVar[int]
    BANK_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    document_number: str
    occurrence_date: _types_pb2.Date
    asset_id: str
    asset_class: str
    cost: _types_pb2.Money
    accumulated_depreciation: _types_pb2.Money
    proceeds: _types_pb2.Money
    bank_account: str
    def __init__(self, company_id: _Optional[str] = ..., document_number: _Optional[str] = ..., occurrence_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., asset_id: _Optional[str] = ..., asset_class: _Optional[str] = ..., cost: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., accumulated_depreciation: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., proceeds: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., bank_account: _Optional[str] = ...) -> None: ...
