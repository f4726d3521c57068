"""The body of every service's Alembic env.py: one synchronous connection, one transaction."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool


def run_env() -> None:
    config = context.config
    if context.is_offline_mode():
        context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True,
                          dialect_opts={"paramstyle": "named"})
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.",
                                poolclass=pool.NullPool)
    with engine.connect() as connection:
        # render_as_batch lets ALTERs work on SQLite (the embedded database).
        context.configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite",
                          compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
