"""The self-service page of the crisis directory (``/annuaire/{token}``), reached
through the signed link of a verification campaign's email: a director sees the
organisation's line as the directory has it and confirms it, or corrects it.
Corrections are validated as an import is (numbers read in the organisation's
region, emails checked), applied at once and kept in an audit trail. A form drawn
before another director's change is shown again with that change."""

import html
from datetime import UTC, datetime
from typing import Annotated

import structlog
from anyio import to_thread
from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from definitions.answer_links import (
    TOKEN_MAX_LENGTH,
    ExpiredLinkError,
    ForgedLinkError,
    read_link,
)
from definitions.contact_points import checked_email
from definitions.directory import PHONE_REGION, Contact, ContactRole
from definitions.directory_verification import DIRECTORY_PATH, DirectoryLinkClaim
from definitions.phone_numbers import phone_region
from gateway.answer_pages import page
from store import directory
from store import directory_verification as verification
from store.database import Store

log = structlog.get_logger(__name__)

TokenPath = Annotated[str, Path(min_length=10, max_length=TOKEN_MAX_LENGTH)]
FORM_MAX_BYTES = 16_000
ROLE_LABELS = {ContactRole.DIRECTOR: "Direction", ContactRole.DEPUTY: "Adjoint(e)"}
FIELD_LABELS = {"name": "Nom", "phone": "Téléphone mobile", "email": "Email"}
INPUT_MODES = {"name": "text", "phone": "tel", "email": "email"}
"""Typed as text, so that every field takes the page's width, with the phone's
keyboard for numbers or addresses."""
NAME_MAX = 200


class CorrectionError(ValueError):
    """A field the import would refuse; its message says why, in French."""


def _refusal(title: str, text: str, status_code: int) -> HTMLResponse:
    return page(title, f"<p>{html.escape(text)}</p>", status_code)


def validated_line(form: dict[str, str], department: str | None) -> dict[str, str]:
    """The line as the directory would store it, or CorrectionError with every
    reason: the checks of an import, in the organisation's numbering region."""
    context = {PHONE_REGION: phone_region(department)}
    line: dict[str, str] = {}
    problems: list[str] = []
    mailbox = form.get("mailbox", "").strip()
    for role in verification.EDITABLE_ROLES:
        values = {
            field: form.get(f"{role.value}_{field}", "").strip()
            for field in ("name", "phone", "email")
        }
        label = ROLE_LABELS[role]
        if not any(values.values()):
            line.update({f"{role.value}_{field}": "" for field in values})
            continue
        if not values["name"] or len(values["name"]) > NAME_MAX:
            problems.append(f"{label} : le nom est requis (200 caractères au plus)")
            continue
        try:
            checked = Contact.model_validate(
                {
                    "id": "verification",
                    "organisation_id": "verification",
                    "role": role.value,
                    "name": values["name"],
                    "phone": values["phone"] or None,
                    "email": values["email"] or None,
                },
                context=context,
            )
        except ValidationError as error:
            problems.extend(f"{label} : {_reason(problem)}" for problem in error.errors())
            continue
        line[f"{role.value}_name"] = checked.name
        line[f"{role.value}_phone"] = checked.phone or ""
        line[f"{role.value}_email"] = checked.email or ""
    try:
        line["mailbox"] = checked_email(mailbox) if mailbox else ""
    except ValueError as error:
        problems.append(f"Boîte partagée : {error}")
    if problems:
        raise CorrectionError("\n".join(problems))
    return line


def _reason(problem: object) -> str:
    message = str(problem.get("msg", "")) if isinstance(problem, dict) else str(problem)
    return message.removeprefix("Value error, ")


class DirectoryPages:
    def __init__(self, store: Store, secret: str) -> None:
        self._store = store
        self._secret = secret

    def _claim(self, token: str) -> DirectoryLinkClaim | HTMLResponse:
        try:
            return read_link(self._secret, token, DirectoryLinkClaim)
        except ForgedLinkError as error:
            log.warning("directory_page.forged", reason=str(error))
            return _refusal("Lien invalide", "Ce lien n'est pas valide.", 403)
        except ExpiredLinkError as error:
            log.info("directory_page.expired", reason=str(error))
            return _refusal(
                "Lien expiré",
                f"Ce lien de vérification de l'annuaire n'est plus valable ({error}). Vous "
                "recevrez un nouveau lien lors de la prochaine campagne ; en attendant, "
                "écrivez à votre union départementale pour toute correction.",
                410,
            )

    def _read(self, claim: DirectoryLinkClaim) -> tuple[str, str | None, dict[str, str]] | None:
        """None when the organisation left the directory, or the directory was
        imported again since the link was issued."""
        with self._store.session() as session:
            organisation = directory.organisation(session, claim.organisation_id)
            imported_at = verification.last_import(session)
            if organisation is None or (
                claim.issued_at and imported_at and imported_at > claim.issued_at
            ):
                return None
            department = verification.department_of(organisation)
            return organisation.name, department, verification.line_of(session, organisation.id)

    def _gone(self) -> HTMLResponse:
        return _refusal(
            "Lien périmé",
            "Cette structure a été retirée ou réimportée dans l'annuaire depuis l'envoi de "
            "ce lien ; il n'est plus valable. Un nouveau lien vous sera envoyé.",
            410,
        )

    def _form(
        self,
        name: str,
        line: dict[str, str],
        *,
        notice: str = "",
        shown: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> HTMLResponse:
        values = shown if shown is not None else line
        fields = []
        for role in verification.EDITABLE_ROLES:
            inputs = "".join(
                f'<p><label for="{role.value}_{field}">{FIELD_LABELS[field]}</label>'
                f'<input id="{role.value}_{field}" name="{role.value}_{field}" '
                f'type="text" inputmode="{INPUT_MODES[field]}" maxlength="{NAME_MAX}" '
                f'value="{html.escape(values.get(f"{role.value}_{field}", ""))}"></p>'
                for field in ("name", "phone", "email")
            )
            fields.append(f"<fieldset><legend>{ROLE_LABELS[role]}</legend>{inputs}</fieldset>")
        notice_html = (
            f'<div role="alert" class="notice">{html.escape(notice).replace(chr(10), "<br>")}</div>'
            if notice
            else ""
        )
        return page(
            "Annuaire de crise",
            f"<p>Coordonnées de <strong>{html.escape(name)}</strong> telles que l'UNCCAS les "
            "utilisera lors d'un événement majeur. Confirmez-les, ou corrigez-les puis "
            f"enregistrez.</p>{notice_html}"
            '<form method="post">'
            f'<input type="hidden" name="version" value="{verification.line_version(line)}">'
            + "".join(fields)
            + '<fieldset><legend>Structure</legend><p><label for="mailbox">Boîte email '
            'partagée</label><input id="mailbox" name="mailbox" type="text" inputmode="email" '
            f'maxlength="320" value="{html.escape(values.get("mailbox", ""))}"></p></fieldset>'
            '<p><label for="who">Votre nom</label><input id="who" name="who" type="text" '
            'maxlength="100" required></p>'
            '<button name="action" value="confirm">Tout est exact, je confirme</button>'
            '<button name="action" value="correct">Enregistrer mes corrections</button>'
            "</form>",
            status_code,
        )

    async def show(self, token: TokenPath) -> HTMLResponse:
        claim = self._claim(token)
        if isinstance(claim, HTMLResponse):
            return claim
        read = await to_thread.run_sync(self._read, claim)
        if read is None:
            return self._gone()
        name, _, line = read
        return self._form(name, line)

    async def submit(self, token: TokenPath, request: Request) -> HTMLResponse:
        claim = self._claim(token)
        if isinstance(claim, HTMLResponse):
            return claim
        if int(request.headers.get("content-length") or 0) > FORM_MAX_BYTES:
            return _refusal("Formulaire trop long", "Raccourcissez vos saisies.", 413)
        form = {
            key: value for key, value in (await request.form()).items() if isinstance(value, str)
        }
        read = await to_thread.run_sync(self._read, claim)
        if read is None:
            return self._gone()
        name, department, line = read
        who = form.get("who", "").strip()[:100] or "directeur (lien)"
        if form.get("version") != verification.line_version(line):
            log.info("directory_page.stale_form", organisation=claim.organisation_id)
            return self._form(
                name,
                line,
                notice="Ces coordonnées viennent d'être modifiées par une autre personne ; "
                "voici les valeurs à jour. Vérifiez-les puis confirmez ou corrigez.",
                status_code=409,
            )
        if form.get("action") == "confirm":
            await to_thread.run_sync(self._save, claim, {}, who)
            return page(
                "Merci",
                "<p>Vos coordonnées sont confirmées. Merci de votre aide : un annuaire à jour "
                "est ce qui permet de vous joindre lors d'un événement majeur.</p>",
            )
        try:
            corrected = validated_line(form, department)
        except CorrectionError as error:
            log.info("directory_page.refused", organisation=claim.organisation_id)
            return self._form(
                name,
                line,
                notice=f"Rien n'a été enregistré :\n{error}",
                shown=form,
                status_code=422,
            )
        changes = await to_thread.run_sync(self._save, claim, corrected, who)
        log.info("directory_page.corrected", organisation=claim.organisation_id, fields=changes)
        return page(
            "Merci",
            f"<p>{changes} correction(s) enregistrée(s) et appliquée(s) dès maintenant. Votre "
            "union départementale et l'UNCCAS en sont informées.</p>",
        )

    def _save(self, claim: DirectoryLinkClaim, line: dict[str, str], who: str) -> int:
        """The corrections and the confirmation, together: the line is true now."""
        with self._store.session() as session:
            changes = verification.apply_line(
                session, claim.organisation_id, line, who, claim.campaign_id
            )
            verification.confirm(
                session,
                claim.campaign_id,
                claim.organisation_id,
                who,
                via="web",
                now=datetime.now(UTC),
            )
            session.commit()
        return len(changes)


def directory_router(store: Store, secret: str) -> APIRouter:
    pages = DirectoryPages(store, secret)
    router = APIRouter(prefix=DIRECTORY_PATH.rstrip("/"), tags=["annuaire"])
    router.get("/{token}", response_class=HTMLResponse)(pages.show)
    router.post("/{token}", response_class=HTMLResponse)(pages.submit)
    return router
