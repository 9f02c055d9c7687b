"""``tocsin outbox`` and ``tocsin sms-reply``: what left, and answering as a phone."""

import asyncio
from typing import Annotated

import httpx
import typer

from cli.common import EXIT_FAILED, load_settings, read_store, refuse
from cli.json_output import JsonOption, print_json
from cli.status_view import local_time
from definitions.outgoing import OutboxEntry
from definitions.privacy import mask_phone_numbers
from store import outbox
from worker.phone_replies import ReplyRefusedError, send_sms_reply

BODY_SHOWN = 70


def _outbox_line(entry: OutboxEntry) -> str:
    body = entry.subject or entry.body
    shown = body if len(body) <= BODY_SHOWN else body[: BODY_SHOWN - 1] + "…"
    duplicates = entry.possible_duplicates
    resent = f", renvoyé {duplicates} fois : doublon possible" if duplicates else ""
    return (
        f"{local_time(entry.created_at)}  {entry.channel.value:<5} {entry.status.value:<11} "
        f"{entry.recipient:<32} {entry.step:<24} {shown}\n"
        f"    id fournisseur {entry.provider_id or '-'}, clé {entry.key}{resent}"
    )


def outbox_command(
    event: Annotated[str | None, typer.Option(help="seulement cet événement")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="nombre de messages")] = 30,
    as_json: JsonOption = False,
) -> None:
    """Lister les derniers messages envoyés (SMS et email), leur état, l'identifiant
    du fournisseur (sid Twilio, Message-ID) et la clé d'idempotence."""
    entries = read_store(
        load_settings(), lambda session: outbox.entries(session, event_id=event, limit=limit)
    )
    shown = [
        entry.model_copy(update={"recipient": mask_phone_numbers(entry.recipient)})
        for entry in reversed(entries)
    ]
    if as_json:
        print_json(shown)
        return
    for entry in shown:
        typer.echo(_outbox_line(entry))
    duplicated = sum(1 for entry in entries if entry.possible_duplicates)
    doubts = f", dont {duplicated} peut-être reçu(s) en double" if duplicated else ""
    typer.echo(f"{len(entries)} message(s){doubts}.")


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
