"""The grammar of SMS replies, tolerant of how people type on a phone in a hurry:
case, accents, spaces and punctuation do not matter (``oui 4821``, ``Oui,4821 !``,
``OUI4821``); ``STOP`` or ``ARRÊT`` opts out of SMS."""

import re
import unicodedata
from enum import StrEnum

from pydantic import BaseModel

REPLY_MAX_LENGTH = 320
CODE = re.compile(r"^\d{4}$")


class ReplyKeyword(StrEnum):
    YES = "OUI"
    NO = "NON"
    MOBILISED = "OK"
    HELP = "AIDE"
    DONE = "FAIT"
    REINFORCEMENT = "RENFORT"
    STOP = "STOP"


_KEYWORDS = {
    **{keyword.value: keyword for keyword in ReplyKeyword},
    "ARRET": ReplyKeyword.STOP,
    "STOPALL": ReplyKeyword.STOP,
}


class Reply(BaseModel):
    keyword: ReplyKeyword
    code: str | None = None
    accepts: bool | None = None
    """For ``RENFORT 6610 OUI/NON``: whether reinforcement is offered."""


def _tokens(text: str) -> list[str]:
    plain = "".join(
        char
        for char in unicodedata.normalize("NFKD", text.upper())
        if not unicodedata.combining(char)
    )
    spaced = re.sub(r"([A-Z]+)(\d+)", r"\1 \2", re.sub(r"[^A-Z0-9]+", " ", plain))
    return spaced.split()


def parse_reply(text: str) -> Reply | None:
    """None when the text is not a reply Tocsin understands."""
    if len(text) > REPLY_MAX_LENGTH:
        return None
    tokens = _tokens(text)
    if not tokens or (keyword := _KEYWORDS.get(tokens[0])) is None:
        return None
    rest = tokens[1:]
    if keyword is ReplyKeyword.STOP:
        return Reply(keyword=keyword)
    if keyword is ReplyKeyword.REINFORCEMENT:
        answers = [token for token in rest if token in ("OUI", "NON")]
        codes = [token for token in rest if CODE.match(token)]
        if len(answers) != 1 or len(codes) > 1 or len(answers) + len(codes) != len(rest):
            return None
        return Reply(keyword=keyword, code=codes[0] if codes else None, accepts=answers[0] == "OUI")
    if not rest:
        return Reply(keyword=keyword)
    if len(rest) == 1 and CODE.match(rest[0]):
        return Reply(keyword=keyword, code=rest[0])
    return None
