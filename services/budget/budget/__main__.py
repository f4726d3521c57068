"""`finance-budget migrate | api | relay | consume | grpc | import`."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import click
import httpx
from fincore.cli import service_cli
from tqdm import tqdm

from budget.bootstrap import MIGRATIONS, build_consumers, create_app
from budget.entrypoints.grpc_budget import register
from budget.entrypoints.http import MAX_LINES
from budget.settings import BudgetSettings

cli = service_cli(name="budget", settings_factory=BudgetSettings, migrations_dir=MIGRATIONS, create_app=create_app,
                  grpc_register=register, build_consumers=build_consumers)


def csv_chunks(text: str, size: int) -> tuple[int, list[str]]:
    """(number of lines, the CSV cut into bodies of at most `size` lines, each with the header).
    Read and written with `csv`, so a quoted field holding a comma or a newline stays one field."""
    records = [r for r in csv.reader(io.StringIO(text, newline="")) if any(f.strip() for f in r)]
    if not records:
        raise click.ClickException("the CSV file is empty")
    header, rows = records[0], records[1:]
    bodies = []
    for start in range(0, len(rows), size):
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows([header, *rows[start:start + size]])
        bodies.append(out.getvalue())
    return len(rows), bodies


@cli.command("import", help="Import budget lines from a CSV file into a draft version through the API "
                            "(header: cost_centre,budget_item,period,amount[,control_mode][,tolerance_pct]).")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--version-id", required=True, help="draft budget version to fill")
@click.option("--url", default=lambda: f"http://127.0.0.1:{BudgetSettings().http_port}", show_default="local API")
@click.option("--token", envvar="FINANCE_TOKEN", required=True, help="bearer token (or FINANCE_TOKEN)")
@click.option("--chunk", default=1000, show_default=True, type=click.IntRange(1, MAX_LINES),
              help=f"lines per request (at most {MAX_LINES}, the API's limit)")
@click.option("--approve", is_flag=True, help="approve the version once every line is in")
def import_csv(csv_file: Path, version_id: str, url: str, token: str, chunk: int, approve: bool) -> None:
    try:
        n, bodies = csv_chunks(csv_file.read_text(encoding="utf-8-sig"), chunk)
    except csv.Error as exc:
        raise click.ClickException(f"{csv_file}: {exc}") from exc
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=120) as http, \
            tqdm(total=n, unit="line", desc=csv_file.name, disable=os.environ.get("NO_PROGRESS") == "1") as bar:
        for i, body in enumerate(bodies):
            part = min(chunk, n - i * chunk)
            r = http.post(f"/v1/budget-versions/{version_id}/lines.csv", content=body.encode(),
                          headers={"Content-Type": "text/csv"})
            if r.status_code != 200:
                raise click.ClickException(f"lines {i * chunk + 1}-{i * chunk + part}: {r.status_code} {r.text}")
            bar.update(part)
        if approve:
            r = http.post(f"/v1/budget-versions/{version_id}/approve")
            if r.status_code != 200:
                raise click.ClickException(f"approve: {r.status_code} {r.text}")
    click.echo(f"imported {n} line(s) into {version_id}{' and approved it' if approve else ''}")


if __name__ == "__main__":
    cli()
