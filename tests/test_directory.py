"""The crisis directory: CSV import (all or nothing), export, and the demo directory."""

import os
import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from cli.directory import import_files
from definitions.directory import ContactRole, OrganisationKind
from definitions.directory_csv import (
    DirectoryImportError,
    read_directory,
    write_directory,
)
from definitions.territory import Territory, load_territory
from store import directory as stored_directory
from store.database import Store
from tests.conftest import SCRIPTS
from worker.demo_directory import demo_directory
from worker.settings import Settings

ORGANISATIONS = """id,kind,name,insee_code,epci_siren,department_code,email,phone,note
unccas,unccas,UNCCAS,,,,astreinte@example.org,,colonne ignorée
diav,diav,DIAV,,,,diav@example.org,,
prefecture-59,prefecture,Préfecture du Nord,,,59,pref59@example.org,,
ud-59,ud,UD du Nord,,,59,ud59@example.org,06 39 98 00 10,
ccas-59350,ccas,CCAS de Lille,59350,,59,ccas@example.org,+33 6 39 98 00 11,
cias-200093201,cias,CIAS de la MEL,,200093201,59,cias@example.org,,
"""
CONTACTS = """id,organisation_id,name,role,phone,email,roster_rank
rep-1,unccas,Alix Robin,representative,06 39 98 00 01,alix@example.org,1
rep-2,unccas,Sacha Morel,representative,0639980002,,2
staff-1,unccas,Claude Petit,on_call_staff,+33639980003,claude@example.org,
ccas-dir,ccas-59350,Camille Martin,director,06.39.98.00.04,camille@example.org,
"""


@pytest.fixture(scope="module")
def territory() -> Territory:
    return load_territory()


def _files(tmp_path: Path, organisations: str, contacts: str) -> tuple[Path, Path]:
    orgs, people = tmp_path / "organisations.csv", tmp_path / "contacts.csv"
    orgs.write_text(organisations, encoding="utf-8")
    people.write_text(contacts, encoding="utf-8")
    return orgs, people


def _problems(tmp_path: Path, organisations: str, contacts: str) -> list[str]:
    with pytest.raises(DirectoryImportError) as refused:
        read_directory(*_files(tmp_path, organisations, contacts), load_territory())
    return [str(problem) for problem in refused.value.problems]


def test_good_files_are_read_and_normalised(tmp_path: Path, territory: Territory) -> None:
    directory = read_directory(*_files(tmp_path, ORGANISATIONS, CONTACTS), territory)
    kinds = Counter(organisation.kind for organisation in directory.organisations)
    assert kinds[OrganisationKind.CCAS] == 1 and kinds[OrganisationKind.CIAS] == 1
    phones = {contact.id: contact.phone for contact in directory.contacts}
    assert set(phones.values()) == {
        "+33639980001",
        "+33639980002",
        "+33639980003",
        "+33639980004",
    }
    ranks = [c.roster_rank for c in directory.contacts if c.role is ContactRole.REPRESENTATIVE]
    assert ranks == [1, 2]


def test_every_problem_is_reported_with_file_line_and_column(tmp_path: Path) -> None:
    organisations = ORGANISATIONS + (
        "ccas-x,ccas,CCAS sans commune,,,59,x@example.org,,\n"
        "ccas-59350,ccas,Doublon,59350,,59,y@example.org,,\n"
        "ccas-99999,ccas,Commune inconnue,99999,,,z@example.org,,\n"
        "ud-bis,ud,Deuxième UD,,,59,ud@example.org,,\n"
        "cias-1,cias,Mauvais numéro,,200093201,,c@example.org,12,\n"
        "mairie,mairie,Type inconnu,,,,m@example.org,,\n"
    )
    contacts = CONTACTS + (
        "rep-3,unccas,Rang pris,representative,0639980005,,1\n"
        "dir-2,ccas-404,Orpheline,director,0639980006,,\n"
        "dir-3,ccas-59350,Injoignable,director,,,\n"
        "dir-4,ccas-59350,Mauvais mail,director,,pas-un-mail,\n"
        "dir-5,ccas-59350,Rang déplacé,director,0639980007,,3\n"
        "dir-6,mairie,Organisation mal écrite,director,0639980008,,\n"
    )
    assert _problems(tmp_path, organisations, contacts) == [
        "organisations.csv, ligne 8, colonne insee_code : obligatoire pour un(e) ccas",
        "organisations.csv, ligne 9, colonne id : identifiant déjà présent ligne 6",
        "organisations.csv, ligne 9, colonne insee_code : "
        "CCAS de cette commune déjà présent ligne 6",
        "organisations.csv, ligne 10, colonne insee_code : commune inconnue 99999",
        "organisations.csv, ligne 11, colonne department_code : "
        "UD de ce département déjà présent ligne 5",
        "organisations.csv, ligne 12, colonne phone : "
        "numéro de téléphone invalide « 12 » (ex. 06 39 98 00 01)",
        "organisations.csv, ligne 13, colonne kind : valeur inconnue « mairie » ; "
        "valeurs admises : 'unccas', 'diav', 'prefecture', 'ud', 'departement', 'ccas', 'cias'",
        "contacts.csv, ligne 6, colonne roster_rank : rang d'astreinte déjà présent ligne 2",
        "contacts.csv, ligne 7, colonne organisation_id : organisation inconnue ccas-404",
        "contacts.csv, ligne 8, colonne phone : ni téléphone ni email : injoignable",
        "contacts.csv, ligne 9, colonne email : adresse email invalide « pas-un-mail »",
        "contacts.csv, ligne 10, colonne roster_rank : réservé aux contacts de rôle representative",
    ]


def test_unreadable_files_are_refused(tmp_path: Path) -> None:
    assert _problems(tmp_path, "id,kind\nx,ccas\n", CONTACTS) == [
        "organisations.csv, ligne 1 : colonne(s) manquante(s) : "
        "name, insee_code, epci_siren, department_code, email, phone"
    ]
    assert _problems(tmp_path, "", CONTACTS) == ["organisations.csv, ligne 1 : fichier vide"]
    orgs, people = _files(tmp_path, ORGANISATIONS, CONTACTS)
    orgs.write_bytes(ORGANISATIONS.encode("utf-8") + b"ccas-1,ccas,CCAS \xe9,59350,,,,,\n")
    with pytest.raises(DirectoryImportError) as refused:
        read_directory(orgs, people, load_territory())
    assert [str(p) for p in refused.value.problems] == [
        "organisations.csv, ligne 8 : fichier non UTF-8 (caractère illisible)"
    ]


def test_a_refused_import_leaves_the_directory_as_it_was(tmp_path: Path, store: Store) -> None:
    settings = Settings(database_url=store.url, state_dir=tmp_path)
    good = import_files(settings, *_files(tmp_path, ORGANISATIONS, CONTACTS))
    more = "ccas-59009,ccas,CCAS de Villeneuve-d'Ascq,59009,,59,v@example.org,,\n"
    orphan = "x,nowhere,X,director,0639980009,,\n"
    with pytest.raises(DirectoryImportError):
        import_files(settings, *_files(tmp_path, ORGANISATIONS + more, CONTACTS + orphan))
    with store.session() as session:
        kept = stored_directory.read_directory(session)
    assert {o.id for o in kept.organisations} == {o.id for o in good.organisations}
    assert {c.id for c in kept.contacts} == {c.id for c in good.contacts}


def test_cli_import_lists_problems_and_exits_2(tmp_path: Path) -> None:
    orgs, people = _files(tmp_path, ORGANISATIONS, CONTACTS + "x,nowhere,X,director,,,\n")
    env = {**os.environ, "TOCSIN_STATE_DIR": str(tmp_path / "state")}
    result = subprocess.run(
        [str(SCRIPTS / "tocsin"), "directory", "import", str(orgs), str(people)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "Import refusé, annuaire inchangé (2 problème(s) dans l'annuaire)" in result.stderr
    assert "contacts.csv, ligne 6, colonne organisation_id : organisation inconnue nowhere" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr


def test_export_then_import_gives_the_same_directory(
    tmp_path: Path, store: Store, territory: Territory
) -> None:
    imported = read_directory(*_files(tmp_path, ORGANISATIONS, CONTACTS), territory)
    with store.session() as session:
        stored_directory.replace_directory(session, imported)
        session.commit()
        exported = stored_directory.read_directory(session)
    out = tmp_path / "export"
    out.mkdir()
    write_directory(exported, out / "organisations.csv", out / "contacts.csv")
    again = read_directory(out / "organisations.csv", out / "contacts.csv", territory)
    assert again == exported
    assert {o.id for o in again.organisations} == {o.id for o in imported.organisations}


def test_demo_directory_is_national_deterministic_and_fictional(
    tmp_path: Path, territory: Territory
) -> None:
    first, second = demo_directory(territory), demo_directory(territory)
    assert first == second
    kinds = Counter(organisation.kind for organisation in first.organisations)
    assert kinds[OrganisationKind.CCAS] == sum(
        1
        for commune in territory.communes.values()
        if (commune.population or 0) >= 3000 or commune.department_code.startswith("97")
    )
    assert 350 <= kinds[OrganisationKind.CIAS] <= 450
    assert 65 <= kinds[OrganisationKind.UD] <= 75
    assert kinds[OrganisationKind.PREFECTURE] == 101
    assert kinds[OrganisationKind.DIAV] == kinds[OrganisationKind.UNCCAS] == 1
    assert 3_900 <= kinds[OrganisationKind.CCAS] + kinds[OrganisationKind.CIAS] <= 4_200
    fiction = re.compile(r"^\+33639 ?98\d{4}$".replace(" ?", ""))
    people = first.contacts
    assert all(contact.phone and fiction.match(contact.phone) for contact in people)
    emails = [c.email for c in people] + [o.email for o in first.organisations]
    assert all(email and email.endswith("@example.org") for email in emails)
    ranks = [c.roster_rank for c in people if c.role is ContactRole.REPRESENTATIVE]
    roster = sorted(rank for rank in ranks if rank is not None)
    assert roster == list(range(1, len(ranks) + 1)) and len(roster) >= 5
    write_directory(first, tmp_path / "o.csv", tmp_path / "c.csv")
    assert read_directory(tmp_path / "o.csv", tmp_path / "c.csv", territory) == first
