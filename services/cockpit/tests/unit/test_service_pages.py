"""Pages over the consolidation and cash management APIs (stand-ins serving their answers'
shapes): a run's statements and a figure drilled down to the entities' ledgers; bank accounts'
book and bank balances."""

import re

import httpx
from cockpit.adapters.apis import Apis
from cockpit.bootstrap import create_app
from cockpit.settings import CockpitSettings
from fastapi import FastAPI
from fastapi.testclient import TestClient

RUN = {"id": "run-1", "group_id": "GRP", "period_from": "2026-01", "period_to": "2026-11", "final": True,
       "currency": "CNY",
       "balance_sheet": {"as_of": "2026-11-30", "currency": "CNY",
                         "assets": [{"account": "1122", "name": "Receivables", "amount": "150.00"}],
                         "total_assets": "150.00", "liabilities": [], "total_liabilities": "0",
                         "equity": {"share_capital": "100.00", "retained_earnings": "50.00", "total": "150.00"},
                         "total_equity_and_liabilities": "150.00", "balanced": True},
       "income_statement": {"lines": [{"account": "6001", "name": "Revenue", "amount": "80.00", "kind": "income"}],
                            "profit": "50.00", "attributable": {"owners": "45.00", "nci": "5.00"}}}


def stand_in() -> FastAPI:
    app = FastAPI()

    @app.get("/v1/groups/{group}/runs/latest")
    async def latest(group: str, period_to: str):
        assert (group, period_to) == ("GRP", "2026-11")
        return RUN

    @app.get("/v1/runs/{run}/figures/{account}")
    async def figure(run: str, account: str):
        return {"run_id": run, "account": account, "name": "Receivables", "amount": "150.00",
                "entities": [{"company_id": "E1", "amount": "150.00", "accounts": [
                    {"account": "1122", "amount": "150.00",
                     "ledger": "http://gl:8001/v1/ledger?company=E1&account=1122&to=2026-11-30"}]}],
                "journals": [{"journal": "elim-1", "amount": "-10.00"}]}

    return app


def test_consolidated_statements_drill_down_to_an_entitys_ledger():
    settings = CockpitSettings(live=False, dev_signin=True)
    apis = Apis(settings, transport=httpx.ASGITransport(app=stand_in()))
    c = TestClient(create_app(settings, apis=apis), follow_redirects=False)
    form = c.get("/login", headers={"accept": "text/html"}).text
    c.post("/login/dev", data={"csrf": re.search(r'name="csrf" value="([^"]+)"', form).group(1), "next": "/"})
    page = c.get("/consolidation?company=GRP&period=2026-11", headers={"accept": "text/html"}).text
    assert 'id="consolidated-bs"' in page and "150.00" in page and "Revenue" in page
    link = re.search(r'href="(/consolidation/runs/run-1/figures/1122[^"]*)"', page).group(1)
    figure = c.get(link.replace("&amp;", "&"), headers={"accept": "text/html"}).text
    assert 'href="/ledger?company=E1&amp;account=1122&amp;to=2026-11-30"' in figure and "elim-1" in figure


def test_cash_position_books_beside_the_bank():
    app = FastAPI()

    @app.get("/v1/bank-accounts")
    async def accounts(company: str):
        return [{"code": "MAIN", "name": "Main", "currency": "CNY", "gl_account": "100201",
                 "statement_balance": "900.00", "statement_date": "2026-11-28"},
                {"code": "USD", "name": "Dollar", "currency": "USD", "gl_account": "100202",
                 "statement_balance": None, "statement_date": None}]

    @app.get("/v1/trial-balance")
    async def tb(company: str, as_of: str):
        return {"journals": 1, "lines": [{"account": "100201", "debit_balance": "1000.00", "credit_balance": "0.00"},
                                         {"account": "100202", "debit_balance": "70.00", "credit_balance": "0.00"}]}

    @app.get("/v1/companies/{company}")
    async def company_(company: str):
        return {"id": company, "name": "X", "functional_currency": "CNY", "chart_template": "cas"}

    @app.get("/v1/companies/{company}/accounts")
    async def chart(company: str):
        return []

    settings = CockpitSettings(live=False, dev_signin=True)
    c = TestClient(create_app(settings, apis=Apis(settings, transport=httpx.ASGITransport(app=app))),
                   follow_redirects=False)
    form = c.get("/login", headers={"accept": "text/html"}).text
    c.post("/login/dev", data={"csrf": re.search(r'name="csrf" value="([^"]+)"', form).group(1), "next": "/"})
    page = c.get("/cash?company=X&period=2026-11", headers={"accept": "text/html"}).text
    assert 'id="cash-position"' in page
    assert 'data-amount="1000.00"' in page and 'data-amount="900.00"' in page and 'data-amount="100.00"' in page
    assert 'href="/ledger?company=X&amp;account=100201&amp;to=2026-11-30"' in page
    assert 'data-amount="1070.00"' in page  # total in the books
