"""Alembic environment: runs migrations on the connection handed over by ``monitor.db.upgrade``
(or on ``sqlalchemy.url`` when called from the alembic command line)."""

from alembic import context
from sqlalchemy import engine_from_config, pool

from monitor.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite")
        context.run_migrations()
        return
    engine = engine_from_config(config.get_section(config.config_ini_section, {}),
                                prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=target_metadata,
                          render_as_batch=conn.dialect.name == "sqlite")
        context.run_migrations()


run_migrations_online()
