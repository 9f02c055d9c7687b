"""Fiches pratiques (convention State–UNCCAS, art. 2): what a CCAS/CIAS can call on
in a mass event, one Markdown file each under a TOML header between ``+++`` lines.
The shipped fiches are read first, then an operator's (``TOCSIN_DEFINITIONS_DIR/
fiches``): a file of the same name replaces the shipped one."""

import re
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pydantic import BaseModel, Field, HttpUrl, ValidationError

from definitions.event_type import EventType
from definitions.validation import describe_errors

SHIPPED_FICHES = Path(__file__).parent / "fiches"
FICHES = "fiches"
FENCE = "+++"
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
FICHES_PATH = "/fiches"


class FicheHeader(BaseModel):
    title: str = Field(min_length=3, max_length=120)
    event_types: list[EventType] = Field(min_length=1)
    audience: str = Field(min_length=3, max_length=200)
    reviewed: date
    """Date of the last review: a fiche not reviewed for a year is flagged."""
    sources: list[HttpUrl] = Field(min_length=1)


class Fiche(BaseModel):
    slug: str
    header: FicheHeader
    body: str = Field(min_length=1)


@dataclass(frozen=True)
class FicheLibrary:
    fiches: dict[str, Fiche]
    problems: list[str]
    """Files that could not be read as fiches: ``tocsin definitions check`` fails on them."""

    def of_type(self, event_type: EventType) -> list[Fiche]:
        return sorted(
            (fiche for fiche in self.fiches.values() if event_type in fiche.header.event_types),
            key=lambda fiche: fiche.header.title,
        )


def fiche_url(public_url: str, slug: str) -> str:
    return f"{public_url.rstrip('/')}{FICHES_PATH}/{slug}"


def fiches_of_type_url(public_url: str, event_type: EventType) -> str:
    return f"{public_url.rstrip('/')}{FICHES_PATH}?type={event_type.value}"


def fiches_block(library: FicheLibrary, event_type: EventType, public_url: str) -> str:
    """The lines an email gives the fiches of a type: each title and its address,
    then the address of them all."""
    lines = [
        f"    - {fiche.header.title} : {fiche_url(public_url, fiche.slug)}"
        for fiche in library.of_type(event_type)
    ]
    lines.append(f"    - Toutes les fiches : {fiches_of_type_url(public_url, event_type)}")
    return "\n".join(lines)


def parse_fiche(slug: str, text: str) -> Fiche:
    """Raises ValueError with a French reason."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != FENCE:
        raise ValueError(f"en-tête absent : la première ligne doit être {FENCE}")
    try:
        end = next(i for i, line in enumerate(lines[1:], 1) if line.strip() == FENCE)
    except StopIteration:
        raise ValueError(f"en-tête non fermé : ligne {FENCE} manquante") from None
    try:
        raw = tomllib.loads("\n".join(lines[1:end]))
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"en-tête TOML illisible ({error})") from error
    try:
        header = FicheHeader.model_validate(raw)
    except ValidationError as error:
        raise ValueError("en-tête : " + " ; ".join(describe_errors(error.errors()))) from error
    body = "\n".join(lines[end + 1 :]).strip()
    if not body:
        raise ValueError("fiche vide après l'en-tête")
    return Fiche(slug=slug, header=header, body=body)


def _files(override_dir: Path | None) -> dict[str, Path]:
    roots = [SHIPPED_FICHES] + ([override_dir / FICHES] if override_dir else [])
    return {path.stem: path for root in roots for path in sorted(root.glob("*.md"))}


def load_fiches(override_dir: Path | None = None) -> FicheLibrary:
    fiches: dict[str, Fiche] = {}
    problems: list[str] = []
    for slug, path in sorted(_files(override_dir).items()):
        if not SLUG_PATTERN.match(slug):
            problems.append(f"{path} : nom de fichier à écrire en minuscules et tirets")
            continue
        try:
            fiches[slug] = parse_fiche(slug, path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as error:
            problems.append(f"{path} : {error}")
    return FicheLibrary(fiches=fiches, problems=problems)
