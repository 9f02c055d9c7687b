"""The deployment files as the tests read them."""

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DEPLOY = Path(__file__).parent.parent / "deploy"
DASHBOARD = DEPLOY / "grafana" / "tocsin.json"
_METRIC = re.compile(r"\b(?:tocsin|temporal)_[a-z0-9_]+")
_GROUPING = re.compile(r"\bby \(([^)]*)\)")
_INTERPOLATION = re.compile(r"\$\{(?P<name>\w+)(?::\?|:-(?P<default>[^}]*))?\}")


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


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def compose_variables() -> dict[str, str]:
    """``deploy/.env.example``: what the compose file interpolates."""
    variables = {}
    for line in (DEPLOY / ".env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            variables[name] = value
    return variables


def interpolated(value: object, variables: dict[str, str]) -> str:
    """A compose value with its ``${NAME}``, ``${NAME:?}`` and ``${NAME:-default}``
    replaced; a variable missing from ``variables`` fails the test."""

    def replace(match: re.Match[str]) -> str:
        name, default = match["name"], match["default"]
        assert name in variables or default is not None, f"${{{name}}} not in .env.example"
        return variables.get(name) or default or ""

    return _INTERPOLATION.sub(replace, str(value))


def kubernetes() -> dict[tuple[str, str], dict[str, Any]]:
    """Every object the kustomization applies, by kind and name."""
    folder = DEPLOY / "kubernetes"
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
    found = {}
    for resource in kustomization["resources"]:
        for document in yaml.safe_load_all((folder / resource).read_text()):
            found[document["kind"], document["metadata"]["name"]] = document
    return found


def kubernetes_files() -> tuple[list[str], list[str]]:
    """The files the kustomization lists, and those in its folder."""
    folder = DEPLOY / "kubernetes"
    listed = yaml.safe_load((folder / "kustomization.yaml").read_text())["resources"]
    present = sorted(
        path.name for path in folder.glob("*.yaml") if path.name != "kustomization.yaml"
    )
    return sorted(listed), present


def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile's instructions (continuations joined), in order."""
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    instructions = []
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            keyword, _, rest = line.strip().partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions
