"""``tocsin outbox`` and ``tocsin sms-reply``: what left, and answering as a phone."""

import secrets
from typing import Annotated
from xml.etree import ElementTree

import httpx
import typer
from twilio.request_validator import RequestValidator

from definitions.privacy import mask_phone_numbers
from store import outbox
from store.database import Store
from worker.cli_common import EXIT_FAILED, load_settings, refuse
from worker.sandbox.providers import sandbox_auth_token
from worker.status_view import local_time

BODY_SHOWN = 70
WEBHOOK_PATH = "/webhooks/twilio/sms"


def outbox_command(
    event: Annotated[str | None, typer.Option(help="seulement cet événement")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="nombre de messages")] = 30,
) -> None:
    """Lister les derniers messages envoyés (SMS et email) et leur état."""
    settings = load_settings()
    store = Store(settings.database_url)
    try:
        store.upgrade()
        with store.session() as session:
            entries = outbox.entries(session, event_id=event, limit=limit)
    finally:
        store.dispose()
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
    token = settings.twilio_auth_token or sandbox_auth_token(settings)
    params = {
        "MessageSid": "SM" + secrets.token_hex(16),
        "AccountSid": settings.twilio_account_sid or "sandbox",
        "From": sender,
        "To": settings.twilio_from or "UNCCAS",
        "Body": text,
    }
    signed_url = settings.public_url.rstrip("/") + WEBHOOK_PATH
    signature = RequestValidator(token).compute_signature(signed_url, params)
    try:
        response = httpx.post(
            settings.gateway_url + WEBHOOK_PATH,
            data=params,
            headers={"X-Twilio-Signature": signature},
            timeout=10,
        )
    except httpx.HTTPError as error:
        typer.echo(f"Passerelle injoignable ({settings.gateway_url}) : {error}", err=True)
        raise typer.Exit(EXIT_FAILED) from error
    if response.status_code != 200:
        refuse("Réponse refusée par la passerelle :", [f"HTTP {response.status_code}"])
    answers = [node.text or "" for node in ElementTree.fromstring(response.text).iter("Message")]
    typer.echo("\n".join(answers) if answers else "(pas de réponse : message déjà reçu)")
