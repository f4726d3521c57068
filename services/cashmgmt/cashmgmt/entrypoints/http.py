"""Cash-management HTTP API: bank accounts, internal transfers, statement import."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Body, Depends, Query
from fincore import money
from fincore.auth import Authenticator, Principal
from fincore.dates import Date
from fincore.db import Database
from fincore.errors import Conflict, NotFound, Problem, ProblemError, Unprocessable
from fincore.http import Page, pagination, service_router
from fincore.money import CurrencyCode, MoneyError
from fincore.schemas import RowId, StrictModel
from pydantic import Field

from cashmgmt.adapters.bankfiles import CSV_FIELDS
from cashmgmt.adapters.position import PositionUnavailable, read_position
from cashmgmt.adapters.tables import (
    BankAccount,
    InternalTransferRow,
    OpenItemRow,
    Reconciliation,
    Statement,
    StatementLine,
)
from cashmgmt.domain.reconcile import Rule
from cashmgmt.domain.statements import StatementRefused
from cashmgmt.service.accounts import AccountError, AccountNotFound, account_by_code, open_account, transfer
from cashmgmt.service.reconciliation import (
    ReviewError,
    accept,
    bank_balances,
    decision_json,
    identify,
    reconcile,
    reject,
)
from cashmgmt.service.statements import CsvOptions, import_file

Code = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\-]+$")]
Amount = Annotated[Decimal, Field(max_digits=20, decimal_places=4)]


class BankAccountIn(StrictModel):
    company_id: Code
    code: Code
    name: str = Field(min_length=1, max_length=200)
    currency: CurrencyCode
    iban: str = Field("", max_length=42, description="IBAN (spaces allowed); or give account_number")
    bic: str = Field("", max_length=11)
    account_number: str = Field("", max_length=40, description="local account number where the bank has no IBAN")
    gl_account: str = Field(min_length=1, max_length=20, pattern=r"^\d+$",
                            description="ledger sub-account of bank deposits the account posts to (CAS 100201...)")
    opened_on: Date


class CsvMappingIn(StrictModel):
    columns: dict[Literal[CSV_FIELDS], Annotated[str, Field(min_length=1, max_length=80)]] = Field(  # type: ignore[valid-type]
        description="our field -> the bank's column header; booking_date and amount (or credit and debit) needed")
    delimiter: str = Field(",", min_length=1, max_length=1)
    date_format: str = Field("%Y-%m-%d", min_length=2, max_length=20, description="strftime format of the dates")
    decimal_comma: bool = False
    encoding: Literal["utf-8-sig", "utf-8", "latin-1", "cp1252", "gb18030"] = "utf-8-sig"


class TransferIn(StrictModel):
    company_id: Code
    from_bank_account: Code
    to_bank_account: Code
    amount: Amount = Field(gt=0, description="what left the sending account, in its currency")
    to_amount: Amount | None = Field(None, gt=0, description="what reached the receiving account, in its "
                                                              "currency (needed between currencies)")
    transfer_date: Date
    reference: str = Field("", max_length=140)


class DecisionIn(StrictModel):
    candidate: int | None = Field(None, ge=0, le=1000, description="index of the accepted candidate")
    customer: str = Field("", max_length=40, description="a known customer: a receipt on account (oldest-first)")
    action: Literal["suspense", "charge", "interest"] | None = Field(
        None, description="suspense: unidentified money, on the suspense account until cleared")


class IdentifyIn(StrictModel):
    customer: Code = Field(description="the customer (as AR published it) whose receipt the line is")


def _account_json(a: BankAccount, last: Statement | None = None) -> dict:
    return {"code": a.code, "company_id": a.company_id, "name": a.name, "currency": a.currency, "iban": a.iban,
            "bic": a.bic, "account_number": a.account_number, "gl_account": a.gl_account,
            "csv_mapping": a.csv_mapping,
            "statement_balance": money.format_amount(last.closing_balance, a.currency) if last else None,
            "statement_date": last.closing_date.isoformat() if last else None,
            "last_statement": last.statement_id if last else None}


def _statement_json(s: Statement, account_code: str) -> dict:
    cur = s.currency
    return {"id": s.id, "statement_id": s.statement_id, "bank_account": account_code, "format": s.format,
            "sequence": s.sequence, "currency": cur,
            "opening_balance": money.format_amount(s.opening_balance, cur), "opening_date": s.opening_date.isoformat(),
            "closing_balance": money.format_amount(s.closing_balance, cur), "closing_date": s.closing_date.isoformat(),
            "lines": s.line_count, "file_name": s.file_name, "file_sha256": s.file_sha256,
            "imported_by": s.imported_by, "imported_at": s.imported_at.isoformat()}


def _line_json(ln: StatementLine) -> dict:
    return {"line_no": ln.line_no, "booking_date": ln.booking_date.isoformat(),
            "value_date": ln.value_date.isoformat(), "amount": money.format_amount(ln.amount, ln.currency),
            "currency": ln.currency, "reference": ln.reference, "counterparty_name": ln.counterparty_name,
            "counterparty_iban": ln.counterparty_iban, "description": ln.description,
            "bank_reference": ln.bank_reference, "bank_code": ln.bank_code, "status": ln.status}


def build_router(db: Database, auth: Authenticator, rules: list[Rule], position_url: str) -> APIRouter:
    r = service_router(prefix="/v1", tags=["cash"])
    read, write = auth.require("cashmgmt:read"), auth.require("cashmgmt:write")

    @r.post("/bank-accounts", status_code=201, summary="Open a bank account of a company")
    async def post_account(body: BankAccountIn, principal: Principal = Depends(write)) -> dict:
        principal.require_company(body.company_id)
        try:
            async with db.transaction() as s:
                a = await open_account(s, company_id=body.company_id, code=body.code, name=body.name,
                                       currency=body.currency, iban=body.iban, bic=body.bic,
                                       account_number=body.account_number, gl_account=body.gl_account,
                                       opened_on=body.opened_on)
        except (AccountError, MoneyError) as exc:
            raise Unprocessable(str(exc)) from exc
        return _account_json(a)

    async def _last(s, account_id: str) -> Statement | None:
        return (await s.execute(sa.select(Statement).where(Statement.bank_account_id == account_id)
                                .order_by(Statement.seq.desc()).limit(1))).scalar_one_or_none()

    @r.get("/bank-accounts", summary="Bank accounts of a company, with their last statement balance")
    async def list_accounts(company: str, principal: Principal = Depends(read)) -> list[dict]:
        principal.require_company(company)
        async with db.sessions() as s:
            accounts = (await s.execute(sa.select(BankAccount).where(BankAccount.company_id == company)
                                        .order_by(BankAccount.code))).scalars().all()
            return [_account_json(a, await _last(s, a.id)) for a in accounts]

    async def _account(s, company: str, code: str, principal: Principal) -> BankAccount:
        principal.require_company(company)
        try:
            return await account_by_code(s, company, code)
        except AccountNotFound as exc:
            raise NotFound(str(exc)) from exc

    @r.get("/bank-accounts/{code}", summary="A bank account with its last statement balance")
    async def get_account(code: str, company: str, principal: Principal = Depends(read)) -> dict:
        async with db.sessions() as s:
            a = await _account(s, company, code, principal)
            return _account_json(a, await _last(s, a.id))

    @r.put("/bank-accounts/{code}/csv-mapping", summary="Save the CSV column mapping of the account's bank")
    async def put_mapping(code: str, company: str, body: CsvMappingIn, principal: Principal = Depends(write)) -> dict:
        cols = body.columns
        if "booking_date" not in cols or not ("amount" in cols or {"credit", "debit"} <= set(cols)):
            raise Unprocessable("the mapping needs booking_date and amount (or credit and debit)")
        async with db.transaction() as s:
            a = await _account(s, company, code, principal)
            a.csv_mapping = body.model_dump()
        return _account_json(a)

    @r.post("/internal-transfers", status_code=201, summary="Move money between two of the company's accounts")
    async def post_transfer(body: TransferIn, principal: Principal = Depends(write)) -> dict:
        principal.require_company(body.company_id)
        try:
            async with db.transaction() as s:
                t = await transfer(s, company_id=body.company_id, from_code=body.from_bank_account,
                                   to_code=body.to_bank_account, amount=body.amount, to_amount=body.to_amount,
                                   on=body.transfer_date, reference=body.reference, created_by=principal.subject)
        except AccountNotFound as exc:
            raise Unprocessable(str(exc)) from exc
        except AccountError as exc:
            raise Unprocessable(str(exc)) from exc
        return {"id": t.id, "number": t.number, "company_id": t.company_id,
                "transfer_date": t.transfer_date.isoformat(),
                "from_bank_account": body.from_bank_account, "to_bank_account": body.to_bank_account,
                "amount": money.format_amount(t.amount, t.currency), "currency": t.currency,
                "to_amount": money.format_amount(t.to_amount, t.to_currency), "to_currency": t.to_currency,
                "reference": t.reference}

    @r.get("/internal-transfers", summary="Internal transfers of a company")
    async def list_transfers(company: str, page: Page = Depends(pagination()),
                             principal: Principal = Depends(read)) -> list[dict]:
        principal.require_company(company)
        async with db.sessions() as s:
            rows = (await s.execute(sa.select(InternalTransferRow).where(InternalTransferRow.company_id == company)
                                    .order_by(InternalTransferRow.number).limit(page.limit).offset(page.offset)
                                    )).scalars().all()
        return [{"id": t.id, "number": t.number, "transfer_date": t.transfer_date.isoformat(),
                 "amount": money.format_amount(t.amount, t.currency), "currency": t.currency,
                 "to_amount": money.format_amount(t.to_amount, t.to_currency), "to_currency": t.to_currency,
                 "reference": t.reference} for t in rows]

    @r.post("/statements", status_code=201,
            summary="Import a bank statement file (camt.053 .001.02/.001.08, MT940, or CSV by the account's mapping)",
            description="The body is the file as the bank sent it. Refused (422, nothing kept): a file that is "
                        "not valid (camt.053 is validated against its ISO 20022 XSD), a duplicate statement "
                        "(same id, or the same lines again), a break in continuity (opening balance is not the "
                        "previous closing balance), lines that do not add up to the closing balance.",
            openapi_extra={"requestBody": {"required": True, "content": {
                "application/xml": {"schema": {"type": "string"}}, "text/plain": {"schema": {"type": "string"}},
                "text/csv": {"schema": {"type": "string"}},
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})
    async def post_statement(
            body: Annotated[bytes, Body(media_type="application/octet-stream")], company: str,
            format: Literal["auto", "camt053", "mt940", "csv"] = "auto",  # noqa: A002 - the API's word
            bank_account: str = Query("", max_length=40, description="needed for CSV; else found by IBAN/number"),
            statement_id: str = Query("", max_length=80, description="CSV: the statement's id"),
            opening_balance: Amount | None = Query(None, description="CSV: unless the mapping has a balance column"),
            closing_balance: Amount | None = Query(None, description="CSV: unless the mapping has a balance column"),
            file_name: str = Query("", max_length=255),
            principal: Principal = Depends(write)) -> dict:
        principal.require_company(company)
        if not body:
            raise Unprocessable("the body is the statement file; it is empty")
        try:
            async with db.transaction() as s:
                rows = await import_file(s, company_id=company, data=body, fmt=format, bank_account=bank_account,
                                         csv=CsvOptions(statement_id, opening_balance, closing_balance),
                                         file_name=file_name, imported_by=principal.subject)
                summary = await reconcile(s, company, rules, statement_ids=[x.id for x in rows])
                codes = {a.id: a.code for a in (await s.execute(sa.select(BankAccount).where(
                    BankAccount.id.in_({x.bank_account_id for x in rows})))).scalars()}
        except AccountNotFound as exc:
            raise Unprocessable(str(exc), type_="unknown-bank-account") from exc
        except StatementRefused as exc:
            raise Unprocessable(str(exc), type_=exc.kind, title="Statement refused") from exc
        return {"statements": [_statement_json(x, codes[x.bank_account_id]) for x in rows],
                "lines": sum(x.line_count for x in rows), "reconciliation": summary}

    @r.get("/statements", summary="Imported statements of a company (newest first)")
    async def list_statements(company: str, bank_account: str = "", page: Page = Depends(pagination()),
                              principal: Principal = Depends(read)) -> list[dict]:
        principal.require_company(company)
        async with db.sessions() as s:
            q = sa.select(Statement, BankAccount.code).join(BankAccount, BankAccount.id == Statement.bank_account_id
                                                            ).where(Statement.company_id == company)
            if bank_account:
                q = q.where(BankAccount.code == bank_account)
            rows = (await s.execute(q.order_by(Statement.imported_at.desc(), Statement.seq.desc())
                                    .limit(page.limit).offset(page.offset))).all()
        return [_statement_json(st, code) for st, code in rows]

    @r.get("/statements/{statement_id}", summary="A statement with its lines as received")
    async def get_statement(statement_id: str, company: str, principal: Principal = Depends(read)) -> dict:
        principal.require_company(company)
        async with db.sessions() as s:
            row = (await s.execute(sa.select(Statement, BankAccount.code).join(
                BankAccount, BankAccount.id == Statement.bank_account_id).where(
                Statement.company_id == company, Statement.id == statement_id))).first()
            if row is None:
                raise NotFound(f"no statement {statement_id}")
            lines = (await s.execute(sa.select(StatementLine).where(StatementLine.statement_id == statement_id)
                                     .order_by(StatementLine.line_no))).scalars().all()
        return {**_statement_json(*row), "items": [_line_json(ln) for ln in lines]}

    @r.post("/reconciliation/runs", summary="Reconcile the company's open and unmatched statement lines again "
                                             "(after new documents arrived)")
    async def post_run(company: str, principal: Principal = Depends(write)) -> dict:
        principal.require_company(company)
        async with db.transaction() as s:
            return {"company": company, "reconciliation": await reconcile(s, company, rules,
                                                                          actor=principal.subject)}

    @r.get("/reconciliation/lines", summary="Statement lines with their reconciliation: the review queue is "
                                            "status=review (candidates with scores), unmatched what no rule knew")
    async def list_decisions(company: str, status: Literal["auto", "review", "accepted", "rejected", "unmatched"]
                             | None = None, bank_account: str = "", page: Page = Depends(pagination(500, 10000)),
                             principal: Principal = Depends(read)) -> list[dict]:
        principal.require_company(company)
        async with db.sessions() as s:
            q = (sa.select(Reconciliation, StatementLine, BankAccount.code, Statement.statement_id)
                 .join(StatementLine, StatementLine.id == Reconciliation.line_id)
                 .join(BankAccount, BankAccount.id == StatementLine.bank_account_id)
                 .join(Statement, Statement.id == StatementLine.statement_id)
                 .where(Reconciliation.company_id == company))
            if status:
                q = q.where(Reconciliation.status == status)
            if bank_account:
                q = q.where(BankAccount.code == bank_account)
            rows = (await s.execute(q.order_by(StatementLine.booking_date, StatementLine.id)
                                    .limit(page.limit).offset(page.offset))).all()
        return [decision_json(*row) for row in rows]

    async def _decide(company: str, line_id: int, principal: Principal, fn) -> dict:
        principal.require_company(company)
        try:
            async with db.transaction() as s:
                rec = await fn(s)
                row = (await s.execute(sa.select(StatementLine, BankAccount.code, Statement.statement_id)
                                       .join(BankAccount, BankAccount.id == StatementLine.bank_account_id)
                                       .join(Statement, Statement.id == StatementLine.statement_id)
                                       .where(StatementLine.id == line_id))).first()
                return decision_json(rec, *row)
        except LookupError as exc:
            raise NotFound(str(exc)) from exc
        except ReviewError as exc:
            raise Conflict(str(exc)) from exc

    @r.post("/reconciliation/lines/{line_id}/accept",
            summary="Decide a line in review or unmatched: a candidate, a customer's receipt, or suspense")
    async def post_accept(line_id: RowId, company: str, body: DecisionIn,
                          principal: Principal = Depends(write)) -> dict:
        return await _decide(company, line_id, principal, lambda s: accept(
            s, company, line_id, candidate=body.candidate, customer=body.customer, action=body.action,
            actor=principal.subject))

    @r.post("/reconciliation/lines/{line_id}/identify",
            summary="A line on the suspense account found to be a customer's receipt: clears the suspense "
                    "(SuspenseCleared) and publishes the receipt for AR (BankReceiptIdentified, oldest-first)")
    async def post_identify(line_id: RowId, company: str, body: IdentifyIn,
                            principal: Principal = Depends(write)) -> dict:
        return await _decide(company, line_id, principal, lambda s: identify(
            s, company, line_id, customer=body.customer, actor=principal.subject))

    @r.post("/reconciliation/lines/{line_id}/reject", summary="None of the candidates: the line stays unmatched")
    async def post_reject(line_id: RowId, company: str, principal: Principal = Depends(write)) -> dict:
        return await _decide(company, line_id, principal, lambda s: reject(s, company, line_id,
                                                                           actor=principal.subject))

    @r.get("/reconciliation/open-items", summary="What reconciliation matches against, as AR and AP published it")
    async def list_items(company: str, kind: str = "", open_only: bool = True,
                         page: Page = Depends(pagination(500, 10000)), principal: Principal = Depends(read)) -> list:
        principal.require_company(company)
        async with db.sessions() as s:
            q = sa.select(OpenItemRow).where(OpenItemRow.company_id == company)
            if kind:
                q = q.where(OpenItemRow.kind == kind)
            if open_only:
                q = q.where(OpenItemRow.is_open)
            rows = (await s.execute(q.order_by(OpenItemRow.item_date, OpenItemRow.key)
                                    .limit(page.limit).offset(page.offset))).scalars().all()
        return [{"key": i.key, "kind": i.kind, "document_id": i.document_id, "number": i.number, "party": i.party,
                 "currency": i.currency, "amount": money.format_amount(i.amount, i.currency),
                 "open": money.format_amount(i.open, i.currency), "date": i.item_date.isoformat(),
                 "references": i.references, "bank_account": i.bank_account} for i in rows]

    @r.get("/reconciliation/bank-balances",
           summary="Bank reconciliation per account: the last statement's balance, less the lines not yet "
                   "reconciled, plus the documents booked but not yet on a statement = what the ledger's bank "
                   "sub-account holds (finance-verify I7 compares them)")
    async def get_bank_balances(company: str, principal: Principal = Depends(read)) -> list[dict]:
        principal.require_company(company)
        async with db.sessions() as s:
            return await bank_balances(s, company)

    @r.get("/cash-position", summary="Live cash position: per bank account and currency, the ledger's booked "
                                     "balance, the bank's last statement and its value-dated balance",
           description="Kept from the events by the cash position worker (a cache rebuilt from the topics, never "
                       "the book of record). 503 while the worker is down or recovering its tables.",
           responses={503: {"description": "The cash position worker is down or recovering its tables",
                            "content": {"application/problem+json": {"schema": Problem.model_json_schema()}}}})
    async def get_position(company: str, as_of: Date | None = None, principal: Principal = Depends(read)) -> dict:
        principal.require_company(company)
        try:
            return await read_position(position_url, company, as_of or dt.date.today())
        except PositionUnavailable as exc:
            raise ProblemError(str(exc), status=503, type_="cash-position-unavailable",
                               title="Cash position unavailable", headers={"Retry-After": "5"}) from exc

    return r
