"""What every ``tocsin`` command shares: settings, the database, refusals and a
clean exit.

Exit codes: 0 done, 1 the operation failed (unknown event, Temporal unreachable,
a database schema not at this version's revision), 2 the input was refused.

Only ``tocsin migrate``, the worker, the gateway and ``tocsin dev`` upgrade the
schema; every other command checks it and changes nothing when it is not current
(an upgrade takes PostgreSQL's migration lock, and a command older than the
database cannot upgrade it).
"""

import contextlib
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError
from sqlmodel import Session

from definitions.validation import describe_validation_error
from store.database import SchemaMismatchError, Store
from worker.logging import configure_logging
from worker.settings import Settings

EXIT_FAILED = 1
EXIT_REFUSED = 2


def load_settings(**overrides: object) -> Settings:
    """Environment first, then the command's flags (those given)."""
    given: dict[str, Any] = {key: value for key, value in overrides.items() if value is not None}
    try:
        settings = Settings(**given)
    except ValidationError as error:
        refuse("Configuration refusée :", describe_validation_error(error))
    configure_logging(settings.log_format, settings.log_level)
    return settings


Read = TypeVar("Read")


def open_store(settings: Settings) -> Store:
    """The database, once its schema is found at this version's revision; raises
    SchemaMismatchError otherwise."""
    store = Store(settings.database_url)
    try:
        store.check_schema()
    except BaseException:
        store.dispose()
        raise
    return store


def checked_store(settings: Settings) -> Store:
    """``open_store`` for a command that does not talk to Temporal: a schema not
    current ends it, with what to do."""
    try:
        return open_store(settings)
    except SchemaMismatchError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(EXIT_FAILED) from error


def read_store(settings: Settings, read: Callable[[Session], Read]) -> Read:
    """One read of the database."""
    store = checked_store(settings)
    try:
        with store.session() as session:
            return read(session)
    finally:
        store.dispose()


def write_store(settings: Settings, write: Callable[[Session], Read]) -> Read:
    """One transaction on the database, committed when ``write`` returns."""
    store = checked_store(settings)
    try:
        with store.session() as session:
            written = write(session)
            session.commit()
            return written
    finally:
        store.dispose()


def explain(headline: str, problems: list[str]) -> None:
    typer.echo(headline, err=True)
    for problem in problems:
        typer.echo(f"  - {problem}", err=True)


def refuse(headline: str, problems: list[str]) -> NoReturn:
    explain(headline, problems)
    raise typer.Exit(EXIT_REFUSED)


def finish(code: int) -> NoReturn:
    """Leave without interpreter teardown, which the Temporal SDK can abort
    (sdk-python issue 300): the exit code must be the command's own, whatever
    became of the terminal (a flush to a closed pipe raises)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)
