"""``tocsin outbox`` and ``tocsin sms-reply``: what left, and answering as a phone."""

import asyncio
from typing import Annotated

import httpx
import typer

from cli.common import EXIT_FAILED, load_settings, read_store, refuse
from cli.status_view import local_time
from definitions.privacy import mask_phone_numbers
from store import outbox
from worker.phone_replies import ReplyRefusedError, send_sms_reply

BODY_SHOWN = 70


def outbox_command(
    event: Annotated[str | None, typer.Option(help="seulement cet événement")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="nombre de messages")] = 30,
) -> None:
    """Lister les derniers messages envoyés (SMS et email) et leur état."""
    entries = read_store(
        load_settings(), lambda session: outbox.entries(session, event_id=event, limit=limit)
    )
    for entry in reversed(entries):
        body = entry.subject or entry.body
        shown = body if len(body) <= BODY_SHOWN else body[: BODY_SHOWN - 1] + "…"
        typer.echo(
            f"{local_time(entry.created_at)}  {entry.channel.value:<5} {entry.status.value:<11} "
            f"{mask_phone_numbers(entry.recipient):<32} {entry.step:<24} {shown}"
        )
    typer.echo(f"{len(entries)} message(s).")


def sms_reply_command(
    text: Annotated[str, typer.Argument(help="texte de la réponse, ex. « OUI 4821 »")],
    sender: Annotated[str, typer.Option("--from", help="numéro qui répond (E.164)")],
) -> None:
    """Répondre comme un téléphone, par le webhook signé de la passerelle."""
    settings = load_settings()
    try:
        answers = asyncio.run(send_sms_reply(settings, sender, text))
    except httpx.HTTPError as error:
        typer.echo(f"Passerelle injoignable ({settings.gateway_url}) : {error}", err=True)
        raise typer.Exit(EXIT_FAILED) from error
    except ReplyRefusedError as error:
        refuse("Réponse refusée par la passerelle :", [str(error)])
    typer.echo("\n".join(answers) if answers else "(pas de réponse : message déjà reçu)")
