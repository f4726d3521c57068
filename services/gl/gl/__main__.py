"""`finance-gl migrate | api | relay | consume | awaiting | legacy-open-items`."""

from __future__ import annotations

import json

import click
import httpx
from fincore.cli import service_cli

from gl.bootstrap import MIGRATIONS, build_consumers, create_app
from gl.entrypoints.metrics import samplers
from gl.settings import GLSettings

cli = service_cli(name="gl", settings_factory=GLSettings, migrations_dir=MIGRATIONS, create_app=create_app,
                  build_consumers=build_consumers, samplers=samplers)

url_option = click.option("--url", default=lambda: f"http://127.0.0.1:{GLSettings().http_port}",
                          show_default="local API")
token_option = click.option("--token", envvar="FINANCE_TOKEN", required=True,
                            help="bearer token (or FINANCE_TOKEN); ops:admin for `awaiting`, gl:admin otherwise")


def _call(url: str, token: str, method: str, path: str, **kw) -> object:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
        r = http.request(method, path, **kw)
    if r.status_code >= 400:
        raise click.ClickException(f"{r.status_code} {r.text}")
    return r.json()


@cli.group(help="Settlements parked awaiting the document they settle (through the API, scope ops:admin).")
def awaiting() -> None:
    pass


@awaiting.command("list", help="What waits, oldest first, with its age.")
@click.option("--company", default=None)
@url_option
@token_option
def awaiting_list(company: str | None, url: str, token: str) -> None:
    rows = _call(url, token, "GET", "/v1/admin/awaiting-documents", params={"company": company} if company else {})
    for x in rows:
        click.echo(f"{x['event_id']}  {x['company']}  {x['document']}  awaits {x['awaiting']}  "
                   f"{x['age_seconds'] // 3600}h{x['age_seconds'] % 3600 // 60:02d}m")
    click.echo(f"{len(rows)} settlement(s) awaiting a document")


@awaiting.command("decide", help="Post one at the payment-date rate, or send it to the dead letters (audited).")
@click.argument("event_id")
@click.option("--post", "action", flag_value="post", help="post it now, valued at the payment-date rate")
@click.option("--dead-letter", "action", flag_value="dead-letter", help="send it to the posting dead letters")
@click.option("--reason", required=True)
@url_option
@token_option
def awaiting_decide(event_id: str, action: str | None, reason: str, url: str, token: str) -> None:
    if action is None:
        raise click.UsageError("give --post or --dead-letter")
    click.echo(json.dumps(_call(url, token, "POST", f"/v1/admin/awaiting-documents/{event_id}/decide",
                                json={"action": action, "reason": reason},
                                headers={"Idempotency-Key": f"awaiting-{event_id}-{action}"}), indent=2))


@cli.command("legacy-open-items", help="Derive the open items of documents booked before open items were tracked "
                                       "from their posted journals (idempotent).")
@click.argument("company")
@url_option
@token_option
def legacy_open_items(company: str, url: str, token: str) -> None:
    click.echo(json.dumps(_call(url, token, "POST", f"/v1/companies/{company}/legacy-open-items"), indent=2))


if __name__ == "__main__":
    cli()
