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


POSITION = {"company": "X", "as_of": "2026-11-30", "bank_accounts": [
    {"bank_account": "MAIN", "name": "Main", "currency": "CNY", "gl_account": "100201", "booked": "1000.00",
     "booked_functional": "1000.00", "gl_account_shared_with": [], "statement_id": "S-1",
     "statement_date": "2026-11-28", "bank_balance": "900.00", "bank_value_dated": "880.00",
     "booked_at_statement_date": "950.00", "difference_at_statement_date": "50.00"},
    {"bank_account": "USD", "name": "Dollar", "currency": "USD", "gl_account": "100202", "booked": "10.00",
     "booked_functional": "70.00", "gl_account_shared_with": [], "statement_id": None, "statement_date": None,
     "bank_balance": None, "bank_value_dated": None, "booked_at_statement_date": None,
     "difference_at_statement_date": None}],
    "other_cash_accounts": [{"gl_account": "1001", "currency": "CNY", "booked": "30.00", "booked_functional": "30.00"}],
    "totals": [{"currency": "CNY", "booked": "1030.00", "bank_value_dated": "880.00"},
               {"currency": "USD", "booked": "10.00", "bank_value_dated": "0.00"}]}


def cash_page(answer) -> tuple[str, list]:
    """The cash page over a stand-in cash management answering `answer()` (a dict, or a status)."""
    from fastapi.responses import JSONResponse

    app, asked = FastAPI(), []

    @app.get("/v1/cash-position")
    async def position(company: str, as_of: str):
        asked.append((company, as_of))
        got = answer()
        if isinstance(got, int):
            return JSONResponse({"type": "https://finance.example/problems/cash-position-unavailable",
                                 "detail": "the cash position is recovering its tables"}, status_code=got,
                                media_type="application/problem+json")
        return got

    settings = CockpitSettings(live=False, dev_signin=True)
    c = TestClient(create_app(settings, apis=Apis(settings, transport=httpx.ASGITransport(app=app))),
                   follow_redirects=False)
    form = c.get("/login", headers={"accept": "text/html"}).text
    c.post("/login/dev", data={"csrf": re.search(r'name="csrf" value="([^"]+)"', form).group(1), "next": "/"})
    return c.get("/cash?company=X&period=2026-11", headers={"accept": "text/html"}).text, asked


def test_the_cash_page_shows_the_live_position_per_account_and_currency():
    page, asked = cash_page(lambda: POSITION)
    assert asked == [("X", "2026-11-30")]  # a past period: its end
    assert 'id="cash-position"' in page and 'data-state="ready"' in page and "hx-trigger" not in page
    main = re.search(r'<tr data-account="MAIN".*?</tr>', page, re.S).group(0)
    assert [re.search(rf'data-col="{c}">\s*<span[^>]*data-amount="([^"]*)"', main).group(1)
            for c in ("booked", "bank_balance", "bank_value_dated", "difference")] == ["1000.00", "900.00", "880.00",
                                                                                       "50.00"]
    usd = re.search(r'<tr data-account="USD".*?</tr>', page, re.S).group(0)
    assert 'data-amount="10.00"' in usd and "—" in usd  # no statement yet
    assert 'href="/ledger?company=X&amp;account=100201&amp;to=2026-11-30"' in page
    assert re.search(r'<tr data-other-account="1001".*?data-amount="30.00"', page, re.S)
    assert re.search(r'<tr data-total="CNY".*?data-amount="1030.00".*?data-amount="880.00"', page, re.S)


def test_the_cash_page_says_when_the_position_is_recovering_and_asks_again():
    answers = iter([503, 503])
    page, asked = cash_page(lambda: next(answers))
    assert len(asked) == 2  # a read is tried twice before the page says the service did not answer
    assert 'id="position-recovering"' in page and 'role="status"' in page and 'data-state="recovering"' in page
    assert 'hx-trigger="every 5s"' in page and 'hx-select="#live-position"' in page
    assert 'id="cash-position"' not in page and 'class="problem"' not in page  # a state, not an error


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
