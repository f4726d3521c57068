from finance.common.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class InvoiceKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INVOICE_KIND_UNSPECIFIED: _ClassVar[InvoiceKind]
    INVOICE_KIND_STOCK: _ClassVar[InvoiceKind]
    INVOICE_KIND_EXPENSE: _ClassVar[InvoiceKind]
    INVOICE_KIND_EXPENSE_CLAIM: _ClassVar[InvoiceKind]
INVOICE_KIND_UNSPECIFIED: InvoiceKind
INVOICE_KIND_STOCK: InvoiceKind
INVOICE_KIND_EXPENSE: InvoiceKind
INVOICE_KIND_EXPENSE_CLAIM: InvoiceKind

class PayableLine(_message.Message):
    __slots__ = ("line_no", "expense_category", "item_code", "item_category", "net", "price_variance", "tax_code", "tax", "dimensions")
    LINE_NO_FIELD_NUMBER: _ClassVar[int]
    EXPENSE_CATEGORY_FIELD_NUMBER: _ClassVar[int]
    ITEM_CODE_FIELD_NUMBER: _ClassVar[int]
    ITEM_CATEGORY_FIELD_NUMBER: _ClassVar[int]
    NET_FIELD_NUMBER: _ClassVar[int]
    PRICE_VARIANCE_FIELD_NUMBER: _ClassVar[int]
    TAX_CODE_FIELD_NUMBER: _ClassVar[int]
    TAX_FIELD_NUMBER: _ClassVar[int]
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    line_no: int
    expense_category: str
    item_code: str
    item_category: str
    net: _types_pb2.Money
    price_variance: _types_pb2.Money
    tax_code: str
    tax: _types_pb2.Money
    dimensions: _types_pb2.Dimensions
    def __init__(self, line_no: _Optional[int] = ..., expense_category: _Optional[str] = ..., item_code: _Optional[str] = ..., item_category: _Optional[str] = ..., net: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., price_variance: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., tax_code: _Optional[str] = ..., tax: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., dimensions: _Optional[_Union[_types_pb2.Dimensions, _Mapping]] = ...) -> None: ...

class InvoiceApproved(_message.Message):
    __slots__ = ("company_id", "document_number", "occurrence_date", "invoice_id", "supplier_code", "supplier_group", "intercompany_partner", "kind", "currency", "purchase_order_ref", "lines", "net_total", "tax_total", "gross_total", "due_date", "supplier_invoice_number", "discount_date")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_DATE_FIELD_NUMBER: _ClassVar[int]
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    SUPPLIER_CODE_FIELD_NUMBER: _ClassVar[int]
    SUPPLIER_GROUP_FIELD_NUMBER: _ClassVar[int]
    INTERCOMPANY_PARTNER_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    PURCHASE_ORDER_REF_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    NET_TOTAL_FIELD_NUMBER: _ClassVar[int]
    TAX_TOTAL_FIELD_NUMBER: _ClassVar[int]
    GROSS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    DUE_DATE_FIELD_NUMBER: _ClassVar[int]
    SUPPLIER_INVOICE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    DISCOUNT_DATE_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    document_number: str
    occurrence_date: _types_pb2.Date
    invoice_id: str
    supplier_code: str
    supplier_group: str
    intercompany_partner: str
    kind: InvoiceKind
    currency: str
    purchase_order_ref: str
    lines: _containers.RepeatedCompositeFieldContainer[PayableLine]
    net_total: _types_pb2.Money
    tax_total: _types_pb2.Money
    gross_total: _types_pb2.Money
    due_date: _types_pb2.Date
    supplier_invoice_number: str
    discount_date: _types_pb2.Date
    def __init__(self, company_id: _Optional[str] = ..., document_number: _Optional[str] = ..., occurrence_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., invoice_id: _Optional[str] = ..., supplier_code: _Optional[str] = ..., supplier_group: _Optional[str] = ..., intercompany_partner: _Optional[str] = ..., kind: _Optional[_Union[InvoiceKind, str]] = ..., currency: _Optional[str] = ..., purchase_order_ref: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[PayableLine, _Mapping]]] = ..., net_total: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., tax_total: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., gross_total: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., due_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., supplier_invoice_number: _Optional[str] = ..., discount_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ...) -> None: ...

class PaymentApplication(_message.Message):
    __slots__ = ("invoice_id", "amount", "discount", "invoice_number", "supplier_invoice_number")
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    DISCOUNT_FIELD_NUMBER: _ClassVar[int]
    INVOICE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    SUPPLIER_INVOICE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    invoice_id: str
    amount: _types_pb2.Money
    discount: _types_pb2.Money
    invoice_number: str
    supplier_invoice_number: str
    def __init__(self, invoice_id: _Optional[str] = ..., amount: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., discount: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., invoice_number: _Optional[str] = ..., supplier_invoice_number: _Optional[str] = ...) -> None: ...

class PaymentMade(_message.Message):
    __slots__ = ("company_id", "document_number", "occurrence_date", "payment_id", "supplier_code", "supplier_group", "bank_account", "payment_method", "amount", "applications", "payment_run_id", "payment_run_number", "remittance_information", "intercompany_partner")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_DATE_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    SUPPLIER_CODE_FIELD_NUMBER: _ClassVar[int]
    SUPPLIER_GROUP_FIELD_NUMBER: _ClassVar[int]
    BANK_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    APPLICATIONS_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_RUN_NUMBER_FIELD_NUMBER: _ClassVar[int]
    REMITTANCE_INFORMATION_FIELD_NUMBER: _ClassVar[int]
    INTERCOMPANY_PARTNER_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    document_number: str
    occurrence_date: _types_pb2.Date
    payment_id: str
    supplier_code: str
    supplier_group: str
    bank_account: str
    payment_method: str
    amount: _types_pb2.Money
    applications: _containers.RepeatedCompositeFieldContainer[PaymentApplication]
    payment_run_id: str
    payment_run_number: str
    remittance_information: str
    intercompany_partner: str
    def __init__(self, company_id: _Optional[str] = ..., document_number: _Optional[str] = ..., occurrence_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., payment_id: _Optional[str] = ..., supplier_code: _Optional[str] = ..., supplier_group: _Optional[str] = ..., bank_account: _Optional[str] = ..., payment_method: _Optional[str] = ..., amount: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., applications: _Optional[_Iterable[_Union[PaymentApplication, _Mapping]]] = ..., payment_run_id: _Optional[str] = ..., payment_run_number: _Optional[str] = ..., remittance_information: _Optional[str] = ..., intercompany_partner: _Optional[str] = ...) -> None: ...

class SupplierUpserted(_message.Message):
    __slots__ = ("company_id", "document_number", "occurrence_date", "supplier_code", "name", "supplier_group", "currency", "payment_terms", "iban", "bic")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_DATE_FIELD_NUMBER: _ClassVar[int]
    SUPPLIER_CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SUPPLIER_GROUP_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_TERMS_FIELD_NUMBER: _ClassVar[int]
    IBAN_FIELD_NUMBER: _ClassVar[int]
    BIC_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    document_number: str
    occurrence_date: _types_pb2.Date
    supplier_code: str
    name: str
    supplier_group: str
    currency: str
    payment_terms: str
    iban: str
    bic: str
    def __init__(self, company_id: _Optional[str] = ..., document_number: _Optional[str] = ..., occurrence_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., supplier_code: _Optional[str] = ..., name: _Optional[str] = ..., supplier_group: _Optional[str] = ..., currency: _Optional[str] = ..., payment_terms: _Optional[str] = ..., iban: _Optional[str] = ..., bic: _Optional[str] = ...) -> None: ...
