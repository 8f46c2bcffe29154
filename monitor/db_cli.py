"""``bhxh-monitor db``: schema upgrades."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import click

from monitor import db
from monitor.cli_common import database_option, open_database


@click.group("db")
def db_group() -> None:
    """Database schema: upgrade, current revision."""


@db_group.command("upgrade")
@database_option
def upgrade_command(database: str | None) -> None:
    """Create or upgrade the schema to the newest revision."""
    ctx = open_database(database, upgrade=False)
    db.upgrade(ctx.engine)
    click.echo(f"db: schema at revision {db.current_revision(ctx.engine)} ({ctx.engine.url.render_as_string()})")
    ctx.engine.dispose()


@db_group.command("current")
@database_option
def current_command(database: str | None) -> None:
    """Print the schema revision the database is at."""
    ctx = open_database(database, upgrade=False)
    click.echo(db.current_revision(ctx.engine) or "(empty database)")
    ctx.engine.dispose()


@db_group.command("copy")
@click.option("--from", "source_url", required=True, metavar="URL", help="Database to read (e.g. the SQLite file).")
@click.option("--to", "target_url", required=True, metavar="URL", help="Empty database to fill (e.g. PostgreSQL).")
def copy_command(source_url: str, target_url: str) -> None:
    """Copy every row into a new, empty database (e.g. SQLite to PostgreSQL)."""
    from monitor.db_copy import copy_database

    source, target = db.make_engine(source_url), db.make_engine(target_url)
    try:
        counts = copy_database(source, target, progress=lambda table, n: click.echo(f"db: {table}: {n} rows"))
    finally:
        source.dispose()
        target.dispose()
    click.echo(f"db: copied {sum(counts.values())} rows in {len(counts)} tables")


@db_group.command("backup")
@click.argument("destination", type=click.Path(dir_okay=False, path_type=Path))
@database_option
def backup_command(destination: Path, database: str | None) -> None:
    """Write a consistent copy of the SQLite database while the service runs (PostgreSQL: use pg_dump)."""
    ctx = open_database(database, upgrade=False)
    try:
        if not db.is_sqlite(ctx.engine):
            raise click.ClickException("db: backup copies SQLite files; for PostgreSQL use pg_dump (see README)")
        if destination.exists():
            raise click.ClickException(f"db: {destination} exists; choose a new file name")
        # sqlite3's online backup API copies page by page and is safe while others write (WAL).
        raw = ctx.engine.raw_connection()
        try:
            target = sqlite3.connect(destination)
            with target:
                raw.driver_connection.backup(target)
            target.close()
        finally:
            raw.close()
    finally:
        ctx.engine.dispose()
    click.echo(f"db: backup written to {destination} ({destination.stat().st_size} bytes)")
