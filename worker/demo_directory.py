"""A fictional national crisis directory shaped like the real network, for demos
and tests: same every time, phones only in the range ARCEP reserves for fiction
(+33 6 39 98 xx xx), emails only at example.org.

Every commune of the overseas departments has its CCAS (Mayotte's have no population
figure in the territory data). Their contacts too have numbers of the metropolitan
fiction range, written in international form: ARCEP reserves no fiction range in the
overseas numbering plans."""

from collections.abc import Iterator
from itertools import count

from definitions.directory import (
    Contact,
    ContactRole,
    Directory,
    Organisation,
    OrganisationKind,
)
from definitions.territory import Territory

CCAS_MIN_POPULATION = 3000
OVERSEAS_PREFIX = "97"
DEPUTY_MIN_POPULATION = 20_000
CIAS_EVERY_NTH_EPCI = 3
DEPARTMENTS_WITHOUT_UD = (3, 7, 9)
ON_CALL_STAFF = 4
REPRESENTATIVES = 8
FICTION_RANGE = 10_000

FIRST_NAMES = (
    "Camille Dominique Claude Alix Sacha Morgane Yannick Maxime Hélène Nadia Karim Sophie "
    "Julien Léa Thomas Inès Mathieu Élodie Antoine Fatima Pierre Chloé Nicolas Manon Olivier "
    "Laure Samir Agnès Bruno Céline"
).split()
LAST_NAMES = (
    "Martin Bernard Dubois Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefebvre "
    "Michel Garcia David Bertrand Roux Vincent Fournier Morel Girard André Mercier Dupont "
    "Lambert Bonnet François Martinez Legrand Garnier Faure Rousseau Blanc Guérin Muller Henry "
    "Roussel Perrin Morin Clément Gauthier Dumont Lopez Fontaine Chevalier Robin Masson Renaud "
    "Lemaire Noël"
).split()


class _People:
    """Hands out fictional names, phones and emails in a fixed order."""

    def __init__(self) -> None:
        self._serial = count()

    def contact(
        self, organisation_id: str, suffix: str, role: ContactRole, rank: int | None = None
    ) -> Contact:
        serial = next(self._serial)
        first = FIRST_NAMES[serial % len(FIRST_NAMES)]
        last = LAST_NAMES[(serial // len(FIRST_NAMES)) % len(LAST_NAMES)]
        contact_id = f"{organisation_id}-{suffix}"
        return Contact(
            id=contact_id,
            organisation_id=organisation_id,
            name=f"{first} {last}",
            role=role,
            phone=fiction_phone(serial),
            email=f"{contact_id}@example.org",
            roster_rank=rank,
        )


def fiction_phone(serial: int) -> str:
    """One number may serve several contacts once the 10,000 numbers run out."""
    return f"+3363998{serial % FICTION_RANGE:04d}"


def _of(name: str) -> str:
    """French elision and contraction: de Lille, d'Arras, du Havre, des Abymes."""
    if name.startswith("Le "):
        return f"du {name[3:]}"
    if name.startswith("Les "):
        return f"des {name[4:]}"
    if name[0].upper() in "AEIOUYÉÈÊÂÎÔ":
        return f"d'{name}"
    return f"de {name}"


def _organisation(
    organisation_id: str, kind: OrganisationKind, name: str, **codes: str | None
) -> Organisation:
    return Organisation(
        id=organisation_id, kind=kind, name=name, email=f"{organisation_id}@example.org", **codes
    )


def _national(people: _People) -> Iterator[tuple[Organisation, list[Contact]]]:
    unccas = _organisation("unccas", OrganisationKind.UNCCAS, "UNCCAS")
    staff = [
        people.contact("unccas", f"astreinte-{n}", ContactRole.ON_CALL_STAFF)
        for n in range(1, ON_CALL_STAFF + 1)
    ]
    roster = [
        people.contact("unccas", f"representant-{n}", ContactRole.REPRESENTATIVE, rank=n)
        for n in range(1, REPRESENTATIVES + 1)
    ]
    yield unccas, staff + roster
    diav = _organisation(
        "diav", OrganisationKind.DIAV, "Délégation interministérielle à l'aide aux victimes"
    )
    yield diav, [people.contact("diav", "permanence", ContactRole.OFFICER)]


def _departmental(
    territory: Territory, people: _People
) -> Iterator[tuple[Organisation, list[Contact]]]:
    for index, department in enumerate(
        sorted(territory.departments.values(), key=lambda d: d.code)
    ):
        label = f"{department.name} ({department.code})"
        prefecture_id = f"prefecture-{department.code}"
        yield (
            _organisation(
                prefecture_id,
                OrganisationKind.PREFECTURE,
                f"Préfecture - {label}",
                department_code=department.code,
            ),
            [people.contact(prefecture_id, "cabinet", ContactRole.OFFICER)],
        )
        if index % 10 not in DEPARTMENTS_WITHOUT_UD:
            ud_id = f"ud-{department.code}"
            yield (
                _organisation(
                    ud_id,
                    OrganisationKind.UD,
                    f"Union départementale des CCAS - {label}",
                    department_code=department.code,
                ),
                [people.contact(ud_id, "presidence", ContactRole.PRESIDENT)],
            )


def _local(territory: Territory, people: _People) -> Iterator[tuple[Organisation, list[Contact]]]:
    with_ccas = set()
    for commune in sorted(territory.communes.values(), key=lambda c: c.insee_code):
        overseas = commune.department_code.startswith(OVERSEAS_PREFIX)
        if (commune.population or 0) < CCAS_MIN_POPULATION and not overseas:
            continue
        with_ccas.add(commune.insee_code)
        ccas_id = f"ccas-{commune.insee_code}"
        contacts = [people.contact(ccas_id, "direction", ContactRole.DIRECTOR)]
        if (commune.population or 0) >= DEPUTY_MIN_POPULATION:
            contacts.append(people.contact(ccas_id, "adjoint", ContactRole.DEPUTY))
        yield (
            _organisation(
                ccas_id,
                OrganisationKind.CCAS,
                f"CCAS {_of(commune.name)}",
                insee_code=commune.insee_code,
                department_code=commune.department_code,
            ),
            contacts,
        )
    for index, siren in enumerate(sorted(territory.epcis)):
        members = territory.communes_of_epci(siren)
        uncovered = [commune for commune in members if commune.insee_code not in with_ccas]
        if index % CIAS_EVERY_NTH_EPCI or not uncovered:
            continue
        cias_id = f"cias-{siren}"
        yield (
            _organisation(
                cias_id,
                OrganisationKind.CIAS,
                f"CIAS {territory.epcis[siren].name}",
                epci_siren=siren,
                department_code=uncovered[0].department_code,
            ),
            [people.contact(cias_id, "direction", ContactRole.DIRECTOR)],
        )


def demo_directory(territory: Territory) -> Directory:
    people = _People()
    organisations: list[Organisation] = []
    contacts: list[Contact] = []
    for part in (_national(people), _departmental(territory, people), _local(territory, people)):
        for organisation, members in part:
            organisations.append(organisation)
            contacts.extend(members)
    return Directory(
        organisations=sorted(organisations, key=lambda organisation: organisation.id),
        contacts=sorted(contacts, key=lambda contact: contact.id),
    )
