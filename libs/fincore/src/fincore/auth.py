"""OAuth 2.0 bearer tokens (JWT): scopes per operation, companies as a claim.

A token carries `scope` (space-separated, e.g. "gl:read ar:write") and `companies` (list of
company ids, or ["*"]). A token for one company never reads or writes another's books:
every route that takes a company checks it with `Principal.require_company`.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

import jwt
from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from fincore.errors import ProblemError
from fincore.settings import ServiceSettings

_CHALLENGE = {"WWW-Authenticate": "Bearer"}


class Unauthorized(ProblemError):
    status, type_, title = 401, "unauthorized", "Unauthorized"


class Forbidden(ProblemError):
    status, type_, title = 403, "forbidden", "Forbidden"


@dataclass(frozen=True)
class Principal:
    subject: str
    scopes: frozenset[str]
    companies: frozenset[str]

    def can_access(self, company: str) -> bool:
        return "*" in self.companies or company in self.companies

    def require_company(self, company: str) -> None:
        if not self.can_access(company):
            raise Forbidden(f"token of {self.subject!r} does not grant company {company!r}")


class Authenticator:
    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.algorithms = [a.strip() for a in settings.auth_jwt_algorithms.split(",") if a.strip()]
        self.key = settings.auth_jwt_public_key or settings.auth_jwt_secret
        self._bearer = HTTPBearer(auto_error=False)
        self._verified: dict[str, tuple[Principal, float]] = {}

    def decode(self, token: str) -> Principal:
        """Verify a token; a verified token is remembered until it expires (the signature
        check is the costly part of a small authorised call, e.g. a gRPC credit check)."""
        hit = self._verified.get(token)
        if hit is not None and hit[1] > time.time():
            return hit[0]
        principal, exp = self._decode(token)
        if len(self._verified) >= 4096:
            self._verified.clear()
        self._verified[token] = (principal, exp)
        return principal

    def _decode(self, token: str) -> tuple[Principal, float]:
        try:
            claims = jwt.decode(token, self.key, algorithms=self.algorithms,
                                audience=self.settings.auth_jwt_audience, issuer=self.settings.auth_jwt_issuer,
                                options={"require": ["exp", "sub"]})
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"invalid token: {exc}", headers=_CHALLENGE) from exc
        sub, scopes, companies = claims["sub"], claims.get("scope", ""), claims.get("companies", [])
        # Claims are checked as strictly as the signature: a number, a list where a string
        # belongs or an object where a list belongs is a malformed token, never a wildcard.
        if not isinstance(sub, str) or not sub.strip() or len(sub) > 255:
            raise Unauthorized("invalid token: `sub` must be a non-empty string", headers=_CHALLENGE)
        if not isinstance(scopes, str):
            raise Unauthorized("invalid token: `scope` must be a space-separated string", headers=_CHALLENGE)
        if not isinstance(companies, list) or not all(isinstance(c, str) and c for c in companies):
            raise Unauthorized("invalid token: `companies` must be a list of company ids (or [\"*\"])",
                               headers=_CHALLENGE)
        return Principal(sub, frozenset(scopes.split()), frozenset(companies)), float(claims["exp"])

    def require(self, scope: str, *alternatives: str):
        """FastAPI dependency: a valid bearer token holding `scope` (or one of `alternatives`)."""
        accepted = (scope, *alternatives)

        async def dependency(
            creds: HTTPAuthorizationCredentials | None = Depends(self._bearer),
        ) -> Principal:
            if creds is None or creds.scheme.lower() != "bearer":
                raise Unauthorized("a bearer token is required", headers=_CHALLENGE)
            principal = self.decode(creds.credentials)
            if not principal.scopes.intersection(accepted):
                raise Forbidden(f"token lacks scope {' or '.join(map(repr, accepted))}", required_scope=scope)
            return principal

        return dependency


def mint_token(settings: ServiceSettings, *, subject: str, scopes: list[str], companies: list[str],
               ttl: dt.timedelta = dt.timedelta(hours=12)) -> str:
    """A development token signed with the shared secret (production tokens come from the IdP)."""
    now = dt.datetime.now(dt.UTC)
    return jwt.encode(
        {"sub": subject, "scope": " ".join(scopes), "companies": companies,
         "iss": settings.auth_jwt_issuer, "aud": settings.auth_jwt_audience,
         "iat": now, "exp": now + ttl},
        settings.auth_jwt_secret, algorithm="HS256",
    )


ALL_SCOPES = [f"{ctx}:{op}" for ctx in ("gl", "ar", "ap", "inventory", "cashmgmt", "budget", "consolidation")
              for op in ("read", "write")] + ["gl:post", "gl:admin", "admin", "ops:admin"]

# `admin`: operations (dead letters) on the companies the token grants; `ops:admin`: the suite's
# operators, across companies (every dead letter, re-publishing the outbox).
OPS_ADMIN = "ops:admin"


async def get_owned(session, model, key, principal: Principal, what: str):
    """The row of `model` at `key` if it exists and belongs to a company the token grants;
    otherwise 404 (another company's document is not even acknowledged to exist)."""
    from fincore.errors import NotFound

    row = await session.get(model, key)
    if row is None or not principal.can_access(row.company_id):
        raise NotFound(f"no {what} {key}")
    return row
