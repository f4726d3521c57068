"""Reading the live cash position from its worker (cashmgmt/entrypoints/position_stream.py)."""

from __future__ import annotations

import datetime as dt

import httpx


class PositionUnavailable(RuntimeError):
    """The worker is down or still recovering its tables."""


async def read_position(base_url: str, company: str, as_of: dt.date, *, timeout_s: float = 10.0) -> dict:
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=timeout_s) as http:
            r = await http.get("/position", params={"company": company, "as_of": as_of.isoformat()})
    except httpx.HTTPError as exc:
        raise PositionUnavailable(f"the cash position worker at {base_url} does not answer: {exc}") from exc
    if r.status_code != 200:
        raise PositionUnavailable(f"the cash position worker answered {r.status_code}: {r.text[:200]}")
    return r.json()
