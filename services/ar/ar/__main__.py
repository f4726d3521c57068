"""`finance-ar migrate | api | relay`."""

from fincore.cli import service_cli

from ar.bootstrap import MIGRATIONS, create_app
from ar.settings import ARSettings

cli = service_cli(name="ar", settings_factory=ARSettings, migrations_dir=MIGRATIONS, create_app=create_app)

if __name__ == "__main__":
    cli()
