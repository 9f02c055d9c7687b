"""Who is territorially competent for an affected area: for each commune its CCAS,
else the CIAS of its EPCI, else nobody (the commune is uncovered and must be
named in the representative's briefing). Each department brings its prefecture
and, where there is one, its UD."""

from collections import Counter, defaultdict

from pydantic import BaseModel

from definitions.directory import Organisation, OrganisationKind
from definitions.territory import Commune, Territory

UNCOVERED_SHOWN = 20
DEPARTMENTS_NAMED = 3


class CompetentOrganisation(BaseModel):
    organisation_id: str
    kind: OrganisationKind
    name: str
    department_code: str
    communes: list[str]


class UncoveredCommune(BaseModel):
    insee_code: str
    name: str
    department_code: str


class DepartmentTerritory(BaseModel):
    code: str
    name: str
    prefecture_commune: str
    prefecture_id: str | None
    ud_id: str | None
    ud_name: str | None
    affected_communes: int
    competent_ccas: int
    competent_cias: int
    uncovered_communes: int


class TerritorySummary(BaseModel):
    """Small enough for a workflow's state, whatever the size of the area."""

    departments: list[DepartmentTerritory]
    affected_communes: int
    competent_ccas: int
    competent_cias: int
    uncovered_communes: int
    uncovered_sample: list[UncoveredCommune]

    def area(self) -> str:
        """``Nord (59), 647 communes`` or ``Nord (59) et 11 autres départements, …``."""
        named = ", ".join(
            f"{dep.name} ({dep.code})" for dep in self.departments[:DEPARTMENTS_NAMED]
        )
        others = len(self.departments) - DEPARTMENTS_NAMED
        if others > 0:
            named += f" et {others} autre(s) département(s)"
        return f"{named}, {self.affected_communes} commune(s)"


class TerritoryResolution(BaseModel):
    departments: list[DepartmentTerritory]
    competent: list[CompetentOrganisation]
    uncovered: list[UncoveredCommune]

    def summary(self) -> TerritorySummary:
        return TerritorySummary(
            departments=self.departments,
            affected_communes=sum(dep.affected_communes for dep in self.departments),
            competent_ccas=sum(dep.competent_ccas for dep in self.departments),
            competent_cias=sum(dep.competent_cias for dep in self.departments),
            uncovered_communes=len(self.uncovered),
            uncovered_sample=self.uncovered[:UNCOVERED_SHOWN],
        )


def _index(
    organisations: list[Organisation], kind: OrganisationKind, key: str
) -> dict[str, Organisation]:
    return {
        getattr(organisation, key): organisation
        for organisation in organisations
        if organisation.kind is kind and getattr(organisation, key)
    }


def resolve_competence(
    communes: list[Commune], organisations: list[Organisation], territory: Territory
) -> TerritoryResolution:
    ccas_by_commune = _index(organisations, OrganisationKind.CCAS, "insee_code")
    cias_by_epci = _index(organisations, OrganisationKind.CIAS, "epci_siren")
    prefectures = _index(organisations, OrganisationKind.PREFECTURE, "department_code")
    uds = _index(organisations, OrganisationKind.UD, "department_code")

    covered: dict[tuple[str, str], list[str]] = defaultdict(list)
    uncovered: list[UncoveredCommune] = []
    affected_by_department: dict[str, int] = defaultdict(int)
    for commune in communes:
        affected_by_department[commune.department_code] += 1
        competent = ccas_by_commune.get(commune.insee_code) or (
            cias_by_epci.get(commune.epci_siren) if commune.epci_siren else None
        )
        if competent is None:
            uncovered.append(
                UncoveredCommune(
                    insee_code=commune.insee_code,
                    name=commune.name,
                    department_code=commune.department_code,
                )
            )
        else:
            covered[(commune.department_code, competent.id)].append(commune.insee_code)

    by_id = {organisation.id: organisation for organisation in organisations}
    competent_list = [
        CompetentOrganisation(
            organisation_id=organisation_id,
            kind=by_id[organisation_id].kind,
            name=by_id[organisation_id].name,
            department_code=department_code,
            communes=codes,
        )
        for (department_code, organisation_id), codes in sorted(covered.items())
    ]
    competent_count = Counter((org.department_code, org.kind) for org in competent_list)
    uncovered_count = Counter(commune.department_code for commune in uncovered)
    departments = []
    for code in sorted(affected_by_department):
        department = territory.departments[code]
        ud = uds.get(code)
        prefecture = prefectures.get(code)
        departments.append(
            DepartmentTerritory(
                code=code,
                name=department.name,
                prefecture_commune=territory.prefecture_commune(code).name,
                prefecture_id=prefecture.id if prefecture else None,
                ud_id=ud.id if ud else None,
                ud_name=ud.name if ud else None,
                affected_communes=affected_by_department[code],
                competent_ccas=competent_count[(code, OrganisationKind.CCAS)],
                competent_cias=competent_count[(code, OrganisationKind.CIAS)],
                uncovered_communes=uncovered_count[code],
            )
        )
    return TerritoryResolution(
        departments=departments, competent=competent_list, uncovered=uncovered
    )
