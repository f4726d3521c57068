"""Budget lines by CSV: read with `csv` on both sides (the API and the `import` command), so a
quoted field with a comma or a newline is one field; and the same row limit as JSON."""

import asyncio

import pytest
from budget.__main__ import csv_chunks
from budget.bootstrap import MIGRATIONS
from budget.entrypoints.http import MAX_LINES, build_router
from budget.service.budgets import upsert_item
from fastapi import FastAPI
from fastapi.testclient import TestClient
from fincore.auth import Authenticator, mint_token
from fincore.db import Database, migrate
from fincore.errors import install_problem_handlers
from fincore.settings import ServiceSettings

HEADER = "cost_centre,budget_item,period,amount,control_mode,tolerance_pct,note\n"
# The note of the second line is quoted and spans two lines, with a comma in it.
QUOTED = HEADER + 'ADM,OFFICE,2026-11,100.00,block,0,plain\nOPS,OFFICE,2026-11,200.00,warn,5,"two lines,\nof note"\n'


@pytest.fixture()
def client(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'budget.db'}"
    migrate(MIGRATIONS, url)
    db = Database(url)

    async def seed():
        async with db.transaction() as s:
            await upsert_item(s, "C", "OFFICE", "Office", ["6602"])

    asyncio.run(seed())
    settings = ServiceSettings(service_name="budget")
    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(build_router(db, Authenticator(settings)))
    token = mint_token(settings, subject="planner", scopes=["budget:read", "budget:write"], companies=["C"])
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as c:
        yield c
    asyncio.run(db.dispose())


def _version(client) -> str:
    r = client.post("/v1/budget-versions", json={"company_id": "C", "code": "V1", "currency": "EUR"})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_a_quoted_newline_is_one_field_in_the_api_and_in_the_import_command(client):
    v = _version(client)
    r = client.post(f"/v1/budget-versions/{v}/lines.csv", content=QUOTED, headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    assert (r.json()["added"], r.json()["lines"]) == (2, 2)
    # The import command cuts the file one line per request: the quoted note stays in its row.
    n, bodies = csv_chunks(QUOTED, 1)
    assert n == 2 and len(bodies) == 2
    assert bodies[1] == HEADER + 'OPS,OFFICE,2026-11,200.00,warn,5,"two lines,\nof note"\n'
    for body in bodies:
        r = client.post(f"/v1/budget-versions/{v}/lines.csv", content=body, headers={"Content-Type": "text/csv"})
        assert r.status_code == 200 and r.json()["added"] == 1, r.text
    assert client.post(f"/v1/budget-versions/{v}/approve").json()["status"] == "approved"
    rep = client.get("/v1/reports/budget-vs-actual", params={"company": "C", "group_by": "cost_centre"}).json()
    assert [(x["cost_centre"], x["budget"]) for x in rep["rows"]] == [("ADM", "100.00"), ("OPS", "200.00")]


def _rows(n: int) -> list[tuple[str, str]]:
    """n distinct budget lines: cost centres CC0000.. (one month each)."""
    return [(f"CC{i:04d}", "2026-11") for i in range(n)]


@pytest.mark.parametrize("n, status", [(MAX_LINES, 200), (MAX_LINES + 1, 422)])
def test_csv_and_json_take_the_same_number_of_lines(client, n, status):
    v = _version(client)
    csv_body = "cost_centre,budget_item,period,amount\n" + "".join(f"{cc},OFFICE,{p},1.00\n" for cc, p in _rows(n))
    r = client.post(f"/v1/budget-versions/{v}/lines.csv", content=csv_body, headers={"Content-Type": "text/csv"})
    assert r.status_code == status, r.text[:300]
    if status == 422:
        assert r.headers["content-type"].startswith("application/problem+json")
        assert f"more than {MAX_LINES} lines" in r.json()["detail"]
    json_body = {"lines": [{"cost_centre": cc, "budget_item": "OFFICE", "period": p, "amount": "2.00"}
                           for cc, p in _rows(n)]}
    r = client.post(f"/v1/budget-versions/{v}/lines", json=json_body)
    assert r.status_code == status, r.text[:300]
    if status == 422:
        assert r.headers["content-type"].startswith("application/problem+json")
        assert str(MAX_LINES) in r.text
    # Over the limit neither body added a line; at the limit the JSON replaced the CSV's lines.
    one = client.post(f"/v1/budget-versions/{v}/lines", json={"lines": [
        {"cost_centre": "CC0000", "budget_item": "OFFICE", "period": "2026-11", "amount": "3.00"}]}).json()
    assert one["lines"] == (n if status == 200 else 1)


def test_a_broken_csv_is_a_clear_422(client):
    v = _version(client)
    r = client.post(f"/v1/budget-versions/{v}/lines.csv", content="cost_centre,period\nADM,2026-11\n",
                    headers={"Content-Type": "text/csv"})
    assert r.status_code == 422 and "lacks amount, budget_item" in r.json()["detail"]
