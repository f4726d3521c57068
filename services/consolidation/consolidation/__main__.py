"""`finance-consolidation migrate | api | relay | consume`."""

from __future__ import annotations

from fincore.cli import service_cli

from consolidation.bootstrap import MIGRATIONS, build_consumers, create_app
from consolidation.settings import ConsolidationSettings

cli = service_cli(name="consolidation", settings_factory=ConsolidationSettings, migrations_dir=MIGRATIONS,
                  create_app=create_app, build_consumers=build_consumers)

if __name__ == "__main__":
    cli()
