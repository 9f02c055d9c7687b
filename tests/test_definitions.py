"""Protocols and message templates: shipped ones checked, overrides applied,
rendering strict, SMS costs counted the way operators pay them."""

import json
import os
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from definitions.definitions_check import check_definitions
from definitions.durations import format_duration, parse_duration
from definitions.event_type import EventType
from definitions.gsm7 import Encoding, segments, to_gsm7
from definitions.loader import DefinitionsError, load_definitions
from definitions.messages import (
    STEPS,
    MessageRenderError,
    MessageStep,
    render_email,
    render_sms,
)
from definitions.outgoing import Channel
from tests.conftest import SCRIPTS


def _override(tmp_path: Path, folder: str, name: str, text: str) -> Path:
    (tmp_path / folder).mkdir(parents=True, exist_ok=True)
    (tmp_path / folder / f"{name}.toml").write_text(text, encoding="utf-8")
    return tmp_path


def test_every_shipped_protocol_and_template_passes_the_check() -> None:
    definitions = load_definitions()
    assert set(definitions.protocols) == set(EventType)
    report = check_definitions(definitions)
    assert report.problems == []
    sms_steps = [step for step, spec in STEPS.items() if Channel.SMS in spec.channels]
    assert len(report.sms) == len(EventType) * len(sms_steps)
    assert all(sms.encoding is Encoding.GSM7 for sms in report.sms)
    assert all(sms.segments <= sms.limit for sms in report.sms)


def test_shipped_delays_fit_the_pace_of_a_crisis() -> None:
    protocols = load_definitions().protocols
    attack = protocols[EventType.ATTENTAT]
    assert attack.designation.answer_deadline <= timedelta(minutes=15)
    assert timedelta(hours=1) <= attack.mobilisation.reminder_after <= timedelta(hours=4)
    assert timedelta(days=80) <= attack.committee.checkpoint_every <= timedelta(days=95)
    assert all(len(protocol.questions) >= 5 for protocol in protocols.values())


def test_an_override_changes_only_the_values_it_names(tmp_path: Path) -> None:
    folder = _override(
        tmp_path, "protocols", "inondation", '[designation]\nanswer_deadline = "2s"\n'
    )
    protocol = load_definitions(folder).protocols[EventType.INONDATION]
    assert protocol.designation.answer_deadline == timedelta(seconds=2)
    assert protocol.designation.round_pause == timedelta(minutes=10)
    untouched = load_definitions(folder).protocols[EventType.ATTENTAT]
    assert untouched.designation.answer_deadline == timedelta(minutes=10)


def test_broken_overrides_are_refused_with_every_problem(tmp_path: Path) -> None:
    _override(tmp_path, "protocols", "tempete", '[designation]\nanswer_deadline = "bientôt"\n')
    _override(tmp_path, "protocols", "canicule", 'sms_label = "CANICULE"\ncolour = "orange"\n')
    _override(tmp_path, "protocols", "attentat", "max_sms_segments = [\n")
    with pytest.raises(DefinitionsError) as refused:
        load_definitions(tmp_path)
    problems = "\n".join(refused.value.problems)
    assert "attentat.toml : TOML illisible" in problems
    assert "tempete.toml : designation.answer_deadline : valeur invalide « bientôt »" in problems
    assert "canicule.toml : colour" in problems


def test_an_override_for_an_unknown_event_type_is_refused(tmp_path: Path) -> None:
    """A file meant for a type that does not exist yet would otherwise change nothing,
    unseen: the operator learns which file at start."""
    _override(tmp_path, "protocols", "seisme", '[designation]\nanswer_deadline = "5min"\n')
    _override(tmp_path, "templates", "volcan", '[sms]\nsupport_reminder = "$header"\n')
    _override(tmp_path, "templates", "common", "# les modèles de tous les types\n")
    with pytest.raises(DefinitionsError) as refused:
        load_definitions(tmp_path)
    known = ", ".join(EventType)
    assert refused.value.problems == [
        f"{tmp_path / 'protocols' / 'seisme.toml'} : type d'événement inconnu « seisme » "
        f"(types connus : {known})",
        f"{tmp_path / 'templates' / 'volcan.toml'} : type d'événement inconnu « volcan » "
        f"(types connus : {known})",
    ]


def test_the_check_catches_bad_templates(tmp_path: Path) -> None:
    _override(
        tmp_path,
        "templates",
        "inondation",
        "[sms]\n"
        'support_reminder = "$header : êtes-vous mobilisés ? OK $code"\n'
        'situation_report = "$header : $rapport"\n'
        f'meeting_reminder = "$header : {"rappel " * 80}$meeting"\n',
    )
    report = check_definitions(load_definitions(tmp_path))
    assert report.problems == [
        "inondation/support_reminder (SMS) : hors GSM-7 (ê), passe en UCS-2",
        "inondation/situation_report (SMS) : variable(s) inconnue(s) rapport",
        "inondation/meeting_reminder (SMS) : 5 segments, 3 au plus",
    ]


def test_the_cli_check_fails_on_a_bad_override(tmp_path: Path) -> None:
    _override(tmp_path, "templates", "common", '[sms]\nsupport_reminder = "ça ?"\n')
    env = {**os.environ, "TOCSIN_DEFINITIONS_DIR": str(tmp_path)}
    tocsin = str(SCRIPTS / "tocsin")
    bad = subprocess.run(
        [tocsin, "definitions", "check"], env=env, capture_output=True, text=True, check=False
    )
    assert bad.returncode == 1
    assert "support_reminder (SMS) : hors GSM-7 (ç)" in bad.stderr
    good = subprocess.run(
        [tocsin, "definitions", "check"], capture_output=True, text=True, check=False
    )
    assert good.returncode == 0, good.stderr
    assert "attentat             support_request          GSM-7" in good.stdout
    assert "0 problème(s)" in good.stdout


def test_the_cli_check_as_json_holds_each_sms_and_problem(tmp_path: Path) -> None:
    _override(tmp_path, "templates", "common", '[sms]\nsupport_reminder = "ça ?"\n')
    bad = CliRunner().invoke(
        app, ["definitions", "check", "--json"], env={"TOCSIN_DEFINITIONS_DIR": str(tmp_path)}
    )
    assert bad.exit_code == 1
    problems = json.loads(bad.stdout)["problems"]
    assert any("support_reminder (SMS) : hors GSM-7 (ç)" in problem for problem in problems)
    good = CliRunner().invoke(
        app, ["definitions", "check", "--json"], env={"TOCSIN_DEFINITIONS_DIR": None}
    )
    assert good.exit_code == 0, good.output
    report = json.loads(good.stdout)
    assert report["problems"] == [] and report["fiches"] > 0
    assert {
        "event_type": "attentat",
        "step": "support_request",
        "encoding": "GSM-7",
    }.items() <= next(
        sms
        for sms in report["sms"]
        if (sms["event_type"], sms["step"]) == ("attentat", "support_request")
    ).items()


def test_rendering_is_strict_and_marks_drills() -> None:
    templates = load_definitions().templates[EventType.TEMPETE]
    values = {
        "header": "UNCCAS - TEMPETE Côte-d'Or (21)",
        "title": "Tempête sur Besançon",
        "event_id": "tempete-20261122-k3f9",
        "code": "4821",
    }
    sms = render_sms(templates, MessageStep.SUPPORT_REMINDER, values, exercise=True)
    assert sms.startswith("EXERCICE EXERCICE EXERCICE UNCCAS - TEMPETE Cote-d'Or (21) : rappel.")
    assert "OK 4821" in sms and segments(sms)[0] is Encoding.GSM7
    real = render_sms(templates, MessageStep.SUPPORT_REMINDER, values, exercise=False)
    assert real.startswith("UNCCAS - TEMPETE")
    with pytest.raises(MessageRenderError, match="code"):
        render_sms(
            templates,
            MessageStep.SUPPORT_REMINDER,
            {k: v for k, v in values.items() if k != "code"},
            exercise=False,
        )
    mail = render_email(
        templates,
        MessageStep.REVIEW_QUESTIONNAIRE,
        {
            **values,
            "round": "débriefing à chaud",
            "deadline": "23/12",
            "form_url": "http://127.0.0.1/q/x",
        },
        exercise=True,
    )
    assert mail.subject.startswith("EXERCICE EXERCICE EXERCICE - UNCCAS - TEMPETE")
    assert "« Tempête sur Besançon » est clos" in mail.body
    assert mail.body.startswith("EXERCICE EXERCICE EXERCICE\n\nBonjour,")


def test_sms_segments_are_counted_as_operators_bill_them() -> None:
    assert segments("a" * 160) == (Encoding.GSM7, 1)
    assert segments("a" * 161) == (Encoding.GSM7, 2)
    assert segments("a" * 306) == (Encoding.GSM7, 2)
    assert segments("€" * 80) == (Encoding.GSM7, 1)
    assert segments("€" * 81) == (Encoding.GSM7, 2)
    assert segments("é" * 160) == (Encoding.GSM7, 1)
    assert segments("ê" * 70) == (Encoding.UCS2, 1)
    assert segments("ê" * 71) == (Encoding.UCS2, 2)
    assert to_gsm7("Tempête à Besançon, Œuvre « cœur »") == 'Tempete à Besancon, OEuvre " coeur "'


def test_durations_read_as_staff_write_them() -> None:
    assert parse_duration("1h30min") == timedelta(minutes=90)
    assert parse_duration("13sem") == timedelta(weeks=13)
    assert parse_duration("2j") == timedelta(days=2)
    assert parse_duration("PT15M") == "PT15M"
    assert format_duration(timedelta(minutes=90)) == "1h30min"
    assert format_duration(timedelta(0)) == "0s"


def test_cyclone_levels_are_data_and_each_leaves_as_a_checked_sms(tmp_path: Path) -> None:
    """Each zone's prefecture publishes its levels; their instructions reach the
    centres by SMS, so the check renders each one as the situation report it becomes."""
    cyclone = load_definitions().protocols[EventType.CYCLONE]
    indian_ocean = cyclone.alert_zone(["976"])
    antilles = cyclone.alert_zone(["971"])
    assert indian_ocean is not None and antilles is not None
    assert [level.label for level in indian_ocean.levels] == [
        "pré-alerte",
        "alerte orange",
        "alerte rouge",
        "alerte violette",
        "phase de sauvegarde",
    ]
    assert antilles.levels[-1].label == "vigilance grise"
    assert cyclone.alert_zone(["59"]) is None
    assert cyclone.designation.answer_deadline >= timedelta(hours=1), "announced days ahead"
    _override(
        tmp_path,
        "protocols",
        "cyclone",
        'max_sms_segments = 2\n[[alert_zones]]\nname = "Mayotte"\ndepartments = ["976"]\n'
        '[[alert_zones.levels]]\nid = "pre_alerte"\nlabel = "pré-alerte"\n'
        'instructions = "Fermez portes et volets."\n'
        '[[alert_zones.levels]]\nid = "alerte_rouge"\nlabel = "alerte rouge"\n'
        f'instructions = "Restez à l\'abri. {"Confinement. " * 21}"\n',
    )
    problems = check_definitions(load_definitions(tmp_path)).problems
    assert [problem for problem in problems if "/niveau " in problem] == [
        "cyclone/niveau alerte_rouge (SMS) : 3 segments, 2 au plus",
    ]
