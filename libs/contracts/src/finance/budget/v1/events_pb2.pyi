from finance.common.v1 import types_pb2 as _types_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BudgetThresholdReached(_message.Message):
    __slots__ = ("company_id", "document_number", "occurrence_date", "budget_line_id", "cost_centre", "budget_item", "period", "threshold_percent", "budget", "consumed", "committed")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_DATE_FIELD_NUMBER: _ClassVar[int]
    BUDGET_LINE_ID_FIELD_NUMBER: _ClassVar[int]
    COST_CENTRE_FIELD_NUMBER: _ClassVar[int]
    BUDGET_ITEM_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_PERCENT_FIELD_NUMBER: _ClassVar[int]
    BUDGET_FIELD_NUMBER: _ClassVar[int]
    CONSUMED_FIELD_NUMBER: _ClassVar[int]
    COMMITTED_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    document_number: str
    occurrence_date: _types_pb2.Date
    budget_line_id: str
    cost_centre: str
    budget_item: str
    period: str
    threshold_percent: int
    budget: _types_pb2.Money
    consumed: _types_pb2.Money
    committed: _types_pb2.Money
    def __init__(self, company_id: _Optional[str] = ..., document_number: _Optional[str] = ..., occurrence_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., budget_line_id: _Optional[str] = ..., cost_centre: _Optional[str] = ..., budget_item: _Optional[str] = ..., period: _Optional[str] = ..., threshold_percent: _Optional[int] = ..., budget: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., consumed: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., committed: _Optional[_Union[_types_pb2.Money, _Mapping]] = ...) -> None: ...

class BudgetWarningRaised(_message.Message):
    __slots__ = ("company_id", "document_number", "occurrence_date", "budget_line_id", "cost_centre", "budget_item", "period", "requested", "available", "reason")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_DATE_FIELD_NUMBER: _ClassVar[int]
    BUDGET_LINE_ID_FIELD_NUMBER: _ClassVar[int]
    COST_CENTRE_FIELD_NUMBER: _ClassVar[int]
    BUDGET_ITEM_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    document_number: str
    occurrence_date: _types_pb2.Date
    budget_line_id: str
    cost_centre: str
    budget_item: str
    period: str
    requested: _types_pb2.Money
    available: _types_pb2.Money
    reason: str
    def __init__(self, company_id: _Optional[str] = ..., document_number: _Optional[str] = ..., occurrence_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., budget_line_id: _Optional[str] = ..., cost_centre: _Optional[str] = ..., budget_item: _Optional[str] = ..., period: _Optional[str] = ..., requested: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., available: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...
