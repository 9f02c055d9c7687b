"""Which waiting workflow an SMS reply is for, and what to answer the sender.

A quoted code must be one this phone was given; a bare keyword works when the
phone has exactly one open task that takes it. Anything else, including a code
given to someone else, changes nothing and gets a polite French answer.
"""

from dataclasses import dataclass
from enum import StrEnum

from definitions.replies import Reply, ReplyKeyword
from store.reply_codes import keywords_of
from store.tables import ReplyCodeRow

CODES_LISTED = 3


class Outcome(StrEnum):
    ROUTED = "routed"
    NOT_UNDERSTOOD = "not_understood"
    NOTHING_AWAITED = "nothing_awaited"
    WRONG_KEYWORD = "wrong_keyword"
    AMBIGUOUS = "ambiguous"
    CLOSED = "closed"
    OPTED_OUT = "opted_out"
    UNAVAILABLE = "unavailable"


NOT_UNDERSTOOD = (
    "UNCCAS : réponse non reconnue. Répondez avec le mot-clé et le code indiqués dans notre "
    "message, par exemple OUI 4821, NON 4821, OK 5532, AIDE 5532 ou FAIT 1234."
)
NOTHING_AWAITED = (
    "UNCCAS : aucune demande en attente ne correspond à cette réponse depuis ce numéro. "
    "Vérifiez le code indiqué dans notre message."
)
OPTED_OUT = (
    "UNCCAS : vous ne recevrez plus de SMS de Tocsin ; nos messages vous parviendront par email."
)
CLOSED = "UNCCAS : merci, cette demande est close ; votre réponse n'est plus attendue."
UNAVAILABLE = (
    "UNCCAS : votre réponse n'a pas pu être enregistrée (service momentanément indisponible). "
    "Merci de la renvoyer dans quelques minutes."
)


@dataclass(frozen=True)
class Routing:
    outcome: Outcome
    answer: str
    task: ReplyCodeRow | None = None


def _expected(rows: list[ReplyCodeRow]) -> str:
    return " ou ".join(
        f"{'/'.join(k.value for k in keywords_of(row))} {row.code}" for row in rows[:CODES_LISTED]
    )


def acknowledgement(reply: Reply, code: str) -> str:
    return f"UNCCAS : réponse {reply.keyword.value} {code} bien reçue, merci."


def route(reply: Reply | None, codes: list[ReplyCodeRow]) -> Routing:
    """``codes``: every code this phone was given (open ones first)."""
    if reply is None:
        return Routing(Outcome.NOT_UNDERSTOOD, NOT_UNDERSTOOD)
    if reply.keyword is ReplyKeyword.STOP:
        return Routing(Outcome.OPTED_OUT, OPTED_OUT)
    open_codes = [row for row in codes if row.closed_at is None]
    if reply.code is not None:
        quoted = [row for row in codes if row.code == reply.code]
        if not quoted:
            return Routing(Outcome.NOTHING_AWAITED, NOTHING_AWAITED)
        task = quoted[0]
        if task.closed_at is not None:
            return Routing(Outcome.CLOSED, CLOSED)
        if reply.keyword not in keywords_of(task):
            return Routing(
                Outcome.WRONG_KEYWORD,
                f"UNCCAS : le code {task.code} attend la réponse {_expected([task])}.",
            )
        return Routing(Outcome.ROUTED, acknowledgement(reply, task.code), task)
    fitting = [row for row in open_codes if reply.keyword in keywords_of(row)]
    if len(fitting) == 1:
        return Routing(Outcome.ROUTED, acknowledgement(reply, fitting[0].code), fitting[0])
    if fitting:
        return Routing(
            Outcome.AMBIGUOUS,
            f"UNCCAS : plusieurs demandes attendent votre réponse ; précisez le code : "
            f"{_expected(fitting)}.",
        )
    if open_codes:
        return Routing(
            Outcome.NOTHING_AWAITED, f"UNCCAS : réponse attendue : {_expected(open_codes)}."
        )
    return Routing(Outcome.NOTHING_AWAITED, NOTHING_AWAITED)
