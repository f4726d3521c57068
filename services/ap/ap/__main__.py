"""`finance-ap migrate | api | relay | consume`."""

from fincore.cli import service_cli

from ap.bootstrap import MIGRATIONS, build_consumers, create_app
from ap.settings import APSettings

cli = service_cli(name="ap", settings_factory=APSettings, migrations_dir=MIGRATIONS, create_app=create_app,
                  build_consumers=build_consumers)

if __name__ == "__main__":
    cli()
