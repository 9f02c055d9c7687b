"""The deployment files as the tests read them."""

import json
import re
from dataclasses import dataclass
from pathlib import Path

DEPLOY = Path(__file__).parent.parent / "deploy"
DASHBOARD = DEPLOY / "grafana" / "tocsin.json"
_METRIC = re.compile(r"\b(?:tocsin|temporal)_[a-z0-9_]+")
_GROUPING = re.compile(r"\bby \(([^)]*)\)")


@dataclass(frozen=True)
class DashboardQuery:
    metrics: frozenset[str]
    labels: frozenset[str]
    """The labels it groups by (``le`` excepted: histograms have it)."""


def dashboard_queries() -> list[DashboardQuery]:
    dashboard = json.loads(DASHBOARD.read_text())
    queries = []
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            expr = target["expr"]
            labels = {
                label.strip()
                for grouping in _GROUPING.findall(expr)
                for label in grouping.split(",")
            }
            queries.append(
                DashboardQuery(frozenset(_METRIC.findall(expr)), frozenset(labels - {"le"}))
            )
    return queries
