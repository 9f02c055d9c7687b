"""``tocsin user`` and ``tocsin token``: accounts for the console and tokens for
scripts. Passwords are typed twice without echo, or read from standard input."""

import sys
from datetime import UTC, datetime
from typing import Annotated

import typer
from pydantic import TypeAdapter, ValidationError
from sqlmodel import Session

from cli.common import EXIT_FAILED, load_settings, read_store, refuse, write_store
from cli.json_output import JsonOption, print_json
from definitions.accounts import AccountRequest, Password, Role
from definitions.territory import load_territory
from definitions.validation import describe_error, describe_validation_error
from store import accounts, directory

user_app = typer.Typer(
    help="Comptes de la console (permanence, représentants, unions départementales)."
)
token_app = typer.Typer(help="Jetons d'API pour les scripts.")

PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="lire le mot de passe sur l'entrée standard")
]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt("Mot de passe", hide_input=True, confirmation_prompt=True))


@user_app.command("create")
def create_user(
    login: Annotated[str, typer.Argument(help="identifiant de connexion (minuscules)")],
    *,
    name: Annotated[str, typer.Option(help="nom affiché")],
    role: Annotated[Role, typer.Option(help="staff, representative ou ud")] = Role.STAFF,
    contact: Annotated[
        str | None, typer.Option(help="contact de l'annuaire (pour un représentant)")
    ] = None,
    department: Annotated[
        str | None, typer.Option(help="département d'une union départementale (ex. 59)")
    ] = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Créer un compte ; le premier compte de la permanence se crée ainsi."""
    settings = load_settings()
    try:
        request = AccountRequest(
            login=login,
            name=name,
            role=role,
            contact_id=contact,
            department=department,
            password=_password(password_stdin),
        )
    except ValidationError as error:
        refuse("Compte refusé :", describe_validation_error(error))

    def create(session: Session) -> str | None:
        if request.contact_id and directory.contact(session, request.contact_id) is None:
            return f"contact inconnu dans l'annuaire : {request.contact_id}"
        if request.department and load_territory().department(request.department) is None:
            return f"département inconnu : {request.department}"
        try:
            accounts.create_account(session, request, datetime.now(UTC))
        except accounts.AccountExistsError as error:
            return str(error)
        return None

    problem = write_store(settings, create)
    if problem:
        refuse("Compte refusé :", [problem])
    scope = f", département {request.department}" if request.department else ""
    typer.echo(f"Compte créé : {request.login} ({request.role.label}{scope}).")


@user_app.command("password")
def change_password(
    login: Annotated[str, typer.Argument(help="identifiant du compte")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Changer le mot de passe d'un compte."""
    settings = load_settings()
    try:
        password = TypeAdapter(Password).validate_python(_password(password_stdin))
    except ValidationError as error:
        refuse("Mot de passe refusé :", [describe_error(e) for e in error.errors()])

    def change(session: Session) -> bool:
        try:
            accounts.set_password(session, login, password)
        except LookupError:
            return False
        return True

    if not write_store(settings, change):
        refuse("Mot de passe refusé :", [f"compte inconnu : {login}"])
    typer.echo(f"Mot de passe de {login} changé.")


@token_app.command("create")
def create_token(
    login: Annotated[str, typer.Argument(help="compte au nom duquel le jeton agit")],
    name: Annotated[str, typer.Option(help="à quoi sert le jeton (ex. supervision)")],
) -> None:
    """Créer un jeton d'API ; il n'est affiché qu'une fois."""
    settings = load_settings()

    def create(session: Session) -> tuple[str, int] | None:
        try:
            return accounts.create_token(session, login, name[:100], datetime.now(UTC))
        except LookupError:
            return None

    created = write_store(settings, create)
    if created is None:
        refuse("Jeton refusé :", [f"compte inconnu : {login}"])
    token, token_id = created
    typer.echo(f"Jeton n°{token_id} pour {login} (à conserver, il ne sera plus affiché) :")
    typer.echo(token)


@token_app.command("list")
def list_tokens(as_json: JsonOption = False) -> None:
    """Les jetons d'API, révoqués compris."""
    tokens = read_store(load_settings(), accounts.tokens)
    if as_json:
        print_json(tokens)
        return
    for token in tokens:
        state = f"révoqué le {token.revoked_at:%d/%m/%Y}" if token.revoked_at else "actif"
        typer.echo(f"{token.id}\t{token.login}\t{token.name}\t{state}")


@token_app.command("revoke")
def revoke_token(token_id: Annotated[int, typer.Argument(help="numéro du jeton")]) -> None:
    """Révoquer un jeton : il est refusé dès la requête suivante."""
    settings = load_settings()
    if not write_store(
        settings, lambda session: accounts.revoke_token(session, token_id, datetime.now(UTC))
    ):
        typer.echo(f"Aucun jeton actif n°{token_id}.", err=True)
        raise typer.Exit(EXIT_FAILED)
    typer.echo(f"Jeton n°{token_id} révoqué.")
