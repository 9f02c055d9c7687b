"""The fiches pratiques, read-only and open to all: a CCAS director follows a link
from a support request without any account. Markdown is rendered without raw HTML,
so a fiche cannot carry a script."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from markdown_it import MarkdownIt
from markupsafe import Markup
from pydantic import BaseModel

from definitions.event_type import EventType
from definitions.fiches import FICHES_PATH, Fiche, FicheLibrary
from gateway.console.pages import render

MARKDOWN = MarkdownIt("commonmark", {"html": False})
TypeFilter = Annotated[EventType | None, Query(alias="type")]


class FicheSummary(BaseModel):
    slug: str
    title: str
    event_types: list[EventType]
    audience: str
    reviewed: str
    sources: list[str]
    path: str


def _summary(fiche: Fiche) -> FicheSummary:
    header = fiche.header
    return FicheSummary(
        slug=fiche.slug,
        title=header.title,
        event_types=header.event_types,
        audience=header.audience,
        reviewed=header.reviewed.isoformat(),
        sources=[str(source) for source in header.sources],
        path=f"{FICHES_PATH}/{fiche.slug}",
    )


def fiche_router(library: FicheLibrary) -> APIRouter:
    router = APIRouter(tags=["fiches pratiques"])

    def shown_types(event_type: EventType | None) -> list[EventType]:
        return [event_type] if event_type is not None else list(EventType)

    @router.get("/api/fiches")
    def fiches_data(event_type: TypeFilter = None) -> list[FicheSummary]:
        """Les fiches pratiques (toutes, ou celles d'un type d'événement)."""
        fiches = (
            sorted(library.fiches.values(), key=lambda fiche: fiche.header.title)
            if event_type is None
            else library.of_type(event_type)
        )
        return [_summary(fiche) for fiche in fiches]

    @router.get(FICHES_PATH, response_class=HTMLResponse)
    def fiches_page(request: Request, event_type: TypeFilter = None) -> HTMLResponse:
        sections = [
            (shown, library.of_type(shown))
            for shown in shown_types(event_type)
            if library.of_type(shown)
        ]
        return render(
            request, "fiches.html", sections=sections, chosen=event_type, types=list(EventType)
        )

    @router.get(FICHES_PATH + "/{slug}", response_class=HTMLResponse)
    def fiche_page(request: Request, slug: str) -> HTMLResponse:
        fiche = library.fiches.get(slug)
        if fiche is None:
            return render(request, "fiche_absente.html", status_code=404, slug=slug)
        return render(
            request,
            "fiche.html",
            fiche=fiche,
            body=Markup(MARKDOWN.render(fiche.body)),
        )

    return router
