"""What an event needs before its first message: its protocol, its message
templates (with the links to its type's fiches filled in: only the deployment knows
its public address) and who is competent for its area, read from the definitions
and the crisis directory."""

from collections.abc import Callable

import structlog
from temporalio import activity

from definitions.competence import TerritorySummary, resolve_competence
from definitions.event import EventDeclaration
from definitions.event_type import EventType
from definitions.fiches import fiches_block
from definitions.loader import Definitions
from definitions.messages import EmailTemplate, TemplateSet
from definitions.protocol import Protocol
from definitions.temporal_names import LOAD_PROTOCOL, LOAD_TEMPLATES, RESOLVE_TERRITORY
from definitions.territory import load_territory
from definitions.territory.declared_area import affected_communes
from store import directory
from store.database import Store

log = structlog.get_logger(__name__)

FICHES_VARIABLE = "$fiches"


def _filled(text: str, value: str) -> str:
    return text.replace(FICHES_VARIABLE, value.replace("$", "$$"))


def with_fiches(templates: TemplateSet, fiches: str) -> TemplateSet:
    """The templates with ``$fiches`` replaced; every other variable is left to the
    workflow's rendering."""
    return TemplateSet(
        sms={step: _filled(text, fiches) for step, text in templates.sms.items()},
        email={
            step: EmailTemplate(
                subject=_filled(email.subject, fiches), body=_filled(email.body, fiches)
            )
            for step, email in templates.email.items()
        },
    )


class EventPreparationActivities:
    def __init__(self, store: Store, definitions: Definitions, public_url: str) -> None:
        self._store = store
        self._definitions = definitions
        self._public_url = public_url

    @activity.defn(name=LOAD_PROTOCOL)
    def load_protocol(self, event_type: EventType) -> Protocol:
        return self._definitions.protocols[event_type]

    @activity.defn(name=LOAD_TEMPLATES)
    def load_templates(self, event_type: EventType) -> TemplateSet:
        fiches = fiches_block(self._definitions.fiches, event_type, self._public_url)
        return with_fiches(self._definitions.templates[event_type], fiches)

    @activity.defn(name=RESOLVE_TERRITORY)
    def resolve_territory(self, declaration: EventDeclaration) -> TerritorySummary:
        territory = load_territory()
        with self._store.session() as session:
            organisations = directory.organisations(session)
        resolution = resolve_competence(
            affected_communes(declaration, territory), organisations, territory
        )
        summary = resolution.summary()
        log.info(
            "territory.resolved",
            departments=len(summary.departments),
            competent_ccas=summary.competent_ccas,
            competent_cias=summary.competent_cias,
            uncovered=summary.uncovered_communes,
        )
        return summary

    @property
    def all(self) -> list[Callable[..., object]]:
        return [self.load_protocol, self.load_templates, self.resolve_territory]
