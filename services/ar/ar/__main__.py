"""`finance-ar migrate | api | relay | consume | grpc`."""

from fincore.cli import service_cli

from ar.bootstrap import MIGRATIONS, build_consumers, create_app
from ar.entrypoints.grpc_credit import register
from ar.settings import ARSettings

cli = service_cli(name="ar", settings_factory=ARSettings, migrations_dir=MIGRATIONS, create_app=create_app,
                  grpc_register=register, build_consumers=build_consumers)

if __name__ == "__main__":
    cli()
