from google.protobuf import descriptor_pb2 as _descriptor_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
EVENT_FIELD_NUMBER: _ClassVar[int]
event: _descriptor.FieldDescriptor

class Money(_message.Message):
    __slots__ = ("currency_code", "units", "nanos")
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    NANOS_FIELD_NUMBER: _ClassVar[int]
    currency_code: str
    units: int
    nanos: int
    def __init__(self, currency_code: _Optional[str] = ..., units: _Optional[int] = ..., nanos: _Optional[int] = ...) -> None: ...

class Conversion(_message.Message):
    __slots__ = ("original", "rate", "rate_date")
    ORIGINAL_FIELD_NUMBER: _ClassVar[int]
    RATE_FIELD_NUMBER: _ClassVar[int]
    RATE_DATE_FIELD_NUMBER: _ClassVar[int]
    original: Money
    rate: str
    rate_date: Date
    def __init__(self, original: _Optional[_Union[Money, _Mapping]] = ..., rate: _Optional[str] = ..., rate_date: _Optional[_Union[Date, _Mapping]] = ...) -> None: ...

class Date(_message.Message):
    __slots__ = ("year", "month", "day")
    YEAR_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    DAY_FIELD_NUMBER: _ClassVar[int]
    year: int
    month: int
    day: int
    def __init__(self, year: _Optional[int] = ..., month: _Optional[int] = ..., day: _Optional[int] = ...) -> None: ...

class Dimensions(_message.Message):
    __slots__ = ("cost_centre", "department", "product", "customer", "supplier", "project", "region", "sales_team", "intercompany_partner")
    COST_CENTRE_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    SUPPLIER_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    SALES_TEAM_FIELD_NUMBER: _ClassVar[int]
    INTERCOMPANY_PARTNER_FIELD_NUMBER: _ClassVar[int]
    cost_centre: str
    department: str
    product: str
    customer: str
    supplier: str
    project: str
    region: str
    sales_team: str
    intercompany_partner: str
    def __init__(self, cost_centre: _Optional[str] = ..., department: _Optional[str] = ..., product: _Optional[str] = ..., customer: _Optional[str] = ..., supplier: _Optional[str] = ..., project: _Optional[str] = ..., region: _Optional[str] = ..., sales_team: _Optional[str] = ..., intercompany_partner: _Optional[str] = ...) -> None: ...

class EventSpec(_message.Message):
    __slots__ = ("topic", "key", "producer")
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    PRODUCER_FIELD_NUMBER: _ClassVar[int]
    topic: str
    key: str
    producer: str
    def __init__(self, topic: _Optional[str] = ..., key: _Optional[str] = ..., producer: _Optional[str] = ...) -> None: ...
