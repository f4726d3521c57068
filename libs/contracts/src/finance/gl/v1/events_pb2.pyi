from finance.common.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class JournalLine(_message.Message):
    __slots__ = ("line_no", "account_code", "debit", "credit", "transaction_amount", "dimensions", "cash_flow_item")
    LINE_NO_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_CODE_FIELD_NUMBER: _ClassVar[int]
    DEBIT_FIELD_NUMBER: _ClassVar[int]
    CREDIT_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    CASH_FLOW_ITEM_FIELD_NUMBER: _ClassVar[int]
    line_no: int
    account_code: str
    debit: _types_pb2.Money
    credit: _types_pb2.Money
    transaction_amount: _types_pb2.Money
    dimensions: _types_pb2.Dimensions
    cash_flow_item: str
    def __init__(self, line_no: _Optional[int] = ..., account_code: _Optional[str] = ..., debit: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., credit: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., transaction_amount: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., dimensions: _Optional[_Union[_types_pb2.Dimensions, _Mapping]] = ..., cash_flow_item: _Optional[str] = ...) -> None: ...

class JournalPosted(_message.Message):
    __slots__ = ("company_id", "document_number", "occurrence_date", "journal_id", "period", "lines", "source_event_id", "source_event_type", "source_document", "rule_id", "rule_version")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_DATE_FIELD_NUMBER: _ClassVar[int]
    JOURNAL_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    SOURCE_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    RULE_ID_FIELD_NUMBER: _ClassVar[int]
    RULE_VERSION_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    document_number: str
    occurrence_date: _types_pb2.Date
    journal_id: str
    period: str
    lines: _containers.RepeatedCompositeFieldContainer[JournalLine]
    source_event_id: str
    source_event_type: str
    source_document: str
    rule_id: str
    rule_version: int
    def __init__(self, company_id: _Optional[str] = ..., document_number: _Optional[str] = ..., occurrence_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., journal_id: _Optional[str] = ..., period: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[JournalLine, _Mapping]]] = ..., source_event_id: _Optional[str] = ..., source_event_type: _Optional[str] = ..., source_document: _Optional[str] = ..., rule_id: _Optional[str] = ..., rule_version: _Optional[int] = ...) -> None: ...

class PeriodClosed(_message.Message):
    __slots__ = ("company_id", "document_number", "occurrence_date", "period", "closed_by")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_DATE_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    CLOSED_BY_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    document_number: str
    occurrence_date: _types_pb2.Date
    period: str
    closed_by: str
    def __init__(self, company_id: _Optional[str] = ..., document_number: _Optional[str] = ..., occurrence_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., period: _Optional[str] = ..., closed_by: _Optional[str] = ...) -> None: ...

class PeriodReopened(_message.Message):
    __slots__ = ("company_id", "document_number", "occurrence_date", "period", "reopened_by", "reason")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_DATE_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    REOPENED_BY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    document_number: str
    occurrence_date: _types_pb2.Date
    period: str
    reopened_by: str
    reason: str
    def __init__(self, company_id: _Optional[str] = ..., document_number: _Optional[str] = ..., occurrence_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., period: _Optional[str] = ..., reopened_by: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ExchangeRate(_message.Message):
    __slots__ = ("currency", "rate_date", "rate")
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    RATE_DATE_FIELD_NUMBER: _ClassVar[int]
    RATE_FIELD_NUMBER: _ClassVar[int]
    currency: str
    rate_date: _types_pb2.Date
    rate: str
    def __init__(self, currency: _Optional[str] = ..., rate_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., rate: _Optional[str] = ...) -> None: ...

class ExchangeRatesSet(_message.Message):
    __slots__ = ("company_id", "document_number", "occurrence_date", "functional_currency", "rates")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_DATE_FIELD_NUMBER: _ClassVar[int]
    FUNCTIONAL_CURRENCY_FIELD_NUMBER: _ClassVar[int]
    RATES_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    document_number: str
    occurrence_date: _types_pb2.Date
    functional_currency: str
    rates: _containers.RepeatedCompositeFieldContainer[ExchangeRate]
    def __init__(self, company_id: _Optional[str] = ..., document_number: _Optional[str] = ..., occurrence_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., functional_currency: _Optional[str] = ..., rates: _Optional[_Iterable[_Union[ExchangeRate, _Mapping]]] = ...) -> None: ...
