"""The fiches pratiques: the shipped ones sound and recent, an operator's override
checked like protocols, and every fiche readable at /fiches without an account."""

import os
import subprocess
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import httpx
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from definitions.definitions_check import check_definitions
from definitions.event_type import EventType
from definitions.fiches import load_fiches
from definitions.loader import DefinitionsError, load_definitions
from gateway.app import create_app
from store.database import Store
from tests.conftest import SCRIPTS

ISSUE_SCHEMES = {
    "secours-extreme-urgence",
    "hebergement-urgence-relogement",
    "cump",
    "france-victimes-116006",
    "fgti",
    "catnat-assurances",
    "centre-accueil-familles",
    "clav",
}


def _fiche(folder: Path, slug: str, *, reviewed: str = "2026-11-02", body: str = "Texte.") -> None:
    (folder / "fiches").mkdir(parents=True, exist_ok=True)
    (folder / "fiches" / f"{slug}.md").write_text(
        "+++\n"
        'title = "Cellule locale"\n'
        'event_types = ["inondation"]\n'
        'audience = "CCAS"\n'
        f"reviewed = {reviewed}\n"
        'sources = ["https://www.legifrance.gouv.fr"]\n'
        f"+++\n{body}\n",
        encoding="utf-8",
    )


def test_the_shipped_fiches_cover_the_convention_and_pass_the_check() -> None:
    definitions = load_definitions()
    library = definitions.fiches
    assert set(library.fiches) == ISSUE_SCHEMES
    report = check_definitions(definitions, today=date(2026, 12, 7))
    assert report.problems == [] and report.warnings == [] and report.fiches == 8
    flood = [fiche.slug for fiche in library.of_type(EventType.INONDATION)]
    assert "catnat-assurances" in flood and "fgti" not in flood
    assert "fgti" in [fiche.slug for fiche in library.of_type(EventType.ATTENTAT)]
    for fiche in library.fiches.values():
        assert all(str(source).startswith("https://") for source in fiche.header.sources)
    later = check_definitions(definitions, today=date(2028, 1, 1))
    assert len(later.warnings) == 8 and "il y a plus d'un an" in later.warnings[0]


def test_an_override_replaces_a_fiche_and_bad_ones_are_refused(tmp_path: Path) -> None:
    _fiche(tmp_path, "cump", body="Voir [la CLAV](/fiches/clav) et [ailleurs](/fiches/rien).")
    report = check_definitions(load_definitions(tmp_path), today=date(2026, 12, 7))
    assert load_fiches(tmp_path).fiches["cump"].header.title == "Cellule locale"
    assert report.problems == [
        "fiche cump : lien « /fiches/rien » vers une fiche inconnue ou une adresse incomplète"
    ]
    (tmp_path / "fiches" / "sans-entete.md").write_text("# Titre\n", encoding="utf-8")
    _fiche(tmp_path, "mauvais-type", body="x")
    text = (tmp_path / "fiches" / "mauvais-type.md").read_text(encoding="utf-8")
    (tmp_path / "fiches" / "mauvais-type.md").write_text(
        text.replace('"inondation"', '"volcan"'), encoding="utf-8"
    )
    try:
        load_definitions(tmp_path)
    except DefinitionsError as error:
        problems = "\n".join(error.problems)
    else:
        raise AssertionError("broken fiches were accepted")
    assert "sans-entete.md : en-tête absent" in problems
    assert "mauvais-type.md : en-tête : event_types.0 : valeur inconnue « volcan »" in problems


def test_the_cli_check_counts_fiches_and_flags_an_old_review(tmp_path: Path) -> None:
    _fiche(tmp_path, "cellule-locale", reviewed="2020-03-01")
    checked = subprocess.run(
        [str(SCRIPTS / "tocsin"), "definitions", "check"],
        env={**os.environ, "TOCSIN_DEFINITIONS_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    assert "9 fiche(s) pratique(s), 1 à relire." in checked.stdout
    assert "fiche cellule-locale : relue le 01/03/2020" in checked.stdout


@pytest_asyncio.fixture(loop_scope="session")
async def gateway(dev_env: WorkflowEnvironment, store: Store) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(dev_env.client, store, "unused"))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client


async def test_fiches_are_served_by_event_type_without_an_account(
    gateway: httpx.AsyncClient,
) -> None:
    flood = await gateway.get("/fiches", params={"type": "inondation"})
    assert flood.status_code == 200
    assert "Catastrophe naturelle (CatNat), tempête et délais d&#39;assurance" in flood.text
    assert "/fiches/fgti" not in flood.text
    everything = await gateway.get("/fiches")
    assert 'id="attentat"' in everything.text and "/fiches/fgti" in everything.text

    fiche = await gateway.get("/fiches/france-victimes-116006")
    assert fiche.status_code == 200
    assert "<strong>116 006</strong>" in fiche.text
    assert "https://www.france-victimes.fr" in fiche.text and "Relue le 07/12/2026" in fiche.text
    assert (await gateway.get("/fiches/inconnue")).status_code == 404

    listed = (await gateway.get("/api/fiches", params={"type": "attentat"})).json()
    assert "fgti" in [fiche["slug"] for fiche in listed]
    assert {fiche["path"] for fiche in listed} >= {"/fiches/fgti", "/fiches/clav"}
