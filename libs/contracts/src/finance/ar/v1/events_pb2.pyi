from finance.common.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreditMemoReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CREDIT_MEMO_REASON_UNSPECIFIED: _ClassVar[CreditMemoReason]
    CREDIT_MEMO_REASON_RETURN: _ClassVar[CreditMemoReason]
    CREDIT_MEMO_REASON_PRICE_ADJUSTMENT: _ClassVar[CreditMemoReason]
    CREDIT_MEMO_REASON_CANCELLATION: _ClassVar[CreditMemoReason]
CREDIT_MEMO_REASON_UNSPECIFIED: CreditMemoReason
CREDIT_MEMO_REASON_RETURN: CreditMemoReason
CREDIT_MEMO_REASON_PRICE_ADJUSTMENT: CreditMemoReason
CREDIT_MEMO_REASON_CANCELLATION: CreditMemoReason

class InvoiceLine(_message.Message):
    __slots__ = ("line_no", "item_code", "item_category", "description", "quantity", "unit_price", "net", "tax_code", "tax", "dimensions")
    LINE_NO_FIELD_NUMBER: _ClassVar[int]
    ITEM_CODE_FIELD_NUMBER: _ClassVar[int]
    ITEM_CATEGORY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    UNIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    NET_FIELD_NUMBER: _ClassVar[int]
    TAX_CODE_FIELD_NUMBER: _ClassVar[int]
    TAX_FIELD_NUMBER: _ClassVar[int]
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    line_no: int
    item_code: str
    item_category: str
    description: str
    quantity: str
    unit_price: _types_pb2.Money
    net: _types_pb2.Money
    tax_code: str
    tax: _types_pb2.Money
    dimensions: _types_pb2.Dimensions
    def __init__(self, line_no: _Optional[int] = ..., item_code: _Optional[str] = ..., item_category: _Optional[str] = ..., description: _Optional[str] = ..., quantity: _Optional[str] = ..., unit_price: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., net: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., tax_code: _Optional[str] = ..., tax: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., dimensions: _Optional[_Union[_types_pb2.Dimensions, _Mapping]] = ...) -> None: ...

class InvoiceIssued(_message.Message):
    __slots__ = ("company_id", "document_number", "occurrence_date", "invoice_id", "customer_code", "customer_group", "intercompany_partner", "currency", "lines", "net_total", "tax_total", "gross_total", "due_date", "sales_order_ref", "shipment_ref", "dimensions")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_DATE_FIELD_NUMBER: _ClassVar[int]
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_CODE_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_GROUP_FIELD_NUMBER: _ClassVar[int]
    INTERCOMPANY_PARTNER_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    NET_TOTAL_FIELD_NUMBER: _ClassVar[int]
    TAX_TOTAL_FIELD_NUMBER: _ClassVar[int]
    GROSS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    DUE_DATE_FIELD_NUMBER: _ClassVar[int]
    SALES_ORDER_REF_FIELD_NUMBER: _ClassVar[int]
    SHIPMENT_REF_FIELD_NUMBER: _ClassVar[int]
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    document_number: str
    occurrence_date: _types_pb2.Date
    invoice_id: str
    customer_code: str
    customer_group: str
    intercompany_partner: str
    currency: str
    lines: _containers.RepeatedCompositeFieldContainer[InvoiceLine]
    net_total: _types_pb2.Money
    tax_total: _types_pb2.Money
    gross_total: _types_pb2.Money
    due_date: _types_pb2.Date
    sales_order_ref: str
    shipment_ref: str
    dimensions: _types_pb2.Dimensions
    def __init__(self, company_id: _Optional[str] = ..., document_number: _Optional[str] = ..., occurrence_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., invoice_id: _Optional[str] = ..., customer_code: _Optional[str] = ..., customer_group: _Optional[str] = ..., intercompany_partner: _Optional[str] = ..., currency: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[InvoiceLine, _Mapping]]] = ..., net_total: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., tax_total: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., gross_total: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., due_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., sales_order_ref: _Optional[str] = ..., shipment_ref: _Optional[str] = ..., dimensions: _Optional[_Union[_types_pb2.Dimensions, _Mapping]] = ...) -> None: ...

class CreditMemoIssued(_message.Message):
    __slots__ = ("company_id", "document_number", "occurrence_date", "credit_memo_id", "invoice_id", "customer_code", "customer_group", "currency", "reason", "lines", "net_total", "tax_total", "gross_total", "dimensions", "applied")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_DATE_FIELD_NUMBER: _ClassVar[int]
    CREDIT_MEMO_ID_FIELD_NUMBER: _ClassVar[int]
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_CODE_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_GROUP_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    NET_TOTAL_FIELD_NUMBER: _ClassVar[int]
    TAX_TOTAL_FIELD_NUMBER: _ClassVar[int]
    GROSS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    document_number: str
    occurrence_date: _types_pb2.Date
    credit_memo_id: str
    invoice_id: str
    customer_code: str
    customer_group: str
    currency: str
    reason: CreditMemoReason
    lines: _containers.RepeatedCompositeFieldContainer[InvoiceLine]
    net_total: _types_pb2.Money
    tax_total: _types_pb2.Money
    gross_total: _types_pb2.Money
    dimensions: _types_pb2.Dimensions
    applied: _types_pb2.Money
    def __init__(self, company_id: _Optional[str] = ..., document_number: _Optional[str] = ..., occurrence_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., credit_memo_id: _Optional[str] = ..., invoice_id: _Optional[str] = ..., customer_code: _Optional[str] = ..., customer_group: _Optional[str] = ..., currency: _Optional[str] = ..., reason: _Optional[_Union[CreditMemoReason, str]] = ..., lines: _Optional[_Iterable[_Union[InvoiceLine, _Mapping]]] = ..., net_total: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., tax_total: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., gross_total: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., dimensions: _Optional[_Union[_types_pb2.Dimensions, _Mapping]] = ..., applied: _Optional[_Union[_types_pb2.Money, _Mapping]] = ...) -> None: ...

class ReceiptApplication(_message.Message):
    __slots__ = ("invoice_id", "amount")
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    invoice_id: str
    amount: _types_pb2.Money
    def __init__(self, invoice_id: _Optional[str] = ..., amount: _Optional[_Union[_types_pb2.Money, _Mapping]] = ...) -> None: ...

class RefundSource(_message.Message):
    __slots__ = ("document_id", "amount")
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    document_id: str
    amount: _types_pb2.Money
    def __init__(self, document_id: _Optional[str] = ..., amount: _Optional[_Union[_types_pb2.Money, _Mapping]] = ...) -> None: ...

class RefundPaid(_message.Message):
    __slots__ = ("company_id", "document_number", "occurrence_date", "refund_id", "customer_code", "customer_group", "bank_account", "amount", "dimensions", "sources")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_DATE_FIELD_NUMBER: _ClassVar[int]
    REFUND_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_CODE_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_GROUP_FIELD_NUMBER: _ClassVar[int]
    BANK_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    document_number: str
    occurrence_date: _types_pb2.Date
    refund_id: str
    customer_code: str
    customer_group: str
    bank_account: str
    amount: _types_pb2.Money
    dimensions: _types_pb2.Dimensions
    sources: _containers.RepeatedCompositeFieldContainer[RefundSource]
    def __init__(self, company_id: _Optional[str] = ..., document_number: _Optional[str] = ..., occurrence_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., refund_id: _Optional[str] = ..., customer_code: _Optional[str] = ..., customer_group: _Optional[str] = ..., bank_account: _Optional[str] = ..., amount: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., dimensions: _Optional[_Union[_types_pb2.Dimensions, _Mapping]] = ..., sources: _Optional[_Iterable[_Union[RefundSource, _Mapping]]] = ...) -> None: ...

class PaymentReceived(_message.Message):
    __slots__ = ("company_id", "document_number", "occurrence_date", "receipt_id", "customer_code", "customer_group", "bank_account", "payment_method", "amount", "applications", "unapplied", "dimensions", "bank_line_id")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_DATE_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_CODE_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_GROUP_FIELD_NUMBER: _ClassVar[int]
    BANK_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    APPLICATIONS_FIELD_NUMBER: _ClassVar[int]
    UNAPPLIED_FIELD_NUMBER: _ClassVar[int]
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    BANK_LINE_ID_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    document_number: str
    occurrence_date: _types_pb2.Date
    receipt_id: str
    customer_code: str
    customer_group: str
    bank_account: str
    payment_method: str
    amount: _types_pb2.Money
    applications: _containers.RepeatedCompositeFieldContainer[ReceiptApplication]
    unapplied: _types_pb2.Money
    dimensions: _types_pb2.Dimensions
    bank_line_id: str
    def __init__(self, company_id: _Optional[str] = ..., document_number: _Optional[str] = ..., occurrence_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., receipt_id: _Optional[str] = ..., customer_code: _Optional[str] = ..., customer_group: _Optional[str] = ..., bank_account: _Optional[str] = ..., payment_method: _Optional[str] = ..., amount: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., applications: _Optional[_Iterable[_Union[ReceiptApplication, _Mapping]]] = ..., unapplied: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., dimensions: _Optional[_Union[_types_pb2.Dimensions, _Mapping]] = ..., bank_line_id: _Optional[str] = ...) -> None: ...

class BadDebtProvisioned(_message.Message):
    __slots__ = ("company_id", "document_number", "occurrence_date", "provision_id", "customer_code", "amount", "dimensions")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_DATE_FIELD_NUMBER: _ClassVar[int]
    PROVISION_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_CODE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    document_number: str
    occurrence_date: _types_pb2.Date
    provision_id: str
    customer_code: str
    amount: _types_pb2.Money
    dimensions: _types_pb2.Dimensions
    def __init__(self, company_id: _Optional[str] = ..., document_number: _Optional[str] = ..., occurrence_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., provision_id: _Optional[str] = ..., customer_code: _Optional[str] = ..., amount: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., dimensions: _Optional[_Union[_types_pb2.Dimensions, _Mapping]] = ...) -> None: ...

class BadDebtWrittenOff(_message.Message):
    __slots__ = ("company_id", "document_number", "occurrence_date", "write_off_id", "invoice_id", "customer_code", "customer_group", "amount", "dimensions")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_DATE_FIELD_NUMBER: _ClassVar[int]
    WRITE_OFF_ID_FIELD_NUMBER: _ClassVar[int]
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_CODE_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_GROUP_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    document_number: str
    occurrence_date: _types_pb2.Date
    write_off_id: str
    invoice_id: str
    customer_code: str
    customer_group: str
    amount: _types_pb2.Money
    dimensions: _types_pb2.Dimensions
    def __init__(self, company_id: _Optional[str] = ..., document_number: _Optional[str] = ..., occurrence_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., write_off_id: _Optional[str] = ..., invoice_id: _Optional[str] = ..., customer_code: _Optional[str] = ..., customer_group: _Optional[str] = ..., amount: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., dimensions: _Optional[_Union[_types_pb2.Dimensions, _Mapping]] = ...) -> None: ...

class CustomerUpserted(_message.Message):
    __slots__ = ("company_id", "document_number", "occurrence_date", "customer_code", "name", "customer_group", "currency", "payment_terms", "credit_limit", "intercompany_partner")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_DATE_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_GROUP_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_TERMS_FIELD_NUMBER: _ClassVar[int]
    CREDIT_LIMIT_FIELD_NUMBER: _ClassVar[int]
    INTERCOMPANY_PARTNER_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    document_number: str
    occurrence_date: _types_pb2.Date
    customer_code: str
    name: str
    customer_group: str
    currency: str
    payment_terms: str
    credit_limit: _types_pb2.Money
    intercompany_partner: str
    def __init__(self, company_id: _Optional[str] = ..., document_number: _Optional[str] = ..., occurrence_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., customer_code: _Optional[str] = ..., name: _Optional[str] = ..., customer_group: _Optional[str] = ..., currency: _Optional[str] = ..., payment_terms: _Optional[str] = ..., credit_limit: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., intercompany_partner: _Optional[str] = ...) -> None: ...
