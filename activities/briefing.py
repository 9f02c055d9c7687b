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
from definitions.competence import TerritoryResolution, resolve_competence
from definitions.designation import BriefingRequest
from definitions.directory import ContactRole
from definitions.outgoing import Attachment, SendResult
from definitions.temporal_names import SEND_BRIEFING
from definitions.territory import load_territory
from definitions.territory.declared_area import affected_communes
from store import directory
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


class BriefingActivities:
    def __init__(self, store: Store, email: EmailActivities) -> None:
        self._store = store
        self._email = email

    def _resolution(self, request: BriefingRequest) -> tuple[TerritoryResolution, list[list[str]]]:
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
        return resolution, rows

    @activity.defn(name=SEND_BRIEFING)
    async def send_representative_briefing(self, request: BriefingRequest) -> SendResult:
        resolution, rows = await asyncio.to_thread(self._resolution, request)
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
                ]
            }
        )
        log.info("briefing.built", organisations=len(resolution.competent), rows=len(rows))
        return await self._email.send_email(email)

    @property
    def all(self) -> list[Callable[..., object]]:
        return [self.send_representative_briefing]
