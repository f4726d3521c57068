"""The 13-week forecast pages over a stand-in of cash management's API (its answers' shapes):
the weekly buckets per currency with forecast vs actual, a bucket's documents, making a new
forecast from the page, and the link from the cash page; in English and Chinese."""

import re

import httpx
from cockpit.adapters.apis import Apis
from cockpit.bootstrap import create_app
from cockpit.settings import CockpitSettings
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

EMPTY = {"inflows": {}, "outflows": {}, "inflow": "0.00", "outflow": "0.00", "net": "0.00", "documents": 0,
         "actual": None}


def weeks() -> list[dict]:
    out = []
    for i in range(13):
        w = {**EMPTY, "week": i + 1, "start": f"2027-01-{4 + 7 * i:02d}" if i < 4 else "2027-02-01",
             "end": "2027-01-10", "closing": "-174.00"}
        out.append(w)
    out[0].update(inflows={"receivables": "226.00"}, outflows={"payables": "-500.00"}, net="-274.00", documents=2,
                  actual={"inflow": "40.00", "outflow": "-15.00", "net": "25.00", "variance": "299.00"})
    return out


FORECAST = {"id": "fc-1", "company": "DEMO", "as_of": "2027-01-06", "first_week": "2027-01-04", "created_by": "ana",
            "created_at": "2027-01-06T09:00:00+00:00", "days_late": {"K1": 3},
            "currencies": [{"currency": "CNY", "opening": "100.00", "beyond": "113.00", "beyond_documents": 1,
                            "weeks": weeks()}]}


def stand_in(made: list) -> FastAPI:
    app = FastAPI()

    @app.get("/v1/cash-forecasts")
    async def kept(company: str, limit: int):
        return [{k: FORECAST[k] for k in ("id", "company", "as_of", "first_week", "created_by", "created_at")}]

    @app.get("/v1/cash-forecasts/{fid}")
    async def one(fid: str, company: str):
        assert (fid, company) == ("fc-1", "DEMO")
        return FORECAST

    @app.get("/v1/cash-forecasts/{fid}/documents")
    async def documents(fid: str, company: str, currency: str, week: str, source: str = ""):
        docs = [{"week": 1, "source": "receivables", "currency": "CNY", "expected_on": "2026-12-31",
                 "amount": "226.00", "document_kind": "ar_invoice", "document_id": "i2", "number": "INV-2",
                 "party": "K2", "basis": "due 2026-12-31; K2 pays on the due date"},
                {"week": 1, "source": "payables", "currency": "CNY", "expected_on": "2027-01-04",
                 "amount": "-500.00", "document_kind": "ap_invoice", "document_id": "e2", "number": "AP-2",
                 "party": "S2", "basis": "due date"}]
        return {**{k: FORECAST[k] for k in ("id", "company", "as_of")}, "currency": currency, "week": week,
                "source": source or None, "documents": [d for d in docs if not source or d["source"] == source]}

    @app.post("/v1/cash-forecasts")
    async def make(request: Request):
        made.append(await request.json())
        return FORECAST

    return app


def signed_in(made: list) -> TestClient:
    settings = CockpitSettings(live=False, dev_signin=True)
    apis = Apis(settings, transport=httpx.ASGITransport(app=stand_in(made)))
    c = TestClient(create_app(settings, apis=apis), follow_redirects=False)
    form = c.get("/login", headers={"accept": "text/html"}).text
    c.post("/login/dev", data={"csrf": re.search(r'name="csrf" value="([^"]+)"', form).group(1), "next": "/"})
    return c


def test_weekly_buckets_with_actuals_drill_to_documents():
    c = signed_in([])
    page = c.get("/cash/forecast?company=DEMO", headers={"accept": "text/html"}).text
    assert 'id="forecast-CNY"' in page and "13-week cash forecast" in page
    row = page[page.index("<tbody>"):page.index("</tr>", page.index("<tbody>"))]
    assert [a for a in re.findall(r'data-amount="([^"]*)"', row)] == ["226.00", "-500.00", "-274.00", "-174.00",
                                                                     "25.00", "299.00"]
    assert "not yet known" in page and "113.00" in page and 'id="days-late"' in page
    link = re.search(r'href="(/cash/forecast/documents\?[^"]*source=receivables[^"]*)"', page).group(1)
    docs = c.get(link.replace("&amp;", "&"), headers={"accept": "text/html"}).text
    assert "INV-2" in docs and "AP-2" not in docs and "K2 pays on the due date" in docs
    whole = c.get("/cash/forecast/documents?company=DEMO&id=fc-1&currency=CNY&week=1",
                  headers={"accept": "text/html"}).text
    assert "INV-2" in whole and "AP-2" in whole and 'data-amount="-274.00"' in whole  # the bucket's total
    zh = c.get("/cash/forecast?company=DEMO", headers={"accept": "text/html", "accept-language": "zh-CN"}).text
    assert "13周现金流预测" in zh and "尚未知" in zh


def test_a_forecast_is_made_from_the_page_with_its_form_token():
    made: list = []
    c = signed_in(made)
    page = c.get("/cash/forecast?company=DEMO", headers={"accept": "text/html"}).text
    csrf = re.search(r'id="make-forecast".*?name="csrf" value="([^"]+)"', page, re.S).group(1)
    r = c.post("/cash/forecast", data={"csrf": csrf, "company": "DEMO", "as_of": "2027-01-06"})
    assert r.status_code == 303 and r.headers["location"] == "/cash/forecast?company=DEMO&id=fc-1"
    assert made == [{"company_id": "DEMO", "as_of": "2027-01-06"}]
    assert c.post("/cash/forecast", data={"csrf": "forged", "company": "DEMO", "as_of": "2027-01-06"}
                  ).status_code == 403 and len(made) == 1
