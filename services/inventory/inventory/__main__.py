"""`finance-inventory migrate | api | relay`."""

from fincore.cli import service_cli

from inventory.bootstrap import MIGRATIONS, create_app
from inventory.settings import InventorySettings

cli = service_cli(name="inventory", settings_factory=InventorySettings, migrations_dir=MIGRATIONS,
                  create_app=create_app)

if __name__ == "__main__":
    cli()
