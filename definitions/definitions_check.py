"""``tocsin definitions check``: every template complete, strict in its variables,
in GSM-7 when it is an SMS, and within its protocol's segment budget, counted on
the longest plausible values of a drill (the longest header); every fiche's links
sound and its review recent."""

from collections.abc import Mapping
from datetime import date
from string import Template

from pydantic import BaseModel

from definitions.alert_levels import level_report
from definitions.event_type import EventType
from definitions.fiches_check import fiche_problems, fiche_warnings
from definitions.gsm7 import Encoding, is_gsm7, non_gsm7_characters, segments
from definitions.loader import Definitions
from definitions.messages import (
    STEPS,
    MessageStep,
    TemplateSet,
    allowed_variables,
    longest_values,
    render_sms,
)
from definitions.outgoing import Channel


class SmsCheck(BaseModel):
    event_type: EventType
    step: MessageStep
    encoding: Encoding
    segments: int
    limit: int
    characters: int


class CheckReport(BaseModel):
    sms: list[SmsCheck]
    problems: list[str]
    fiches: int = 0
    warnings: list[str] = []
    """Worth doing, not blocking: a fiche due for review."""


def _variable_problems(where: str, step: MessageStep, text: str) -> list[str]:
    template = Template(text)
    if not template.is_valid():
        return [f"{where} : syntaxe invalide (écrire $$ pour un signe dollar)"]
    unknown = sorted(set(template.get_identifiers()) - allowed_variables(step))
    if unknown:
        return [f"{where} : variable(s) inconnue(s) {', '.join(unknown)}"]
    return []


def _missing(event_type: EventType, templates: TemplateSet) -> list[str]:
    present: dict[Channel, Mapping[MessageStep, object]] = {
        Channel.SMS: templates.sms,
        Channel.EMAIL: templates.email,
    }
    return [
        f"{event_type.value}/{step.value} : modèle {channel.value} manquant"
        for step, spec in STEPS.items()
        for channel in sorted(spec.channels)
        if step not in present[channel]
    ]


def check_definitions(definitions: Definitions, today: date | None = None) -> CheckReport:
    library = definitions.fiches
    report = CheckReport(
        sms=[],
        problems=fiche_problems(library),
        fiches=len(library.fiches),
        warnings=fiche_warnings(library, today or date.today()),
    )
    for event_type, templates in definitions.templates.items():
        limit = definitions.protocols[event_type].max_sms_segments
        report.problems += _missing(event_type, templates)
        for step, template in templates.email.items():
            where = f"{event_type.value}/{step.value} (email)"
            report.problems += _variable_problems(where, step, template.subject)
            report.problems += _variable_problems(where, step, template.body)
        for step, text in templates.sms.items():
            where = f"{event_type.value}/{step.value} (SMS)"
            problems = _variable_problems(where, step, text)
            report.problems += problems
            if problems:
                continue
            rendered = render_sms(templates, step, longest_values(step), exercise=True)
            encoding, count = segments(rendered)
            report.sms.append(
                SmsCheck(
                    event_type=event_type,
                    step=step,
                    encoding=encoding,
                    segments=count,
                    limit=limit,
                    characters=len(rendered),
                )
            )
            if not is_gsm7(rendered):
                outside = " ".join(non_gsm7_characters(rendered))
                report.problems.append(f"{where} : hors GSM-7 ({outside}), passe en UCS-2")
            if count > limit:
                report.problems.append(f"{where} : {count} segments, {limit} au plus")
    report.problems += _alert_level_problems(definitions)
    return report


def _alert_level_problems(definitions: Definitions) -> list[str]:
    """Each alert level's instructions leave as a situation report (spelt in GSM-7 as
    every value is): within the protocol's segment budget with the longest header."""
    problems = []
    for event_type, protocol in definitions.protocols.items():
        templates = definitions.templates[event_type]
        step = MessageStep.SITUATION_REPORT
        if step not in templates.sms:
            continue
        for zone in protocol.alert_zones:
            for level in zone.levels:
                where = f"{event_type.value}/niveau {level.id} (SMS)"
                values = {**longest_values(step), "report": level_report(zone, level)}
                _, count = segments(render_sms(templates, step, values, exercise=True))
                if count > protocol.max_sms_segments:
                    limit = protocol.max_sms_segments
                    problems.append(f"{where} : {count} segments, {limit} au plus")
    return problems
