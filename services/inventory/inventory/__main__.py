"""`finance-inventory migrate | api | relay | consume`."""

from fincore.cli import service_cli

from inventory.bootstrap import MIGRATIONS, build_consumers, create_app
from inventory.settings import InventorySettings

cli = service_cli(name="inventory", settings_factory=InventorySettings, migrations_dir=MIGRATIONS,
                  create_app=create_app, build_consumers=build_consumers)

if __name__ == "__main__":
    cli()
