"""French descriptions of validation errors, shared by the CLI and the API."""

from collections.abc import Sequence

from pydantic import ValidationError
from pydantic_core import ErrorDetails

_FIELD_LABELS = {
    "type": "type",
    "communes": "communes",
    "departments": "départements",
    "title": "titre",
    "exercise": "exercice",
}


def describe_error(error: ErrorDetails) -> str:
    """Why one pydantic error happened, in French, without its location."""
    kind = error["type"]
    context = error.get("ctx") or {}
    if kind == "missing":
        return "champ obligatoire manquant"
    if kind == "enum":
        expected = str(context["expected"]).replace("' or '", "', '")
        return f"valeur inconnue « {error['input']} » ; valeurs admises : {expected}"
    if kind == "string_too_short":
        minimum = context.get("min_length", 1)
        return (
            "ne doit pas être vide"
            if minimum <= 1
            else f"trop court ({minimum} caractères au moins)"
        )
    if kind == "string_too_long":
        return f"trop long ({context['max_length']} caractères au plus)"
    if kind == "too_short":
        return f"au moins {context['min_length']} élément(s) requis"
    if kind == "too_long":
        return f"au plus {context['max_length']} élément(s)"
    if kind == "value_error":
        return str(context.get("error", error["msg"]))
    if kind == "string_pattern_mismatch":
        return f"valeur mal formée « {error['input']} »"
    if kind == "greater_than_equal":
        return f"doit être au moins {context['ge']}"
    if kind == "json_invalid":
        return "JSON invalide"
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return f"valeur invalide « {error.get('input')} »"
    return str(error["msg"])


def _location(loc: Sequence[int | str]) -> str:
    parts = [str(part) for part in loc if part not in ("body", "query", "path")]
    if not parts:
        return "déclaration"
    head = _FIELD_LABELS.get(parts[0], parts[0])
    return ".".join([head, *parts[1:]])


def describe_errors(errors: Sequence[ErrorDetails]) -> list[str]:
    """One line per problem: ``field : why``, in French."""
    return [f"{_location(error['loc'])} : {describe_error(error)}" for error in errors]


def describe_validation_error(exc: ValidationError) -> list[str]:
    return describe_errors(exc.errors())
