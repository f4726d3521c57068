"""Idempotency-Key: one mechanism for every POST of every service.

Why this exists: a client that retries a POST (timeout, lost connection, crash) must not
create the thing twice, and must get the answer it missed. The rules:

- the key belongs to the client: it is scoped by the token's subject, so two clients never
  collide and never read each other's answers;
- a key names one request: the same key with the same method, path, query and body replays
  the recorded answer (status, body, Location) with ``Idempotent-Replayed: true``; the same key
  with anything else is refused with 409 ``idempotency-key-reused``;
- the key row is inserted in the first database transaction the request opens
  (`Database.transaction` asks `claim_in`), i.e. in the same transaction as the effect, so of
  two concurrent requests with one key the primary key lets exactly one commit its effect;
  the other rolls back with nothing done and is answered with the winner's recorded answer;
- a request that fails before anything was committed leaves no row: a retry runs again.
  A request that committed and then failed (a 4xx after the effect) records that answer.

The route class `IdempotentRoute` (used by `fincore.http.service_router`) applies this to every
POST route; the header is optional, without it a POST runs as before.
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Annotated

import sqlalchemy as sa
from fastapi import Header, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fincore.errors import Conflict, ProblemError, problem_response
from fincore.tables import IdempotencyRecord, utcnow

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"  # printable ASCII, no spaces: what clients put in headers
_KEPT_HEADERS = ("location", "content-type")
_T = IdempotencyRecord.__table__


def fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    """What makes two requests "the same": method, path, query and the body's JSON value
    (so key order and whitespace do not matter); a body that is not JSON counts byte for byte."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode() if body else b""
    except (ValueError, RecursionError):
        canonical = body
    h = hashlib.sha256()
    for part in (method.encode(), path.encode(), query.encode(), canonical):
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


class KeyInUse(Exception):
    """Another request with this key committed first (raised from `Database.transaction`)."""


@dataclass
class Claim:
    subject: str
    key: str
    fingerprint: str
    method: str
    path: str
    committed: bool = False
    lost: bool = False


_current: contextvars.ContextVar[Claim | None] = contextvars.ContextVar("idempotency_claim", default=None)


def pending_claim() -> Claim | None:
    """The claim of the request being served, while its key is not yet committed."""
    claim = _current.get()
    return claim if claim is not None and not claim.committed and not claim.lost else None


async def claim_in(session: AsyncSession, claim: Claim) -> None:
    """Insert the key row in `session`'s transaction. On PostgreSQL a concurrent request with
    the same key waits here until the first commits or rolls back, then fails or proceeds."""
    try:
        await session.execute(sa.insert(_T).values(
            subject=claim.subject, key=claim.key, fingerprint=claim.fingerprint, method=claim.method,
            path=claim.path, created_at=utcnow()))
    except IntegrityError:
        claim.lost = True
        raise KeyInUse(claim.key) from None


def idempotency_key_header(
    idempotency_key: Annotated[str | None, Header(
        alias=HEADER, pattern=KEY_PATTERN,
        description="Optional. A retry with the same key and request returns the first answer "
                    f"(marked `{REPLAYED}: true`); the same key with another request is refused (409)."),
    ] = None,
) -> None:
    """Declares (and validates) the header in the OpenAPI of every POST; `IdempotentRoute` acts on it."""


class IdempotentRoute(APIRoute):
    """An APIRoute that gives every POST the Idempotency-Key behaviour described above."""

    def __init__(self, path: str, endpoint, **kwargs) -> None:
        from fastapi import Depends

        if "POST" in (kwargs.get("methods") or ()):
            kwargs["dependencies"] = [*(kwargs.get("dependencies") or []), Depends(idempotency_key_header)]
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self):
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            key = request.headers.get(HEADER)
            if request.method != "POST" or key is None or not _valid_key(key):
                return await original(request)  # an invalid key is refused by the header's validation
            subject = _subject(request)
            if subject is None:
                return await original(request)  # no valid token: the route answers 401
            db = request.app.state.db
            claim = Claim(subject=subject, key=key, method=request.method, path=request.url.path,
                          fingerprint=fingerprint(request.method, request.url.path, request.url.query,
                                                  await request.body()))
            found = await _load(db, subject, key)
            if found is not None:
                return await _answer(db, claim, found)
            token = _current.set(claim)
            try:
                response = await original(request)
            except ProblemError as exc:
                if claim.lost:
                    return await _answer(db, claim, None)
                if not claim.committed:
                    raise  # nothing was done: a retry runs again
                response = problem_response(exc, request)
            except KeyInUse:
                return await _answer(db, claim, None)
            except BaseException:
                if claim.lost:
                    return await _answer(db, claim, None)
                raise
            finally:
                _current.reset(token)
            if claim.lost:  # the route swallowed KeyInUse
                return await _answer(db, claim, None)
            await _record(db, claim, response)
            return response

        return handler


def _valid_key(key: str) -> bool:
    import re

    return re.fullmatch(KEY_PATTERN, key) is not None


def _subject(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    try:
        return request.app.state.auth.decode(header.split(" ", 1)[1]).subject
    except ProblemError:
        return None


async def _load(db, subject: str, key: str) -> IdempotencyRecord | None:
    async with db.sessions() as s:
        return await s.get(IdempotencyRecord, (subject, key))


async def _answer(db, claim: Claim, found: IdempotencyRecord | None, wait_s: float = 15.0) -> Response:
    """The recorded answer for the key, or 409. A concurrent winner may have committed its effect
    and not yet recorded its answer: wait for it a little."""
    deadline = asyncio.get_running_loop().time() + wait_s
    while True:
        if found is None or found.status_code is None:
            await asyncio.sleep(0.05)
            found = await _load(db, claim.subject, claim.key)
        if found is not None and found.fingerprint != claim.fingerprint:
            raise Conflict(f"{HEADER} {claim.key!r} was used for a different request "
                           f"({found.method} {found.path}, another body or query)",
                           type_="idempotency-key-reused", title="Idempotency-Key reused")
        if found is not None and found.status_code is not None:
            headers = {k: v for k, v in (found.response_headers or {}).items() if k != "content-type"}
            return Response(found.response_body or b"", status_code=found.status_code,
                            headers={**headers, REPLAYED: "true"},
                            media_type=(found.response_headers or {}).get("content-type"))
        if asyncio.get_running_loop().time() > deadline or (found is not None and _age_s(found) > wait_s):
            raise Conflict(f"a request with {HEADER} {claim.key!r} is in progress or stopped before answering; "
                           "retry later, or read the resource it created", type_="idempotency-key-in-progress",
                           title="Request in progress", headers={"Retry-After": "1"})


def _age_s(row: IdempotencyRecord) -> float:
    at = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=dt.UTC)
    return (utcnow() - at).total_seconds()


async def _record(db, claim: Claim, response: Response) -> None:
    body = getattr(response, "body", None)
    if not isinstance(body, bytes | bytearray):
        return  # a streamed answer is not kept; a replay says the request was carried out
    values = dict(status_code=response.status_code, response_body=bytes(body), completed_at=utcnow(),
                  response_headers={k: v for k, v in response.headers.items() if k in _KEPT_HEADERS})
    if claim.committed:
        async with db.transaction() as s:
            await s.execute(sa.update(_T).where(_T.c.subject == claim.subject, _T.c.key == claim.key).values(**values))
    elif 200 <= response.status_code < 300:
        # The route wrote nothing (a computation, a read): remember the answer all the same.
        try:
            async with db.transaction() as s:
                await s.execute(sa.insert(_T).values(
                    subject=claim.subject, key=claim.key, fingerprint=claim.fingerprint, method=claim.method,
                    path=claim.path, created_at=utcnow(), **values))
        except (IntegrityError, KeyInUse):
            log.info("idempotency key %r recorded concurrently", claim.key)
