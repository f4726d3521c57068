from finance.common.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BankAccountOpened(_message.Message):
    __slots__ = ("company_id", "document_number", "occurrence_date", "bank_account", "name", "currency", "iban", "bic", "account_number", "gl_account")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_DATE_FIELD_NUMBER: _ClassVar[int]
    BANK_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    IBAN_FIELD_NUMBER: _ClassVar[int]
    BIC_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    GL_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    document_number: str
    occurrence_date: _types_pb2.Date
    bank_account: str
    name: str
    currency: str
    iban: str
    bic: str
    account_number: str
    gl_account: str
    def __init__(self, company_id: _Optional[str] = ..., document_number: _Optional[str] = ..., occurrence_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., bank_account: _Optional[str] = ..., name: _Optional[str] = ..., currency: _Optional[str] = ..., iban: _Optional[str] = ..., bic: _Optional[str] = ..., account_number: _Optional[str] = ..., gl_account: _Optional[str] = ...) -> None: ...

class BankChargeRecorded(_message.Message):
    __slots__ = ("company_id", "document_number", "occurrence_date", "bank_account", "amount", "description", "dimensions", "gl_account")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_DATE_FIELD_NUMBER: _ClassVar[int]
    BANK_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    GL_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    document_number: str
    occurrence_date: _types_pb2.Date
    bank_account: str
    amount: _types_pb2.Money
    description: str
    dimensions: _types_pb2.Dimensions
    gl_account: str
    def __init__(self, company_id: _Optional[str] = ..., document_number: _Optional[str] = ..., occurrence_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., bank_account: _Optional[str] = ..., amount: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., description: _Optional[str] = ..., dimensions: _Optional[_Union[_types_pb2.Dimensions, _Mapping]] = ..., gl_account: _Optional[str] = ...) -> None: ...

class InterestReceived(_message.Message):
    __slots__ = ("company_id", "document_number", "occurrence_date", "bank_account", "amount", "description", "gl_account")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_DATE_FIELD_NUMBER: _ClassVar[int]
    BANK_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    GL_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    document_number: str
    occurrence_date: _types_pb2.Date
    bank_account: str
    amount: _types_pb2.Money
    description: str
    gl_account: str
    def __init__(self, company_id: _Optional[str] = ..., document_number: _Optional[str] = ..., occurrence_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., bank_account: _Optional[str] = ..., amount: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., description: _Optional[str] = ..., gl_account: _Optional[str] = ...) -> None: ...

class InternalTransfer(_message.Message):
    __slots__ = ("company_id", "document_number", "occurrence_date", "transfer_id", "from_bank_account", "to_bank_account", "amount", "to_amount", "from_gl_account", "to_gl_account", "reference")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_DATE_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_BANK_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    TO_BANK_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    TO_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    FROM_GL_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    TO_GL_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    document_number: str
    occurrence_date: _types_pb2.Date
    transfer_id: str
    from_bank_account: str
    to_bank_account: str
    amount: _types_pb2.Money
    to_amount: _types_pb2.Money
    from_gl_account: str
    to_gl_account: str
    reference: str
    def __init__(self, company_id: _Optional[str] = ..., document_number: _Optional[str] = ..., occurrence_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., transfer_id: _Optional[str] = ..., from_bank_account: _Optional[str] = ..., to_bank_account: _Optional[str] = ..., amount: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., to_amount: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., from_gl_account: _Optional[str] = ..., to_gl_account: _Optional[str] = ..., reference: _Optional[str] = ...) -> None: ...

class BankStatementImported(_message.Message):
    __slots__ = ("company_id", "document_number", "occurrence_date", "statement_id", "bank_account", "format", "from_date", "to_date", "opening_balance", "closing_balance", "line_count", "total_credits", "total_debits", "pending_value")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_DATE_FIELD_NUMBER: _ClassVar[int]
    STATEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    BANK_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    FROM_DATE_FIELD_NUMBER: _ClassVar[int]
    TO_DATE_FIELD_NUMBER: _ClassVar[int]
    OPENING_BALANCE_FIELD_NUMBER: _ClassVar[int]
    CLOSING_BALANCE_FIELD_NUMBER: _ClassVar[int]
    LINE_COUNT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_CREDITS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_DEBITS_FIELD_NUMBER: _ClassVar[int]
    PENDING_VALUE_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    document_number: str
    occurrence_date: _types_pb2.Date
    statement_id: str
    bank_account: str
    format: str
    from_date: _types_pb2.Date
    to_date: _types_pb2.Date
    opening_balance: _types_pb2.Money
    closing_balance: _types_pb2.Money
    line_count: int
    total_credits: _types_pb2.Money
    total_debits: _types_pb2.Money
    pending_value: _containers.RepeatedCompositeFieldContainer[ValueDatedAmount]
    def __init__(self, company_id: _Optional[str] = ..., document_number: _Optional[str] = ..., occurrence_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., statement_id: _Optional[str] = ..., bank_account: _Optional[str] = ..., format: _Optional[str] = ..., from_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., to_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., opening_balance: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., closing_balance: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., line_count: _Optional[int] = ..., total_credits: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., total_debits: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., pending_value: _Optional[_Iterable[_Union[ValueDatedAmount, _Mapping]]] = ...) -> None: ...

class ValueDatedAmount(_message.Message):
    __slots__ = ("value_date", "amount")
    VALUE_DATE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    value_date: _types_pb2.Date
    amount: _types_pb2.Money
    def __init__(self, value_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., amount: _Optional[_Union[_types_pb2.Money, _Mapping]] = ...) -> None: ...

class BankReceiptApplication(_message.Message):
    __slots__ = ("invoice_id", "invoice_number", "amount")
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    INVOICE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    invoice_id: str
    invoice_number: str
    amount: _types_pb2.Money
    def __init__(self, invoice_id: _Optional[str] = ..., invoice_number: _Optional[str] = ..., amount: _Optional[_Union[_types_pb2.Money, _Mapping]] = ...) -> None: ...

class BankReceiptIdentified(_message.Message):
    __slots__ = ("company_id", "document_number", "occurrence_date", "line_id", "bank_account", "customer_code", "amount", "applications", "counterparty_name", "counterparty_iban", "reference")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_DATE_FIELD_NUMBER: _ClassVar[int]
    LINE_ID_FIELD_NUMBER: _ClassVar[int]
    BANK_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_CODE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    APPLICATIONS_FIELD_NUMBER: _ClassVar[int]
    COUNTERPARTY_NAME_FIELD_NUMBER: _ClassVar[int]
    COUNTERPARTY_IBAN_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    document_number: str
    occurrence_date: _types_pb2.Date
    line_id: str
    bank_account: str
    customer_code: str
    amount: _types_pb2.Money
    applications: _containers.RepeatedCompositeFieldContainer[BankReceiptApplication]
    counterparty_name: str
    counterparty_iban: str
    reference: str
    def __init__(self, company_id: _Optional[str] = ..., document_number: _Optional[str] = ..., occurrence_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., line_id: _Optional[str] = ..., bank_account: _Optional[str] = ..., customer_code: _Optional[str] = ..., amount: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., applications: _Optional[_Iterable[_Union[BankReceiptApplication, _Mapping]]] = ..., counterparty_name: _Optional[str] = ..., counterparty_iban: _Optional[str] = ..., reference: _Optional[str] = ...) -> None: ...

class BankLineUnidentified(_message.Message):
    __slots__ = ("company_id", "document_number", "occurrence_date", "line_id", "bank_account", "direction", "amount", "description", "gl_account")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_DATE_FIELD_NUMBER: _ClassVar[int]
    LINE_ID_FIELD_NUMBER: _ClassVar[int]
    BANK_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    GL_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    document_number: str
    occurrence_date: _types_pb2.Date
    line_id: str
    bank_account: str
    direction: str
    amount: _types_pb2.Money
    description: str
    gl_account: str
    def __init__(self, company_id: _Optional[str] = ..., document_number: _Optional[str] = ..., occurrence_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., line_id: _Optional[str] = ..., bank_account: _Optional[str] = ..., direction: _Optional[str] = ..., amount: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., description: _Optional[str] = ..., gl_account: _Optional[str] = ...) -> None: ...

class SuspenseCleared(_message.Message):
    __slots__ = ("company_id", "document_number", "occurrence_date", "line_id", "bank_account", "direction", "amount", "identified_as", "gl_account")
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_DATE_FIELD_NUMBER: _ClassVar[int]
    LINE_ID_FIELD_NUMBER: _ClassVar[int]
    BANK_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIED_AS_FIELD_NUMBER: _ClassVar[int]
    GL_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    document_number: str
    occurrence_date: _types_pb2.Date
    line_id: str
    bank_account: str
    direction: str
    amount: _types_pb2.Money
    identified_as: str
    gl_account: str
    def __init__(self, company_id: _Optional[str] = ..., document_number: _Optional[str] = ..., occurrence_date: _Optional[_Union[_types_pb2.Date, _Mapping]] = ..., line_id: _Optional[str] = ..., bank_account: _Optional[str] = ..., direction: _Optional[str] = ..., amount: _Optional[_Union[_types_pb2.Money, _Mapping]] = ..., identified_as: _Optional[str] = ..., gl_account: _Optional[str] = ...) -> None: ...
