"""finance-verify: check the suite's invariants on a running system, through its public APIs
and topics only. Prints a report; exits 1 on any breach, 2 if it could not read.

    finance-verify                                  # every company the token grants, make run's ports
    finance-verify --company DEMO --only I1,I4 --token "$TOKEN"
    finance-verify --gl-url http://gl:8001 --kafka kafka:9092 ...

The token (--token or FINANCE_TOKEN) needs the read scopes: gl:read, ar:read, ap:read,
inventory:read, budget:read, for the companies to check. Without --kafka (or
KAFKA_BOOTSTRAP_SERVERS) I2 and I5 are not run, and the report says so."""

from __future__ import annotations

import os
import sys

import click

from finverify.checks import INVARIANTS
from finverify.read import Api, ApiError, Endpoints
from finverify.verify import verify


def _url(port_env: str, default: int) -> str:
    return f"http://127.0.0.1:{os.environ.get(port_env, default)}"


@click.command(help=__doc__)
@click.option("--company", "companies", multiple=True, help="company id (repeatable); default: all granted")
@click.option("--only", default=",".join(INVARIANTS), show_default=True, help="invariants to check")
@click.option("--token", envvar="FINANCE_TOKEN", required=True, help="bearer token (env FINANCE_TOKEN)")
@click.option("--kafka", envvar="KAFKA_BOOTSTRAP_SERVERS", default=None, help="bootstrap servers (I2, I5)")
@click.option("--gl-url", default=lambda: _url("GL_HTTP_PORT", 8001), show_default="127.0.0.1:8001")
@click.option("--ar-url", default=lambda: _url("AR_HTTP_PORT", 8002), show_default="127.0.0.1:8002")
@click.option("--ap-url", default=lambda: _url("AP_HTTP_PORT", 8003), show_default="127.0.0.1:8003")
@click.option("--inventory-url", default=lambda: _url("INVENTORY_HTTP_PORT", 8004), show_default="127.0.0.1:8004")
@click.option("--budget-url", default=lambda: _url("BUDGET_HTTP_PORT", 8006), show_default="127.0.0.1:8006")
@click.option("--cashmgmt-url", default=lambda: _url("CASHMGMT_HTTP_PORT", 8005), show_default="127.0.0.1:8005")
@click.option("--skip", multiple=True, type=click.Choice(["ar", "ap", "inventory", "budget", "cashmgmt"]),
              help="a sub-ledger service not to read (not running)")
@click.option("--group", "groups", multiple=True, help="consumer group for I5 (repeatable); default: every group")
@click.option("--settle", default=30.0, show_default=True, help="seconds to re-read while breaches may be in flight")
@click.option("--lag-timeout", default=120.0, show_default=True, help="seconds to wait for consumer lag to drain")
def main(companies, only, token, kafka, gl_url, ar_url, ap_url, inventory_url, budget_url, cashmgmt_url, skip, groups,
         settle, lag_timeout) -> None:
    wanted = [x.strip() for x in only.split(",") if x.strip()]
    if bad := [x for x in wanted if x not in INVARIANTS]:
        raise click.BadParameter(f"unknown invariant(s) {bad}; known: {', '.join(INVARIANTS)}")
    urls = Endpoints(gl=gl_url, ar=None if "ar" in skip else ar_url, ap=None if "ap" in skip else ap_url,
                     inventory=None if "inventory" in skip else inventory_url,
                     budget=None if "budget" in skip else budget_url,
                     cashmgmt=None if "cashmgmt" in skip else cashmgmt_url)
    api = Api(urls, token)
    try:
        res = verify(api, companies or None, bootstrap=kafka, only=wanted, groups=groups or None,
                     settle_s=settle, lag_timeout_s=lag_timeout)
    except (ApiError, OSError) as exc:
        click.echo(f"finance-verify: could not read: {exc}", err=True)
        sys.exit(2)
    finally:
        api.close()
    click.echo(res.report())
    sys.exit(0 if res.ok else 1)


if __name__ == "__main__":
    main()
