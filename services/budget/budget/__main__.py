"""`finance-budget migrate | api | relay | consume | grpc | import`."""

from __future__ import annotations

import os
from pathlib import Path

import click
import httpx
from fincore.cli import service_cli
from tqdm import tqdm

from budget.bootstrap import MIGRATIONS, build_consumers, create_app
from budget.entrypoints.grpc_budget import register
from budget.settings import BudgetSettings

cli = service_cli(name="budget", settings_factory=BudgetSettings, migrations_dir=MIGRATIONS, create_app=create_app,
                  grpc_register=register, build_consumers=build_consumers)


@cli.command("import", help="Import budget lines from a CSV file into a draft version through the API "
                            "(header: cost_centre,budget_item,period,amount[,control_mode][,tolerance_pct]).")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--version-id", required=True, help="draft budget version to fill")
@click.option("--url", default=lambda: f"http://127.0.0.1:{BudgetSettings().http_port}", show_default="local API")
@click.option("--token", envvar="FINANCE_TOKEN", required=True, help="bearer token (or FINANCE_TOKEN)")
@click.option("--chunk", default=1000, show_default=True, help="lines per request")
@click.option("--approve", is_flag=True, help="approve the version once every line is in")
def import_csv(csv_file: Path, version_id: str, url: str, token: str, chunk: int, approve: bool) -> None:
    lines = csv_file.read_text(encoding="utf-8-sig").splitlines()
    header, rows = lines[0], [ln for ln in lines[1:] if ln.strip()]
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=120) as http, \
            tqdm(total=len(rows), unit="line", desc=csv_file.name, disable=os.environ.get("NO_PROGRESS") == "1") as bar:
        for start in range(0, len(rows), chunk):
            part = rows[start:start + chunk]
            r = http.post(f"/v1/budget-versions/{version_id}/lines.csv", content="\n".join([header, *part]),
                          headers={"Content-Type": "text/csv"})
            if r.status_code != 200:
                raise click.ClickException(f"lines {start + 2}-{start + len(part) + 1}: {r.status_code} {r.text}")
            bar.update(len(part))
        if approve:
            r = http.post(f"/v1/budget-versions/{version_id}/approve")
            if r.status_code != 200:
                raise click.ClickException(f"approve: {r.status_code} {r.text}")
    click.echo(f"imported {len(rows)} line(s) into {version_id}{' and approved it' if approve else ''}")


if __name__ == "__main__":
    cli()
