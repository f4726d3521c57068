"""The other services' public APIs, called with the signed-in user's token: the cockpit sees
exactly what that user may see, and owns no books."""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Any

import httpx
from opentelemetry import propagate

from cockpit.settings import CockpitSettings

SERVICES = ("gl", "ar", "ap", "inventory", "cashmgmt", "budget", "consolidation")
# Calls in flight per service: a page fans out (the overview's trend is twelve statements), and
# each call holds one of the service's database connections, which the suite shares.
PER_SERVICE = 4


class ApiError(Exception):
    """A service answered with an error (its problem+json detail kept) or did not answer."""

    def __init__(self, service: str, status: int, detail: str) -> None:
        super().__init__(f"{service}: {status} {detail}")
        self.service, self.status, self.detail = service, status, detail


class Apis:
    def __init__(self, settings: CockpitSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.client = httpx.AsyncClient(timeout=settings.api_timeout_s, transport=transport,
                                        limits=httpx.Limits(max_connections=50, max_keepalive_connections=20))
        self._cache: dict[tuple, tuple[float, Any]] = {}
        self._slots = {s: asyncio.Semaphore(PER_SERVICE) for s in SERVICES}

    async def close(self) -> None:
        await self.client.aclose()

    def url(self, service: str, path: str) -> str:
        return self.settings.service_url(service).rstrip("/") + path

    def _headers(self, token: str, extra: dict | None = None) -> dict:
        headers = {"Authorization": f"Bearer {token}", **(extra or {})}
        propagate.inject(headers)  # the page's trace continues into the service
        return headers

    async def get(self, service: str, path: str, token: str, **params: Any) -> Any:
        """A read; retried once after a short pause when the service failed (5xx) or did not
        answer, since a read changes nothing and a page is worth one more try."""
        params = {k: v for k, v in params.items() if v not in (None, "")}
        for attempt in (1, 2):
            try:
                async with self._slots[service]:
                    r = await self.client.get(self.url(service, path), params=params, headers=self._headers(token))
            except httpx.HTTPError as exc:
                if attempt == 2:
                    raise ApiError(service, 503, f"{type(exc).__name__}: {exc}") from exc
            else:
                if r.status_code < 500 or attempt == 2:
                    return self._answer(service, r)
            await asyncio.sleep(0.2)
        raise AssertionError("unreachable")

    async def post(self, service: str, path: str, token: str, *, idempotency_key: str, json: Any = None) -> Any:
        try:
            async with self._slots[service]:
                r = await self.client.post(self.url(service, path), json=json,
                                           headers=self._headers(token, {"Idempotency-Key": idempotency_key}))
        except httpx.HTTPError as exc:
            raise ApiError(service, 503, f"{type(exc).__name__}: {exc}") from exc
        return self._answer(service, r)

    @staticmethod
    def _answer(service: str, r: httpx.Response) -> Any:
        if r.status_code >= 400:
            try:
                body = r.json()
                detail = body.get("detail") or body.get("title") or r.text
            except ValueError:
                detail = r.text[:300]
            raise ApiError(service, r.status_code, str(detail))
        return r.json()

    async def cached(self, ttl_s: float, service: str, path: str, token: str, **params: Any) -> Any:
        """For what changes rarely (a company's settings, its chart): kept per token, briefly."""
        key = (hashlib.sha256(token.encode()).hexdigest(), service, path, tuple(sorted(params.items())))
        hit = self._cache.get(key)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        value = await self.get(service, path, token, **params)
        if len(self._cache) > 1000:
            self._cache.clear()
        self._cache[key] = (time.monotonic() + ttl_s, value)
        return value

    async def gather(self, **calls) -> dict[str, Any]:
        """Run named calls concurrently; a failed call's value is its ApiError (a page shows the
        figures it could get and says which service did not answer)."""
        names = list(calls)
        results = await asyncio.gather(*calls.values(), return_exceptions=True)
        out = {}
        for name, res in zip(names, results, strict=True):
            if isinstance(res, BaseException) and not isinstance(res, ApiError):
                raise res
            out[name] = res
        return out
