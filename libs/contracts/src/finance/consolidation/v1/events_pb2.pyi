from finance.common.v1 import types_pb2 as _types_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ConsolidationCompleted(_message.Message):
    __slots__ = ("company_id", "document_number", "occurrence_date", "group_id", "run_id", "period_from", "period_to", "final", "total_assets", "profit", "profit_attributable_to_nci", "non_controlling_interests", "translation_difference")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_DATE_FIELD_NUMBER: _ClassVar[int]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FROM_FIELD_NUMBER: _ClassVar[int]
    PERIOD_TO_FIELD_NUMBER: _ClassVar[int]
    FINAL_FIELD_NUMBER: _ClassVar[int]
    TOTAL_ASSETS_FIELD_NUMBER: _ClassVar[int]
    PROFIT_FIELD_NUMBER: _ClassVar[int]
    PROFIT_ATTRIBUTABLE_TO_NCI_FIELD_NUMBER: _ClassVar[int]
    NON_CONTROLLING_INTERESTS_FIELD_NUMBER: _ClassVar[int]
    TRANSLATION_DIFFERENCE_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    document_number: str
    occurrence_date: _types_pb2.Date
    group_id: str
    run_id: str
    period_from: str
    period_to: str
    final: bool
    total_assets: _types_pb2.Money
    profit: _types_pb2.Money
    profit_attributable_to_nci: _types_pb2.Money
    non_controlling_interests: _types_pb2.Money
    translation_difference: _types_pb2.Money
    def __init__(self, company_id: _Optional[str] = ..., document_number: _Optional[str] = ..., occurrence_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., group_id: _Optional[str] = ..., run_id: _Optional[str] = ..., period_from: _Optional[str] = ..., period_to: _Optional[str] = ..., final: _Optional[bool] = ..., total_assets: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., profit: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., profit_attributable_to_nci: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., non_controlling_interests: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., translation_difference: _Optional[_Union[_types_pb2.Money, _Mapping]] = ...) -> None: ...
