"""Checking a declared area against the territory, with suggestions for the
mistakes people make at 3 a.m.: a postal code, a commune name, a typo."""

import difflib
from collections.abc import Callable

from definitions.event import EventDeclaration
from definitions.territory.lookup import Commune, Territory, name_key

MAX_SUGGESTIONS = 5


def _named(communes: list[Commune], territory: Territory) -> str:
    shown = [
        f"{commune.name} ({commune.insee_code}, "
        f"{territory.departments[commune.department_code].name})"
        for commune in communes[:MAX_SUGGESTIONS]
    ]
    more = len(communes) - MAX_SUGGESTIONS
    return ", ".join(shown) + (f" et {more} autre(s)" if more > 0 else "")


def _commune_problem(given: str, territory: Territory) -> str:
    by_postal_code = territory.communes_with_postal_code(given)
    if by_postal_code:
        return (
            f"commune {given} : c'est un code postal, pas un code INSEE ; "
            f"code(s) INSEE : {_named(by_postal_code, territory)}"
        )
    by_name = territory.communes_named(given)
    if by_name:
        return (
            f"commune « {given} » : indiquez le code INSEE ; "
            f"code(s) INSEE : {_named(by_name, territory)}"
        )
    close = difflib.get_close_matches(name_key(given), territory.names(), n=3, cutoff=0.85)
    if close:
        candidates = [commune for key in close for commune in territory.communes_named(key)]
        return (
            f"commune « {given} » inconnue ; vouliez-vous dire : {_named(candidates, territory)} ?"
        )
    return f"commune {given} inconnue (code INSEE attendu, par exemple 59350 pour Lille)"


def _department_problem(given: str, territory: Territory) -> str:
    for department in territory.departments.values():
        if name_key(department.name) == name_key(given):
            return f"département « {given} » : indiquez son code ({department.code})"
    return f"département {given} inconnu (code attendu, par exemple 59, 2A ou 974)"


def area_problems(declaration: EventDeclaration, territory: Territory) -> list[str]:
    """One French line per code that names neither a commune nor a department."""
    problems = [
        _commune_problem(code, territory)
        for code in declaration.communes
        if territory.commune(code) is None
    ]
    problems += [
        _department_problem(code, territory)
        for code in declaration.departments
        if territory.department(code) is None
    ]
    return problems


def in_declared_area(declaration: EventDeclaration) -> Callable[[Commune], bool]:
    """Whether a commune lies in the area, for reading the area piece by piece."""
    communes, departments = set(declaration.communes), set(declaration.departments)
    return lambda commune: commune.insee_code in communes or commune.department_code in departments


def affected_communes(declaration: EventDeclaration, territory: Territory) -> list[Commune]:
    """Every commune of the area, once, in INSEE order. Assumes a checked declaration."""
    communes = {code: territory.communes[code] for code in declaration.communes}
    for department in declaration.departments:
        communes.update(
            (commune.insee_code, commune)
            for commune in territory.communes_of_department(department)
        )
    return [communes[code] for code in sorted(communes)]
