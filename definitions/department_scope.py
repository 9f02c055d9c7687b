"""What a departmental union's account reaches: the events whose area touches its
department, and declarations whose whole area lies inside it."""

from definitions.event import EventDeclaration
from definitions.territory.lookup import Territory


def area_departments(communes: list[str], departments: list[str], territory: Territory) -> set[str]:
    """The departments an area touches: those named, and those of its communes."""
    touched = set(departments)
    for code in communes:
        commune = territory.commune(code)
        if commune is not None:
            touched.add(commune.department_code)
    return touched


def declaration_within(
    declaration: EventDeclaration, department: str, territory: Territory
) -> bool:
    """Unknown communes are left to the declaration's own check, which names them."""
    touched = area_departments(declaration.communes, declaration.departments, territory)
    return touched <= {department}
