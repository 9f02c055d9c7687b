"""Loading protocols, templates and fiches: the shipped files, then an operator's
overrides (``TOCSIN_DEFINITIONS_DIR``), merged key by key so that an override
file only needs the values it changes."""

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from definitions.event_type import EventType
from definitions.fiches import FicheLibrary, load_fiches
from definitions.messages import TemplateSet
from definitions.protocol import Protocol
from definitions.validation import describe_errors

SHIPPED_DIR = Path(__file__).parent
PROTOCOLS = "protocols"
TEMPLATES = "templates"
COMMON_TEMPLATES = "common"


class DefinitionsError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Definitions:
    protocols: dict[EventType, Protocol]
    templates: dict[EventType, TemplateSet]
    fiches: FicheLibrary


def _merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _layers(folder: str, name: str, override_dir: Path | None) -> list[Path]:
    roots = [SHIPPED_DIR] + ([override_dir] if override_dir else [])
    return [
        root / folder / f"{name}.toml"
        for root in roots
        if (root / folder / f"{name}.toml").is_file()
    ]


def _unknown_types(override_dir: Path) -> list[str]:
    """Override files named for no event type: each would otherwise change nothing,
    unseen (a protocol written before its type exists, a misspelt name)."""
    known = {event_type.value for event_type in EventType}
    names = {PROTOCOLS: known, TEMPLATES: known | {COMMON_TEMPLATES}}
    return [
        f"{path} : type d'événement inconnu « {path.stem} » (types connus : {', '.join(EventType)})"
        for folder, allowed in names.items()
        for path in sorted((override_dir / folder).glob("*.toml"))
        if path.stem not in allowed
    ]


def _read(paths: list[Path], problems: list[str]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for path in paths:
        try:
            merged = _merge(merged, tomllib.loads(path.read_text(encoding="utf-8")))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            problems.append(f"{path} : TOML illisible ({error})")
    return merged


def _trim_bodies(raw: dict[str, Any]) -> dict[str, Any]:
    """TOML multi-line strings start with a newline that nobody wants in a mail."""
    for template in raw.get("email", {}).values():
        if isinstance(template, dict) and isinstance(template.get("body"), str):
            template["body"] = template["body"].strip("\n")
    return raw


def load_definitions(override_dir: Path | None = None) -> Definitions:
    """Every protocol and template set, validated; raises DefinitionsError listing
    every problem of every file."""
    if override_dir is not None and not override_dir.is_dir():
        raise DefinitionsError([f"{override_dir} : dossier de définitions introuvable"])
    problems = _unknown_types(override_dir) if override_dir is not None else []
    protocols: dict[EventType, Protocol] = {}
    templates: dict[EventType, TemplateSet] = {}
    for event_type in EventType:
        paths = _layers(PROTOCOLS, event_type.value, override_dir)
        if not paths:
            problems.append(f"{PROTOCOLS}/{event_type.value}.toml : protocole manquant")
            continue
        try:
            protocols[event_type] = Protocol.model_validate(_read(paths, problems))
        except ValidationError as error:
            problems += [f"{paths[-1]} : {line}" for line in describe_errors(error.errors())]
        template_paths = _layers(TEMPLATES, COMMON_TEMPLATES, override_dir) + _layers(
            TEMPLATES, event_type.value, override_dir
        )
        try:
            raw = _trim_bodies(_read(template_paths, problems))
            templates[event_type] = TemplateSet.model_validate(raw)
        except ValidationError as error:
            problems += [
                f"modèles de {event_type.value} : {line}"
                for line in describe_errors(error.errors())
            ]
    fiches = load_fiches(override_dir)
    problems += fiches.problems
    if problems:
        raise DefinitionsError(problems)
    return Definitions(protocols=protocols, templates=templates, fiches=fiches)
