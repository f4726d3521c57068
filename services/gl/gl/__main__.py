"""`finance-gl migrate | api | relay | consume`."""

from fincore.cli import service_cli

from gl.bootstrap import MIGRATIONS, build_consumers, create_app
from gl.entrypoints.metrics import samplers
from gl.settings import GLSettings

cli = service_cli(name="gl", settings_factory=GLSettings, migrations_dir=MIGRATIONS, create_app=create_app,
                  build_consumers=build_consumers, samplers=samplers)

if __name__ == "__main__":
    cli()
