"""What a department's mobilisation reads from the directory: the centres it must
mobilise, and the nearest centres to ask for reinforcement.

A CIAS whose EPCI straddles departments is mobilised once, by the department it
belongs to when it is competent there, else by the first other one.
"""

from collections import defaultdict
from collections.abc import Callable

import structlog
from sqlmodel import Session
from temporalio import activity

from activities.people import organisation_person, people_of
from definitions.competence import resolve_competence
from definitions.directory import ContactRole, Organisation
from definitions.event import EventDeclaration
from definitions.mobilisation import (
    NeighboursRequest,
    ReinforcementOffer,
    SupportTarget,
    TargetsRequest,
)
from definitions.people import Person
from definitions.temporal_names import LOAD_NEIGHBOURS, LOAD_SUPPORT_TARGETS
from definitions.territory import Commune, Territory, load_territory
from definitions.territory.declared_area import in_declared_area
from store import directory
from store.database import Store

log = structlog.get_logger(__name__)

ROLE_ORDER = {ContactRole.DIRECTOR: 0, ContactRole.DEPUTY: 1}


def _competent_here(
    session: Session, declaration: EventDeclaration, department_code: str, territory: Territory
) -> dict[str, Organisation]:
    """Centres competent for the declared area that this department mobilises."""
    epcis, related = _affected_around(declaration, department_code, territory)
    centres = directory.centres_of(session, {commune.insee_code for commune in related}, epcis)
    by_id = {centre.id: centre for centre in centres}
    departments: dict[str, set[str]] = defaultdict(set)
    for competent in resolve_competence(related, centres, territory).competent:
        departments[competent.organisation_id].add(competent.department_code)
    return {
        organisation_id: by_id[organisation_id]
        for organisation_id, codes in departments.items()
        if department_code in codes and _home(by_id[organisation_id], codes) == department_code
    }


def _affected_around(
    declaration: EventDeclaration, department_code: str, territory: Territory
) -> tuple[set[str], list[Commune]]:
    """The affected communes of the department and of the EPCIs reaching into it,
    with those EPCIs; read from the department, not from the whole declared area,
    which for a national event is every commune of France, once per department."""
    affected = in_declared_area(declaration)
    here = [c for c in territory.communes_of_department(department_code) if affected(c)]
    epcis = {commune.epci_siren for commune in here if commune.epci_siren}
    related = {commune.insee_code: commune for commune in here}
    for epci in epcis:
        related.update(
            (commune.insee_code, commune)
            for commune in territory.communes_of_epci(epci)
            if affected(commune)
        )
    return epcis, [related[code] for code in sorted(related)]


def _home(organisation: Organisation, departments: set[str]) -> str:
    own = organisation.department_code
    return own if own in departments else min(departments)


def _recipients(
    session: Session, organisations: list[Organisation], roles: set[ContactRole]
) -> dict[str, list[Person]]:
    by_id = {organisation.id: organisation for organisation in organisations}
    contacts = sorted(
        (c for c in directory.contacts_of(session, list(by_id)) if c.role in roles),
        key=lambda contact: ROLE_ORDER[contact.role],
    )
    people: dict[str, list[Person]] = defaultdict(list)
    for person in people_of(session, contacts, by_id):
        people[person.organisation_id].append(person)
    return {
        organisation.id: people.get(organisation.id) or [organisation_person(session, organisation)]
        for organisation in organisations
    }


def _location(organisation: Organisation, territory: Territory) -> Commune | None:
    """A CCAS's town hall; for a CIAS, that of its EPCI's most populous commune."""
    if organisation.insee_code:
        return territory.commune(organisation.insee_code)
    if organisation.epci_siren:
        members = territory.communes_of_epci(organisation.epci_siren)
        return max(members, key=lambda commune: commune.population or 0, default=None)
    return None


class MobilisationTargetActivities:
    def __init__(self, store: Store) -> None:
        self._store = store

    @activity.defn(name=LOAD_SUPPORT_TARGETS)
    def load_support_targets(self, request: TargetsRequest) -> list[SupportTarget]:
        territory = load_territory()
        code = request.department_code
        with self._store.session() as session:
            competent = _competent_here(session, request.declaration, code, territory)
            if request.previous is not None:
                before = _competent_here(session, request.previous, code, territory)
                competent = {key: value for key, value in competent.items() if key not in before}
            roles = {ContactRole.DIRECTOR} | ({ContactRole.DEPUTY} if request.ask_deputy else set())
            organisations = sorted(competent.values(), key=lambda organisation: organisation.name)
            recipients = _recipients(session, organisations, roles)
        log.info("mobilisation.targets", department=code, centres=len(organisations))
        return [
            SupportTarget(
                organisation_id=organisation.id,
                kind=organisation.kind,
                name=organisation.name,
                recipients=recipients[organisation.id],
            )
            for organisation in organisations
        ]

    @activity.defn(name=LOAD_NEIGHBOURS)
    def load_neighbours(self, request: NeighboursRequest) -> list[ReinforcementOffer]:
        """The CCAS of the same department nearest to the one in need, by town hall."""
        territory = load_territory()
        with self._store.session() as session:
            needy = directory.organisation(session, request.organisation_id)
            origin = _location(needy, territory) if needy else None
            if origin is None:
                return []
            excluded = {request.organisation_id, *request.excluded}
            distances: list[tuple[float, Organisation]] = []
            communes = territory.communes_of_department(request.department_code)
            for centre in directory.centres_of(
                session, {commune.insee_code for commune in communes}, set()
            ):
                place = _location(centre, territory)
                distance = territory.distance_km(origin, place) if place else None
                if centre.id not in excluded and distance is not None:
                    distances.append((distance, centre))
            nearest = sorted(distances, key=lambda pair: pair[0])[: request.count]
            directors = _recipients(
                session, [centre for _, centre in nearest], {ContactRole.DIRECTOR}
            )
        return [
            ReinforcementOffer(
                organisation_id=centre.id,
                name=centre.name,
                distance_km=round(distance, 1),
                director=directors[centre.id][0],
            )
            for distance, centre in nearest
        ]

    @property
    def all(self) -> list[Callable[..., object]]:
        return [self.load_support_targets, self.load_neighbours]
