"""full-text search over items, review-queue index

SQLite: an FTS5 table ``items_fts`` over ``items.search_text`` (external content, kept in sync by
triggers). PostgreSQL: a GIN index on ``to_tsvector('simple', search_text)``. ``search_text`` is
already accent-folded (classifiers.text.fold), so queries fold too: "bao hiem" finds "bảo hiểm".

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Names that tests/test_storage.py leaves out of the models/migrations comparison.
FTS_OBJECTS = ("items_fts", "ix_items_search_tsv")

_SQLITE_UP = [
    "CREATE VIRTUAL TABLE items_fts USING fts5(search_text, content='items', content_rowid='id',"
    " tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER items_fts_ai AFTER INSERT ON items BEGIN"
    " INSERT INTO items_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER items_fts_ad AFTER DELETE ON items BEGIN"
    " INSERT INTO items_fts(items_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER items_fts_au AFTER UPDATE OF search_text ON items BEGIN"
    " INSERT INTO items_fts(items_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);"
    " INSERT INTO items_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "INSERT INTO items_fts(items_fts) VALUES ('rebuild')",
]
_SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS items_fts_au",
    "DROP TRIGGER IF EXISTS items_fts_ad",
    "DROP TRIGGER IF EXISTS items_fts_ai",
    "DROP TABLE IF EXISTS items_fts",
]


def upgrade() -> None:
    op.create_index("ix_classifications_uncertainty", "classifications", ["uncertainty"], unique=False)
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in _SQLITE_UP:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute("CREATE INDEX ix_items_search_tsv ON items USING gin (to_tsvector('simple', search_text))")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in _SQLITE_DOWN:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_items_search_tsv")
    op.drop_index("ix_classifications_uncertainty", table_name="classifications")
