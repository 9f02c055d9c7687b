"""What every ``tocsin`` command shares: settings, refusals and a clean exit.

Exit codes: 0 done, 1 the operation failed (unknown event, Temporal unreachable),
2 the input was refused.
"""

import os
import sys
from typing import NoReturn

import typer
from pydantic import ValidationError

from definitions.validation import describe_validation_error
from worker.logging import configure_logging
from worker.settings import Settings

EXIT_FAILED = 1
EXIT_REFUSED = 2


def load_settings(**overrides: object) -> Settings:
    """Environment first, then the command's flags (those given)."""
    try:
        settings = Settings(**{key: value for key, value in overrides.items() if value is not None})
    except ValidationError as error:
        refuse("Configuration refusée :", describe_validation_error(error))
    configure_logging(settings.log_format, settings.log_level)
    return settings


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
