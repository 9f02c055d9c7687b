"""What every ``tocsin`` command shares: settings, refusals and a clean exit.

Exit codes: 0 done, 1 the operation failed (unknown event, Temporal unreachable),
2 the input was refused.
"""

import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError
from sqlmodel import Session

from definitions.validation import describe_validation_error
from store.database import Store
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


def read_store(settings: Settings, read: Callable[[Session], Read]) -> Read:
    """One read of the database, its schema brought up to date first."""
    store = Store(settings.database_url)
    try:
        store.upgrade()
        with store.session() as session:
            return read(session)
    finally:
        store.dispose()


def write_store(settings: Settings, write: Callable[[Session], Read]) -> Read:
    """One transaction on the database, committed when ``write`` returns."""
    store = Store(settings.database_url)
    try:
        store.upgrade()
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
    (sdk-python issue 300): the exit code must be the command's own."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
