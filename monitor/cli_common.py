"""Options and helpers shared by every subcommand: ``--database``, ``--feeds``, opening the database."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import click
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from monitor import db
from monitor.config import FeedsConfig, load_feeds
from monitor.settings import Settings, load_settings

database_option = click.option(
    "--database", "database", metavar="URL", default=None,
    help="Database URL (default: BHXH_DATABASE_URL, else a SQLite file in the data directory).",
)
feeds_option = click.option(
    "--feeds", "feeds", metavar="FILE", type=click.Path(path_type=Path), default=None,
    help="feeds.yaml to use (default: BHXH_FEEDS, else the repository's feeds.yaml).",
)


@dataclass
class Context:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]


def open_database(database: str | None, *, upgrade: bool = True, settings: Settings | None = None) -> Context:
    """Connect (and by default bring the schema up to date: the service upgrades on start)."""
    settings = settings or load_settings(database_url=database)
    if database:
        settings.database_url = database
    engine = db.make_engine(settings.resolved_database_url())
    if upgrade:
        db.upgrade(engine)
    return Context(settings, engine, db.session_factory(engine))


def load_feeds_option(feeds: Path | None) -> FeedsConfig:
    settings = load_settings()
    return load_feeds(feeds or settings.feeds)


def with_database(func):
    """Decorator: adds ``--database`` and passes an open ``Context`` as ``ctx``."""

    @database_option
    @functools.wraps(func)
    def wrapper(*args, database=None, **kwargs):
        ctx = open_database(database)
        try:
            return func(*args, ctx=ctx, **kwargs)
        finally:
            ctx.engine.dispose()

    return wrapper
