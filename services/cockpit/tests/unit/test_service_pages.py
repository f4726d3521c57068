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


def test_profit_pivot_past_its_column_cap_still_adds_up():
    """23 products as columns: the 20 largest are shown, the page says so, and the last column
    holds the other 3 with the revenue that has no product, so rows and total still add up.
    Customer A buys product Pn for n*10 (n = 1..23) and has 7.00 without a product; customer B
    buys each product for 1.00. Hidden: P01..P03 -> A 10+20+30 = 60 (+7 none = 67), B 3.
    Total: A 10*(1+..+23) + 7 = 2,767; B 23; all 2,790."""
    products = [f"P{n:02d}" for n in range(1, 24)]
    sales = {("A", p): 10 * (i + 1) for i, p in enumerate(products)} | {("B", p): 1 for p in products}
    sales[("A", "")] = 7
    app = FastAPI()

    @app.get("/v1/trial-balance")
    async def tb(company: str, as_of: str, group_by: str, product: str = ""):
        if as_of < "2026-11-01":
            return {"journals": 0, "lines": []}
        cells = {k: v for k, v in sales.items() if not product or k[1] == product}
        key = 0 if group_by == "customer" else 1
        parts: dict[str, int] = {}
        for k, v in cells.items():
            parts[k[key]] = parts.get(k[key], 0) + v
        return {"journals": 1, "lines": [{"account": "6001", "debit_balance": "0", "credit_balance": "0",
                                          f"by_{group_by}": [{group_by: val, "balance": f"-{amt}.00"}
                                                             for val, amt in parts.items()]}]}

    @app.get("/v1/companies/{company}")
    async def company_(company: str):
        return {"id": company, "name": "X", "functional_currency": "CNY", "chart_template": "cas"}

    @app.get("/v1/companies/{company}/accounts")
    async def chart(company: str):
        return [{"code": "6001", "name": "Revenue", "type": "revenue"}]

    settings = CockpitSettings(live=False, dev_signin=True)
    apis = Apis(settings, transport=httpx.ASGITransport(app=app))
    c = TestClient(create_app(settings, apis=apis), follow_redirects=False)
    form = c.get("/login", headers={"accept": "text/html"}).text
    c.post("/login/dev", data={"csrf": re.search(r'name="csrf" value="([^"]+)"', form).group(1), "next": "/"})
    page = c.get("/profit?company=X&period=2026-11&rows=customer&cols=product", headers={"accept": "text/html"})
    assert page.status_code == 200, page.text
    pivot = page.text[page.text.index('<table id="pivot">'):]
    pivot = pivot[:pivot.index("</table>")]
    assert "the 20 largest values by amount; 3 more are in the last column" in pivot
    assert "P04" in pivot and "P03" not in pivot and "(others and none)" in pivot
    assert pivot.index("P23") < pivot.index("(others and none)")  # the last column, as the caption says
    rows = {m.group(1): re.findall(r'data-amount="([^"]+)"', m.group(2))
            for m in re.finditer(r'<tr><th scope="row">([^<]+)</th>(.*?)</tr>', pivot, re.S)}
    assert rows["A"][-2:] == ["67.00", "2767.00"] and rows["B"][-2:] == ["3.00", "23.00"]
    assert rows["Total"][-2:] == ["70.00", "2790.00"]
