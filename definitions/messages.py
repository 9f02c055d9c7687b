"""Message steps, their variables, and the strict rendering of French templates.

Each step says which variables its templates may use and the longest plausible
value of each: ``tocsin definitions check`` renders every SMS with them to count
its segments. A template naming an unknown variable, or a render missing one,
is an error, never a blank in a message to a mayor.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from string import Template

from pydantic import BaseModel, Field

from definitions.competence import TerritorySummary
from definitions.gsm7 import to_gsm7
from definitions.outgoing import Channel

DRILL_PREFIX = "EXERCICE EXERCICE EXERCICE"
SMS_TITLE_MAX = 60


class MessageStep(StrEnum):
    DESIGNATION_REQUEST = "designation_request"
    DESIGNATION_CONFIRMED = "designation_confirmed"
    DESIGNATION_RELEASED = "designation_released"
    DESIGNATION_BUSY = "designation_busy"
    DESIGNATION_FAILED = "designation_failed"
    STATE_INFORMATION = "state_information"
    UD_INFORMATION = "ud_information"
    REPRESENTATIVE_BRIEFING = "representative_briefing"
    SUPPORT_REQUEST = "support_request"
    SUPPORT_REMINDER = "support_reminder"
    SUPPORT_ESCALATION = "support_escalation"
    SUPPORT_ACTION = "support_action"
    REINFORCEMENT_REQUEST = "reinforcement_request"
    REINFORCEMENT_OFFER = "reinforcement_offer"
    REINFORCEMENT_NONE = "reinforcement_none"
    SITUATION_REPORT = "situation_report"
    MEETING_INVITATION = "meeting_invitation"
    MEETING_REMINDER = "meeting_reminder"
    TASK_ASSIGNED = "task_assigned"
    TASK_REMINDER = "task_reminder"
    TASK_OVERDUE = "task_overdue"
    CHECKPOINT = "checkpoint"
    REVIEW_QUESTIONNAIRE = "review_questionnaire"
    REVIEW_REMINDER = "review_reminder"
    REPLY_NOT_UNDERSTOOD = "reply_not_understood"
    UD_DECLARATION = "ud_declaration"


DELIVERY_TRACKED_STEPS = frozenset({MessageStep.SUPPORT_REQUEST.value})
"""Steps whose SMS delivery receipts are passed on to the waiting workflow."""

COMMON_VARIABLES = {
    "header": "UNCCAS - ACCIDENT INDUSTRIEL Alpes-de-Haute-Provence (04) +99",
    "title": "Effondrement d'un immeuble rue de la République, nombreux bl",
    "event_id": "accident_industriel-20261122-k3f9",
}
_PERSON = "Dominique Chevalier-Lemaire"
_QUESTIONNAIRE_URL = "https://tocsin.example.org/q/" + "x" * 110
_PHONE = "+33639980001"
_EMAIL = "representant-8@example.org"
_ORGANISATION = "CIAS Communauté de communes du Pays de Pontchâteau Saint-Gildas-des-Bois"
_CODE = "4821"
_AREA = "Alpes-de-Haute-Provence (04) et 11 autres départements, 1250 communes"
_FICHES = "    - Hébergement d'urgence et relogement : https://tocsin.example.org/fiches/x"
"""Filled in when the templates are loaded (the deployment's address is not the
workflow's to know): the fiches of the event's type."""


@dataclass(frozen=True)
class StepSpec:
    channels: frozenset[Channel]
    variables: Mapping[str, str]


_SMS = frozenset({Channel.SMS})
_EMAIL_ONLY = frozenset({Channel.EMAIL})
_BOTH = frozenset({Channel.SMS, Channel.EMAIL})

STEPS: dict[MessageStep, StepSpec] = {
    MessageStep.DESIGNATION_REQUEST: StepSpec(
        _BOTH, {"candidate_name": _PERSON, "area": _AREA, "code": _CODE, "deadline": "1h30min"}
    ),
    MessageStep.DESIGNATION_CONFIRMED: StepSpec(_BOTH, {"representative_name": _PERSON}),
    MessageStep.DESIGNATION_RELEASED: StepSpec(_SMS, {"candidate_name": _PERSON}),
    MessageStep.DESIGNATION_BUSY: StepSpec(
        _SMS, {"candidate_name": _PERSON, "other_event": COMMON_VARIABLES["event_id"]}
    ),
    MessageStep.DESIGNATION_FAILED: StepSpec(_BOTH, {"asked": "12", "round": "3"}),
    MessageStep.STATE_INFORMATION: StepSpec(
        _EMAIL_ONLY,
        {
            "representative_name": _PERSON,
            "representative_phone": _PHONE,
            "representative_email": _EMAIL,
            "area": _AREA,
            "change_note": f"Il/elle succède à {_PERSON}, désormais déchargé(e) de cette mission.",
        },
    ),
    MessageStep.UD_INFORMATION: StepSpec(
        _BOTH,
        {
            "representative_name": _PERSON,
            "representative_phone": _PHONE,
            "area": _AREA,
            "competent_count": "3664",
        },
    ),
    MessageStep.REPRESENTATIVE_BRIEFING: StepSpec(
        _EMAIL_ONLY,
        {
            "representative_name": _PERSON,
            "area": _AREA,
            "competent_count": "3664",
            "uncovered_count": "21077",
            "fiches": _FICHES,
        },
    ),
    MessageStep.SUPPORT_REQUEST: StepSpec(
        _BOTH,
        {
            "organisation_name": _ORGANISATION,
            "representative_name": _PERSON,
            "representative_phone": _PHONE,
            "code": _CODE,
            "answer_url": "https://tocsin.example.org/r/" + "x" * 120,
            "link_validity": "7j",
            "fiches": _FICHES,
        },
    ),
    MessageStep.SUPPORT_REMINDER: StepSpec(_SMS, {"code": _CODE}),
    MessageStep.SUPPORT_ESCALATION: StepSpec(
        _BOTH,
        {
            "count": "175",
            "reason": "sans réponse depuis 1h30min",
            "centres": f"{_ORGANISATION}, CCAS de Saint-Rémy-de-Provence et 173 autre(s)",
            "details": f"- {_ORGANISATION} : direction {_PERSON} {_PHONE}\n" * 3,
        },
    ),
    MessageStep.SUPPORT_ACTION: StepSpec(
        _SMS, {"organisation_name": _ORGANISATION, "contact_name": _PERSON, "contact_phone": _PHONE}
    ),
    MessageStep.REINFORCEMENT_REQUEST: StepSpec(
        _SMS, {"organisation_name": _ORGANISATION, "distance_km": "148", "code": _CODE}
    ),
    MessageStep.REINFORCEMENT_OFFER: StepSpec(
        _SMS,
        {
            "helper_name": _ORGANISATION,
            "organisation_name": _ORGANISATION,
            "contact_name": _PERSON,
            "contact_phone": _PHONE,
        },
    ),
    MessageStep.REINFORCEMENT_NONE: StepSpec(
        _SMS, {"organisation_name": _ORGANISATION, "deadline": "1h30min"}
    ),
    MessageStep.SITUATION_REPORT: StepSpec(
        _SMS,
        {
            "report": "Décrue amorcée. 240 personnes hébergées au gymnase Jean-Moulin. "
            "Besoin de bénévoles pour le relogement. Prochain point demain 9h en préfecture.",
            "author": _PERSON,
        },
    ),
    MessageStep.MEETING_INVITATION: StepSpec(
        _EMAIL_ONLY,
        {
            "change": "Annulation",
            "meeting": "Comité local d'aide aux victimes n°12",
            "when": "mercredi 23/12/2026 à 14h30",
            "place": "Préfecture, salle Jean-Moulin",
            "note": "La réunion est reportée au jeudi 24/12/2026 à 09h00 "
            "(demande de la préfecture).",
            "reminders": "Des rappels vous seront envoyés par SMS 1 jour et 2 heures "
            "avant la réunion.",
        },
    ),
    MessageStep.MEETING_REMINDER: StepSpec(
        _SMS,
        {
            "meeting": "Comité local d'aide aux victimes n°12",
            "when": "mercredi 23/12 à 14h30",
            "place": "Préfecture, salle Jean-Moulin",
        },
    ),
    MessageStep.TASK_ASSIGNED: StepSpec(
        _BOTH,
        {
            "task": "Recenser les familles relogées hors commune et transmettre la liste au CLAV",
            "due": "23/12",
            "code": _CODE,
            "answer_url": "https://tocsin.example.org/r/" + "x" * 120,
            "origin": "Au titre du plan d'action du retour d'expérience",
        },
    ),
    MessageStep.TASK_REMINDER: StepSpec(
        _SMS,
        {
            "task": "Recenser les familles relogées hors commune et transmettre la liste au CLAV",
            "due": "23/12",
            "code": _CODE,
        },
    ),
    MessageStep.TASK_OVERDUE: StepSpec(
        _BOTH,
        {
            "task": "Recenser les familles relogées hors commune et transmettre la liste au CLAV",
            "due": "23/12",
            "assignee_name": _PERSON,
            "assignee_phone": _PHONE,
            "late": "depuis 3j",
        },
    ),
    MessageStep.CHECKPOINT: StepSpec(
        _BOTH,
        {
            "number": "4",
            "meetings_held": "12",
            "tasks_done": "31",
            "tasks_open": "7",
            "support": f"{_ORGANISATION}, CCAS de Saint-Rémy-de-Provence et 12 autre(s)",
            "code": _CODE,
        },
    ),
    MessageStep.REVIEW_QUESTIONNAIRE: StepSpec(
        _BOTH,
        {
            "round": "retour d'expérience formel",
            "deadline": "mercredi 23/12/2026 à 18h00",
            "form_url": _QUESTIONNAIRE_URL,
        },
    ),
    MessageStep.REVIEW_REMINDER: StepSpec(
        _BOTH,
        {
            "round": "retour d'expérience formel",
            "deadline": "mercredi 23/12/2026 à 18h00",
            "form_url": _QUESTIONNAIRE_URL,
        },
    ),
    MessageStep.REPLY_NOT_UNDERSTOOD: StepSpec(_SMS, {}),
    MessageStep.UD_DECLARATION: StepSpec(
        _BOTH, {"declared_by": "UDCCAS des Alpes-de-Haute-Provence (ud-alpes-de-haute-prov)"}
    ),
}


def message_header(sms_label: str, territory: TerritorySummary) -> str:
    """``UNCCAS - INONDATION Nord (59)``, ``+2`` when more departments are touched."""
    departments = territory.departments
    if not departments:
        return f"UNCCAS - {sms_label}"
    first = departments[0]
    others = f" +{len(departments) - 1}" if len(departments) > 1 else ""
    return f"UNCCAS - {sms_label} {first.name} ({first.code}){others}"


class EmailTemplate(BaseModel):
    subject: str = Field(min_length=1)
    body: str = Field(min_length=1)


class TemplateSet(BaseModel):
    """The templates one event type uses, after overlays."""

    sms: dict[MessageStep, str]
    email: dict[MessageStep, EmailTemplate]


class RenderedEmail(BaseModel):
    subject: str
    body: str


class MessageRenderError(KeyError):
    """A template needs a variable nobody gave: a bug, never a blank in a message."""


def allowed_variables(step: MessageStep) -> set[str]:
    return set(COMMON_VARIABLES) | set(STEPS[step].variables)


def longest_values(step: MessageStep) -> dict[str, str]:
    return {**COMMON_VARIABLES, **STEPS[step].variables}


def _substitute(text: str, values: Mapping[str, str]) -> str:
    try:
        return Template(text).substitute(values)
    except KeyError as error:
        raise MessageRenderError(f"variable manquante : {error.args[0]}") from error


def _drill(text: str, exercise: bool, separator: str) -> str:
    return f"{DRILL_PREFIX}{separator}{text}" if exercise else text


def render_sms(
    templates: TemplateSet, step: MessageStep, values: Mapping[str, str], exercise: bool
) -> str:
    """Values are spelt in GSM-7 (Tempête → Tempete) and the title shortened, so
    that the template alone decides the encoding and the length."""
    title = values.get("title", "")
    if len(title) > SMS_TITLE_MAX:
        values = {**values, "title": title[: SMS_TITLE_MAX - 3] + "..."}
    sms_values = {key: to_gsm7(value) for key, value in values.items()}
    return _drill(_substitute(templates.sms[step], sms_values), exercise, " ")


def render_email(
    templates: TemplateSet, step: MessageStep, values: Mapping[str, str], exercise: bool
) -> RenderedEmail:
    template = templates.email[step]
    return RenderedEmail(
        subject=_drill(_substitute(template.subject, values), exercise, " - "),
        body=_drill(_substitute(template.body, values), exercise, "\n\n"),
    )
