"""French territory: regions, departments, EPCI, communes, read once from shipped CSV."""

from definitions.territory.lookup import Commune, Department, Epci, Territory, load_territory

__all__ = ["Commune", "Department", "Epci", "Territory", "load_territory"]
