"""What ``tocsin definitions check`` says of the fiches: every link leads somewhere
(a web address, or another fiche of the library), and a fiche whose last review is
more than a year old is flagged, since the schemes it describes change."""

import re
from datetime import date, timedelta

from definitions.fiches import FICHES_PATH, FicheLibrary

REVIEW_EVERY = timedelta(days=365)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)[^)]*\)")


def _link_problem(slug: str, target: str, library: FicheLibrary) -> str | None:
    if target.startswith(("https://", "http://", "mailto:", "tel:")):
        return None
    linked = target.removeprefix(f"{FICHES_PATH}/")
    if linked in library.fiches:
        return None
    return f"fiche {slug} : lien « {target} » vers une fiche inconnue ou une adresse incomplète"


def fiche_problems(library: FicheLibrary) -> list[str]:
    return [
        problem
        for slug, fiche in sorted(library.fiches.items())
        for target in LINK.findall(fiche.body)
        if (problem := _link_problem(slug, target, library)) is not None
    ]


def fiche_warnings(library: FicheLibrary, today: date) -> list[str]:
    return [
        f"fiche {slug} : relue le {fiche.header.reviewed.strftime('%d/%m/%Y')}, "
        "il y a plus d'un an : à relire"
        for slug, fiche in sorted(library.fiches.items())
        if today - fiche.header.reviewed > REVIEW_EVERY
    ]
