"""The GSM 03.38 alphabet: what an SMS costs, and how to stay within 7 bits.

A message wholly in the basic set (extension characters count twice) takes 160
characters in one segment, 153 per segment beyond; one character outside it
turns the whole message to UCS-2: 70, then 67 per segment.
"""

import math
import unicodedata
from enum import StrEnum

BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
EXTENSION = "^{}\\[~]|€\f"
_BASIC = frozenset(BASIC)
_EXTENSION = frozenset(EXTENSION)
_REPLACEMENTS = {
    "ç": "c",
    "œ": "oe",
    "Œ": "OE",
    "’": "'",
    "‘": "'",
    "«": '"',
    "»": '"',
    "“": '"',
    "”": '"',
    "–": "-",
    "—": "-",
    "…": "...",
    "\u00a0": " ",
    "\u202f": " ",
}


class Encoding(StrEnum):
    GSM7 = "GSM-7"
    UCS2 = "UCS-2"


def is_gsm7(text: str) -> bool:
    return all(char in _BASIC or char in _EXTENSION for char in text)


def non_gsm7_characters(text: str) -> list[str]:
    return sorted({char for char in text if char not in _BASIC and char not in _EXTENSION})


def segments(text: str) -> tuple[Encoding, int]:
    if is_gsm7(text):
        septets = sum(2 if char in _EXTENSION else 1 for char in text)
        return Encoding.GSM7, 1 if septets <= 160 else math.ceil(septets / 153)
    units = len(text.encode("utf-16-le")) // 2
    return Encoding.UCS2, 1 if units <= 70 else math.ceil(units / 67)


def to_gsm7(text: str) -> str:
    """Closest GSM-7 spelling: Tempête → Tempete, Besançon → Besancon."""
    result = []
    for char in text:
        if char in _BASIC or char in _EXTENSION:
            result.append(char)
        elif char in _REPLACEMENTS:
            result.append(_REPLACEMENTS[char])
        else:
            stripped = "".join(
                part
                for part in unicodedata.normalize("NFKD", char)
                if not unicodedata.combining(part)
            )
            result.append(stripped if stripped and is_gsm7(stripped) else "?")
    return "".join(result)
