"""The operations page's consumer lag: from Prometheus when one is configured (Kubernetes, where
a consumer runs as several pods), else from the consumers' own /metrics."""

import httpx
from cockpit import service as svc
from cockpit.adapters.apis import Apis
from cockpit.settings import CockpitSettings
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse


def stand_in() -> FastAPI:
    app = FastAPI()
    app.state.queries = []

    @app.get("/api/v1/query")
    async def query(query: str):
        app.state.queries.append(query)
        return {"status": "success", "data": {"resultType": "vector", "result": [
            {"metric": {"consumer": "gl-posting", "topic": "finance.ar.events.v1"}, "value": [1764680000.0, "42"]},
            {"metric": {"consumer": "ar-bank-receipts", "topic": "finance.cashmgmt.events.v1"},
             "value": [1764680000.0, "0"]}]}}

    @app.get("/metrics")
    async def metrics():
        return PlainTextResponse(
            "# HELP kafka_consumer_lag_messages Records not yet handled\n"
            "# TYPE kafka_consumer_lag_messages gauge\n"
            'kafka_consumer_lag_messages{consumer="gl-posting",partition="0",topic="finance.ar.events.v1"} 7.0\n'
            'events_consumed_total{consumer="gl-posting"} 100.0\n')

    return app


async def test_lag_summed_over_replicas_by_prometheus():
    app = stand_in()
    apis = Apis(CockpitSettings(live=False), transport=httpx.ASGITransport(app=app))
    try:
        rows = await svc.prometheus_lag(apis, "http://prometheus.monitoring:9090")
    finally:
        await apis.close()
    assert app.state.queries == [svc.PROMETHEUS_LAG_QUERY]
    assert rows == [
        {"process": "ar-bank-receipts", "metric": 'kafka_consumer_lag_messages{topic="finance.cashmgmt.events.v1"}',
         "value": "0"},
        {"process": "gl-posting", "metric": 'kafka_consumer_lag_messages{topic="finance.ar.events.v1"}', "value": "42"},
    ]


async def test_lag_from_the_consumers_metrics_without_prometheus():
    apis = Apis(CockpitSettings(live=False), transport=httpx.ASGITransport(app=stand_in()))
    try:
        rows = await svc.consumer_lag(apis, {"gl-consume": "http://gl-consume:9464"})
    finally:
        await apis.close()
    assert rows == [{"process": "gl-consume", "value": "7.0", "metric":
                     'kafka_consumer_lag_messages{consumer="gl-posting",partition="0",topic="finance.ar.events.v1"}'}]


async def test_an_unreachable_prometheus_is_said_on_the_page_not_a_500():
    def refuse(request):
        raise httpx.ConnectError("connection refused")

    apis = Apis(CockpitSettings(live=False), transport=httpx.MockTransport(refuse))
    try:
        rows = await svc.prometheus_lag(apis, "http://prometheus:9090")
    finally:
        await apis.close()
    assert rows[0]["process"] == "prometheus" and "connection refused" in rows[0]["error"]
