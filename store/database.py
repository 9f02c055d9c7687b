"""Engine creation and schema upgrades (Alembic) for SQLite and PostgreSQL."""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
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


class SchemaMismatchError(RuntimeError):
    """The database's schema is not the one this version of Tocsin reads and writes:
    behind it (``tocsin migrate`` brings it there), or written by a newer version."""

    def __init__(self, current: str | None, expected: str, *, known: bool) -> None:
        if known:
            message = (
                f"Le schéma de la base n'est pas à jour (révision {current or 'aucune'}, "
                f"attendue {expected}) : lancez `tocsin migrate`."
            )
        else:
            message = (
                f"La base est à la révision {current}, inconnue de cette version de Tocsin "
                f"(la plus récente qu'elle connaisse : {expected}) : mettez Tocsin à jour."
            )
        super().__init__(message)
        self.current = current
        self.expected = expected


def _migrations() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


@cache
def _revisions() -> tuple[str, frozenset[str]]:
    """The newest migration of this version, and every one it knows."""
    script = ScriptDirectory.from_config(_migrations())
    head = script.get_current_head()
    assert head is not None, "no migration"
    return head, frozenset(revision.revision for revision in script.walk_revisions())


def _refuse_unknown(current: str | None) -> None:
    head, known = _revisions()
    if current is not None and current not in known:
        raise SchemaMismatchError(current, head, known=False)


def check_schema(engine: Engine) -> None:
    """Raises SchemaMismatchError unless the schema is at this version's newest
    migration. Reads only: no lock taken, nothing written."""
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    _refuse_unknown(current)
    head, _ = _revisions()
    if current != head:
        raise SchemaMismatchError(current, head, known=True)


class SchemaChange(NamedTuple):
    """The migration revisions before and after an upgrade (None: empty database)."""

    before: str | None
    after: str | None


def upgrade_schema(engine: Engine) -> SchemaChange:
    """Bring the schema to the newest migration; a no-op when it is there. On
    PostgreSQL, replicas started together take turns: the first upgrades, the
    others then find nothing to do (SQLite serialises writers itself). A schema
    written by a newer version raises SchemaMismatchError."""
    config = _migrations()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        before = MigrationContext.configure(connection).get_current_revision()
        _refuse_unknown(before)
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

    def check_schema(self) -> None:
        check_schema(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
