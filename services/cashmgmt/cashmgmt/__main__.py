"""`finance-cashmgmt migrate | api | relay | consume | import FILE`."""

from __future__ import annotations

import os
from pathlib import Path

import click
import httpx
from fincore.cli import service_cli
from tqdm import tqdm

from cashmgmt.bootstrap import MIGRATIONS, build_consumers, create_app
from cashmgmt.settings import CashmgmtSettings

cli = service_cli(name="cashmgmt", settings_factory=CashmgmtSettings, migrations_dir=MIGRATIONS,
                  create_app=create_app, build_consumers=build_consumers)


@cli.command("position", help="Run the live cash position (a faust-streaming worker over the GL's and cash "
                                "management's events; its tables are a cache recovered from their changelogs).")
def position_cmd() -> None:
    from cashmgmt.entrypoints.position_stream import run_position_worker

    run_position_worker(CashmgmtSettings())


@cli.command("import", help="Import a bank statement file (camt.053, MT940 or CSV) through the API, "
                            "with a progress bar while it is sent.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--company", required=True)
@click.option("--format", "fmt", type=click.Choice(["auto", "camt053", "mt940", "csv"]), default="auto",
              show_default=True)
@click.option("--bank-account", default="", help="the account's code (needed for CSV)")
@click.option("--statement-id", default="", help="CSV: the statement's id")
@click.option("--opening-balance", default=None, help="CSV: unless the mapping has a balance column")
@click.option("--closing-balance", default=None, help="CSV: unless the mapping has a balance column")
@click.option("--url", default=lambda: f"http://127.0.0.1:{CashmgmtSettings().http_port}", show_default="local API")
@click.option("--token", envvar="FINANCE_TOKEN", required=True, help="bearer token (or FINANCE_TOKEN)")
def import_file(file: Path, company: str, fmt: str, bank_account: str, statement_id: str,
                opening_balance: str | None, closing_balance: str | None, url: str, token: str) -> None:
    data = file.read_bytes()
    params = {"company": company, "format": fmt, "file_name": file.name}
    for k, v in (("bank_account", bank_account), ("statement_id", statement_id),
                 ("opening_balance", opening_balance), ("closing_balance", closing_balance)):
        if v:
            params[k] = v
    chunk = 64 * 1024
    bar = tqdm(total=len(data), unit="B", unit_scale=True, desc=f"sending {file.name}",
               disable=os.environ.get("NO_PROGRESS") == "1")

    def body():
        for i in range(0, len(data), chunk):
            part = data[i:i + chunk]
            bar.update(len(part))
            yield part

    with bar, httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=600) as http:
        r = http.post("/v1/statements", params=params, content=body(),
                      headers={"Content-Type": "application/octet-stream", "Content-Length": str(len(data))})
    if r.status_code != 201:
        raise click.ClickException(f"{r.status_code} {r.text}")
    for st in r.json()["statements"]:
        click.echo(f"imported statement {st['statement_id']} of {st['bank_account']}: {st['lines']} line(s), "
                   f"{st['opening_balance']} -> {st['closing_balance']} {st['currency']}")


if __name__ == "__main__":
    cli()
