"""Copy every row from one database to another (e.g. SQLite → PostgreSQL when outgrowing one file).

The target is upgraded to the same schema first and must be empty. Tables are copied parents first
(foreign-key order) in batches; PostgreSQL sequences are then moved past the copied ids.
"""

from __future__ import annotations

from typing import Callable

from sqlalchemy import Engine, func, select, text

from monitor import db
from monitor.errors import MonitorError
from monitor.models import Base

BATCH = 2000


def copy_database(source: Engine, target: Engine, *, progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
    if db.current_revision(source) != db.current_revision(target):
        db.upgrade(source)
    db.upgrade(target)
    counts: dict[str, int] = {}
    tables = Base.metadata.sorted_tables
    with target.connect() as check:
        for table in tables:
            if check.scalar(select(func.count()).select_from(table)):
                raise MonitorError(f"db_copy: target table {table.name!r} is not empty; copy into a new database")
    with source.connect() as src, target.begin() as dst:
        for table in tables:
            # In id order, rows that point into their own table (items.near_duplicate_of_id,
            # tickets.previous_ticket_id) always arrive after the earlier row they point to.
            copied = 0
            order = list(table.primary_key.columns)
            result = src.execution_options(yield_per=BATCH).execute(select(table).order_by(*order))
            for rows in result.mappings().partitions(BATCH):
                dst.execute(table.insert(), [dict(row) for row in rows])
                copied += len(rows)
            counts[table.name] = copied
            if progress:
                progress(table.name, copied)
        if target.dialect.name == "postgresql":
            for table in tables:
                if "id" in table.c and table.c.id.primary_key:
                    dst.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"))
    return counts
