"""``--json`` on the commands that read: one JSON document on standard output, the
API's models serialised as the API serialises them, so that a script reads the same
fields from either."""

import json
from collections.abc import Sequence
from typing import Annotated

import typer
from pydantic import BaseModel

JsonOption = Annotated[
    bool, typer.Option("--json", help="sortie JSON (les mêmes champs que l'API)")
]


def json_document(data: BaseModel | Sequence[BaseModel]) -> str:
    """A model, or a list of them, as indented JSON (accents left as they are)."""
    if isinstance(data, BaseModel):
        document: object = data.model_dump(mode="json")
    else:
        document = [item.model_dump(mode="json") for item in data]
    return json.dumps(document, ensure_ascii=False, indent=2)


def print_json(data: BaseModel | Sequence[BaseModel]) -> None:
    typer.echo(json_document(data))
