from finance.common.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MovementLine(_message.Message):
    __slots__ = ("line_no", "item_code", "item_category", "warehouse", "quantity", "unit_cost", "total_cost", "dimensions")
    LINE_NO_FIELD_NUMBER: _ClassVar[int]
    ITEM_CODE_FIELD_NUMBER: _ClassVar[int]
    ITEM_CATEGORY_FIELD_NUMBER: _ClassVar[int]
    WAREHOUSE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    UNIT_COST_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    line_no: int
    item_code: str
    item_category: str
    warehouse: str
    quantity: str
    unit_cost: _types_pb2.Money
    total_cost: _types_pb2.Money
    dimensions: _types_pb2.Dimensions
    def __init__(self, line_no: _Optional[int] = ..., item_code: _Optional[str] = ..., item_category: _Optional[str] = ..., warehouse: _Optional[str] = ..., quantity: _Optional[str] = ..., unit_cost: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., total_cost: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., dimensions: _Optional[_Union[_types_pb2.Dimensions, _Mapping]] = ...) -> None: ...

class GoodsReceived(_message.Message):
    __slots__ = ("company_id", "document_number", "occurrence_date", "movement_id", "purchase_order_ref", "supplier_code", "lines", "total_cost")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_DATE_FIELD_NUMBER: _ClassVar[int]
    MOVEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    PURCHASE_ORDER_REF_FIELD_NUMBER: _ClassVar[int]
    SUPPLIER_CODE_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    document_number: str
    occurrence_date: _types_pb2.Date
    movement_id: str
    purchase_order_ref: str
    supplier_code: str
    lines: _containers.RepeatedCompositeFieldContainer[MovementLine]
    total_cost: _types_pb2.Money
    def __init__(self, company_id: _Optional[str] = ..., document_number: _Optional[str] = ..., occurrence_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., movement_id: _Optional[str] = ..., purchase_order_ref: _Optional[str] = ..., supplier_code: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[MovementLine, _Mapping]]] = ..., total_cost: _Optional[_Union[_types_pb2.Money, _Mapping]] = ...) -> None: ...

class GoodsIssued(_message.Message):
    __slots__ = ("company_id", "document_number", "occurrence_date", "movement_id", "sales_order_ref", "customer_code", "lines", "total_cost")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_DATE_FIELD_NUMBER: _ClassVar[int]
    MOVEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    SALES_ORDER_REF_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_CODE_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    document_number: str
    occurrence_date: _types_pb2.Date
    movement_id: str
    sales_order_ref: str
    customer_code: str
    lines: _containers.RepeatedCompositeFieldContainer[MovementLine]
    total_cost: _types_pb2.Money
    def __init__(self, company_id: _Optional[str] = ..., document_number: _Optional[str] = ..., occurrence_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., movement_id: _Optional[str] = ..., sales_order_ref: _Optional[str] = ..., customer_code: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[MovementLine, _Mapping]]] = ..., total_cost: _Optional[_Union[_types_pb2.Money, _Mapping]] = ...) -> None: ...

class GoodsReturned(_message.Message):
    __slots__ = ("company_id", "document_number", "occurrence_date", "movement_id", "sales_order_ref", "customer_code", "original_movement_id", "lines", "total_cost")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_DATE_FIELD_NUMBER: _ClassVar[int]
    MOVEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    SALES_ORDER_REF_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_CODE_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_MOVEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    document_number: str
    occurrence_date: _types_pb2.Date
    movement_id: str
    sales_order_ref: str
    customer_code: str
    original_movement_id: str
    lines: _containers.RepeatedCompositeFieldContainer[MovementLine]
    total_cost: _types_pb2.Money
    def __init__(self, company_id: _Optional[str] = ..., document_number: _Optional[str] = ..., occurrence_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., movement_id: _Optional[str] = ..., sales_order_ref: _Optional[str] = ..., customer_code: _Optional[str] = ..., original_movement_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[MovementLine, _Mapping]]] = ..., total_cost: _Optional[_Union[_types_pb2.Money, _Mapping]] = ...) -> None: ...

class GoodsReturnedToSupplier(_message.Message):
    __slots__ = ("company_id", "document_number", "occurrence_date", "movement_id", "purchase_order_ref", "supplier_code", "lines", "total_cost")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_DATE_FIELD_NUMBER: _ClassVar[int]
    MOVEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    PURCHASE_ORDER_REF_FIELD_NUMBER: _ClassVar[int]
    SUPPLIER_CODE_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    document_number: str
    occurrence_date: _types_pb2.Date
    movement_id: str
    purchase_order_ref: str
    supplier_code: str
    lines: _containers.RepeatedCompositeFieldContainer[MovementLine]
    total_cost: _types_pb2.Money
    def __init__(self, company_id: _Optional[str] = ..., document_number: _Optional[str] = ..., occurrence_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., movement_id: _Optional[str] = ..., purchase_order_ref: _Optional[str] = ..., supplier_code: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[MovementLine, _Mapping]]] = ..., total_cost: _Optional[_Union[_types_pb2.Money, _Mapping]] = ...) -> None: ...

class StockTransferred(_message.Message):
    __slots__ = ("company_id", "document_number", "occurrence_date", "movement_id", "from_warehouse", "to_warehouse", "lines", "total_cost")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_DATE_FIELD_NUMBER: _ClassVar[int]
    MOVEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_WAREHOUSE_FIELD_NUMBER: _ClassVar[int]
    TO_WAREHOUSE_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    document_number: str
    occurrence_date: _types_pb2.Date
    movement_id: str
    from_warehouse: str
    to_warehouse: str
    lines: _containers.RepeatedCompositeFieldContainer[MovementLine]
    total_cost: _types_pb2.Money
    def __init__(self, company_id: _Optional[str] = ..., document_number: _Optional[str] = ..., occurrence_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., movement_id: _Optional[str] = ..., from_warehouse: _Optional[str] = ..., to_warehouse: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[MovementLine, _Mapping]]] = ..., total_cost: _Optional[_Union[_types_pb2.Money, _Mapping]] = ...) -> None: ...

class StockAdjusted(_message.Message):
    __slots__ = ("company_id", "document_number", "occurrence_date", "movement_id", "reason", "lines", "value_change", "item_category")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_DATE_FIELD_NUMBER: _ClassVar[int]
    MOVEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    VALUE_CHANGE_FIELD_NUMBER: _ClassVar[int]
    ITEM_CATEGORY_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    document_number: str
    occurrence_date: _types_pb2.Date
    movement_id: str
    reason: str
    lines: _containers.RepeatedCompositeFieldContainer[MovementLine]
    value_change: _types_pb2.Money
    item_category: str
    def __init__(self, company_id: _Optional[str] = ..., document_number: _Optional[str] = ..., occurrence_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., movement_id: _Optional[str] = ..., reason: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[MovementLine, _Mapping]]] = ..., value_change: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., item_category: _Optional[str] = ...) -> None: ...

class CostAdjusted(_message.Message):
    __slots__ = ("company_id", "document_number", "occurrence_date", "movement_id", "adjusted_movement_id", "item_code", "item_category", "cost_change")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_DATE_FIELD_NUMBER: _ClassVar[int]
    MOVEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    ADJUSTED_MOVEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    ITEM_CODE_FIELD_NUMBER: _ClassVar[int]
    ITEM_CATEGORY_FIELD_NUMBER: _ClassVar[int]
    COST_CHANGE_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    document_number: str
    occurrence_date: _types_pb2.Date
    movement_id: str
    adjusted_movement_id: str
    item_code: str
    item_category: str
    cost_change: _types_pb2.Money
    def __init__(self, company_id: _Optional[str] = ..., document_number: _Optional[str] = ..., occurrence_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., movement_id: _Optional[str] = ..., adjusted_movement_id: _Optional[str] = ..., item_code: _Optional[str] = ..., item_category: _Optional[str] = ..., cost_change: _Optional[_Union[_types_pb2.Money, _Mapping]] = ...) -> None: ...

class PriceDifferenceAllocated(_message.Message):
    __slots__ = ("company_id", "document_number", "occurrence_date", "movement_id", "supplier_invoice_id", "supplier_invoice_number", "purchase_order_ref", "item_code", "item_category", "warehouse", "inventory_change", "cost_of_sales_change", "total", "dimensions")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_DATE_FIELD_NUMBER: _ClassVar[int]
    MOVEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    SUPPLIER_INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    SUPPLIER_INVOICE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    PURCHASE_ORDER_REF_FIELD_NUMBER: _ClassVar[int]
    ITEM_CODE_FIELD_NUMBER: _ClassVar[int]
    ITEM_CATEGORY_FIELD_NUMBER: _ClassVar[int]
    WAREHOUSE_FIELD_NUMBER: _ClassVar[int]
    INVENTORY_CHANGE_FIELD_NUMBER: _ClassVar[int]
    COST_OF_SALES_CHANGE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    document_number: str
    occurrence_date: _types_pb2.Date
    movement_id: str
    supplier_invoice_id: str
    supplier_invoice_number: str
    purchase_order_ref: str
    item_code: str
    item_category: str
    warehouse: str
    inventory_change: _types_pb2.Money
    cost_of_sales_change: _types_pb2.Money
    total: _types_pb2.Money
    dimensions: _types_pb2.Dimensions
    def __init__(self, company_id: _Optional[str] = ..., document_number: _Optional[str] = ..., occurrence_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., movement_id: _Optional[str] = ..., supplier_invoice_id: _Optional[str] = ..., supplier_invoice_number: _Optional[str] = ..., purchase_order_ref: _Optional[str] = ..., item_code: _Optional[str] = ..., item_category: _Optional[str] = ..., warehouse: _Optional[str] = ..., inventory_change: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., cost_of_sales_change: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., total: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., dimensions: _Optional[_Union[_types_pb2.Dimensions, _Mapping]] = ...) -> None: ...
