"""Engine creation and schema upgrades (Alembic) for SQLite and PostgreSQL."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, create_engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 0x70C5_1E
"""PostgreSQL advisory lock held while the schema is upgraded."""


def _prepare_sqlite(url: str) -> dict[str, Any]:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    return {"check_same_thread": False, "timeout": 30}


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    """WAL with NORMAL sync: commits do not wait for the disk (a power cut may lose
    the last ones, never corrupt the file), so that writers hold the lock briefly;
    the outbox's reconciliation with the provider covers a lost ``sent`` mark."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def create_database_engine(url: str) -> Engine:
    is_sqlite = make_url(url).get_backend_name() == "sqlite"
    engine = create_engine(
        url,
        connect_args=_prepare_sqlite(url) if is_sqlite else {},
        pool_pre_ping=not is_sqlite,
    )
    if is_sqlite:
        event.listen(engine, "connect", _on_sqlite_connect)
    return engine


class SchemaChange(NamedTuple):
    """The migration revisions before and after an upgrade (None: empty database)."""

    before: str | None
    after: str | None


def upgrade_schema(engine: Engine) -> SchemaChange:
    """Bring the schema to the newest migration; a no-op when it is there. On
    PostgreSQL, replicas started together take turns: the first upgrades, the
    others then find nothing to do (SQLite serialises writers itself)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        before = MigrationContext.configure(connection).get_current_revision()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        return SchemaChange(before, MigrationContext.configure(connection).get_current_revision())


class Store:
    """The database as the rest of Tocsin sees it: an engine and its sessions."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_database_engine(url)

    def upgrade(self) -> SchemaChange:
        return upgrade_schema(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
