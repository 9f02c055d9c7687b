"""The representative's briefing: who is competent for the event's area and how
to reach their directors, as CSV files a spreadsheet opens (semicolons, UTF-8
with BOM, as French Excel expects)."""

import asyncio
import csv
import io
from collections.abc import Callable

import structlog
from temporalio import activity

from activities.email import EmailActivities
from definitions.committee import in_paris
from definitions.competence import TerritoryResolution, resolve_competence
from definitions.designation import BriefingRequest
from definitions.directory import ContactRole
from definitions.outgoing import Attachment, SendResult
from definitions.temporal_names import SEND_BRIEFING
from definitions.territory import load_territory
from definitions.territory.declared_area import affected_communes
from store import directory
from store import directory_verification as verification
from store.database import Store

log = structlog.get_logger(__name__)

CSV_TYPE = "text/csv"
BRIEFED_ROLES = (ContactRole.DIRECTOR, ContactRole.DEPUTY)
ROLE_LABELS = {ContactRole.DIRECTOR: "direction", ContactRole.DEPUTY: "adjoint(e)"}


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def _failing_attachment(rows: list[list[str]]) -> list[Attachment]:
    """Contacts of competent centres whose last message bounced: call them, or
    find another way; only when there are some."""
    if not rows:
        return []
    content = _csv(["organisme", "nom", "coordonnée en échec", "échec constaté le"], rows)
    return [Attachment(filename="contacts_en_echec.csv", content_type=CSV_TYPE, content=content)]


class BriefingActivities:
    def __init__(self, store: Store, email: EmailActivities) -> None:
        self._store = store
        self._email = email

    def _resolution(
        self, request: BriefingRequest
    ) -> tuple[TerritoryResolution, list[list[str]], list[list[str]]]:
        territory = load_territory()
        with self._store.session() as session:
            resolution = resolve_competence(
                affected_communes(request.declaration, territory),
                directory.organisations(session),
                territory,
            )
            ids = [organisation.organisation_id for organisation in resolution.competent]
            contacts = [
                contact
                for contact in directory.contacts_of(session, ids)
                if contact.role in BRIEFED_ROLES
            ]
            failing = verification.failing_points(session, contacts)
        by_organisation: dict[str, list[list[str]]] = {}
        for contact in contacts:
            by_organisation.setdefault(contact.organisation_id, []).append(
                [ROLE_LABELS[contact.role], contact.name, contact.phone or "", contact.email or ""]
            )
        rows = []
        for organisation in resolution.competent:
            place = [
                organisation.department_code,
                organisation.kind.value.upper(),
                organisation.name,
                " ".join(organisation.communes),
            ]
            for person in by_organisation.get(organisation.organisation_id, [["", "", "", ""]]):
                rows.append(place + person)
        names = {
            organisation.organisation_id: organisation.name for organisation in resolution.competent
        }
        failing_rows = [
            [names.get(contact.organisation_id, ""), contact.name, point, in_paris(since)]
            for contact in contacts
            if contact.id in failing
            for point, since in [failing[contact.id]]
        ]
        return resolution, rows, failing_rows

    @activity.defn(name=SEND_BRIEFING)
    async def send_representative_briefing(self, request: BriefingRequest) -> SendResult:
        resolution, rows, failing = await asyncio.to_thread(self._resolution, request)
        competent = _csv(
            [
                "département",
                "type",
                "organisme",
                "communes (INSEE)",
                "rôle",
                "nom",
                "téléphone",
                "email",
            ],
            rows,
        )
        uncovered = _csv(
            ["département", "commune", "code INSEE"],
            [[c.department_code, c.name, c.insee_code] for c in resolution.uncovered],
        )
        email = request.email.model_copy(
            update={
                "attachments": [
                    Attachment(
                        filename="ccas_cias_competents.csv",
                        content_type=CSV_TYPE,
                        content=competent,
                    ),
                    Attachment(
                        filename="communes_non_couvertes.csv",
                        content_type=CSV_TYPE,
                        content=uncovered,
                    ),
                    *_failing_attachment(failing),
                ]
            }
        )
        log.info("briefing.built", organisations=len(resolution.competent), rows=len(rows))
        return await self._email.send_email(email)

    @property
    def all(self) -> list[Callable[..., object]]:
        return [self.send_representative_briefing]
