"""Running a ``tocsin`` command that talks to Temporal: connection errors, unknown
events and refusals become one French line and an exit code."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from temporalio.client import Client

from cli.common import EXIT_FAILED, EXIT_REFUSED, explain, finish, open_store
from operations import committee_control, event_control
from store.database import SchemaMismatchError, Store
from worker.payload_codec import PayloadKeyError
from worker.settings import Settings
from worker.temporal_client import connect_temporal

CLI_ACTOR = "astreinte"


def run_client_command(settings: Settings, command: Callable[[Client], Awaitable[int]]) -> None:
    async def connected() -> int:
        try:
            client = await connect_temporal(settings)
        except PayloadKeyError as error:
            typer.echo(f"Clé de chiffrement invalide : {error}", err=True)
            return EXIT_FAILED
        except RuntimeError as error:
            typer.echo(
                f"Temporal injoignable à {settings.temporal_address} ({error}). "
                "Lancez `tocsin dev` ou réglez TOCSIN_TEMPORAL_ADDRESS.",
                err=True,
            )
            return EXIT_FAILED
        try:
            return await command(client)
        except (event_control.EventNotFoundError, event_control.EventConflictError) as error:
            typer.echo(f"Erreur : {error}", err=True)
            return EXIT_FAILED
        except SchemaMismatchError as error:
            typer.echo(str(error), err=True)
            return EXIT_FAILED

    finish(asyncio.run(connected()))


Status = TypeVar("Status")


def run_with_store(
    settings: Settings,
    command: Callable[[Client, Store], Awaitable[Status]],
    render: Callable[[Status], str],
) -> None:
    """Runs ``command``, which may name people of the directory, and prints the
    status it answers; people unknown to the directory are refused."""

    async def with_store(client: Client) -> int:
        store = open_store(settings)
        try:
            status = await command(client, store)
        except committee_control.UnknownPeopleError as error:
            explain("Refusé :", [str(error)])
            return EXIT_REFUSED
        finally:
            store.dispose()
        typer.echo(render(status))
        return 0

    run_client_command(settings, with_store)
