"""Phone numbers as the directory keeps them: E.164, a national number read in the
region of its organisation's department (``0692 …`` in La Réunion is ``+262 692 …``,
not a metropolitan mobile), and whether a number can receive an SMS."""

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

METROPOLITAN = "FR"
REGION_OF_DEPARTMENT = {
    "971": "GP",
    "972": "MQ",
    "973": "GF",
    "974": "RE",
    "975": "PM",
    "976": "YT",
    "977": "BL",
    "978": "MF",
}
"""Overseas departments and collectivities with a numbering plan of their own;
every other department, and national bodies, dial as metropolitan France."""
REGION_NAMES = {
    "FR": "la France métropolitaine",
    "GP": "la Guadeloupe",
    "MQ": "la Martinique",
    "GF": "la Guyane",
    "RE": "La Réunion",
    "PM": "Saint-Pierre-et-Miquelon",
    "YT": "Mayotte",
    "BL": "Saint-Barthélemy",
    "MF": "Saint-Martin",
}
FICTION_RANGE = re.compile(r"^\+3363998\d{4}$")
"""The mobile range ARCEP reserves for fiction (06 39 98 xx xx), which libphonenumber
does not know as allocated; demos and tests use it, so it counts as a mobile."""
_SCIENTIFIC = re.compile(r"^\d+([.,]\d+)?[eE]\+?\d+$")
_MOBILE_TYPES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)


def phone_region(department_code: str | None) -> str:
    """The numbering region of an organisation's department (metropolitan if none)."""
    return REGION_OF_DEPARTMENT.get(department_code or "", METROPOLITAN)


def to_e164(text: str, region: str = METROPOLITAN) -> str:
    """``06 39 98 00 01`` → ``+33639980001``; ``0692 12 34 56`` in ``RE`` →
    ``+262692123456``. A number in national form must be valid in its region;
    one in international form (``+262 …``, ``00262 …``) anywhere."""
    compact = text.strip()
    if _SCIENTIFIC.match(compact.replace(" ", "")):
        raise ValueError(
            f"numéro en notation scientifique « {text} » : le tableur l'a pris pour un "
            "nombre ; mettez la colonne au format texte et retapez-le"
        )
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    try:
        number = phonenumbers.parse(compact, region)
    except NumberParseException as error:
        raise ValueError(f"numéro de téléphone invalide « {text} » (ex. 06 39 98 00 01)") from error
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    if FICTION_RANGE.match(e164) and (compact.startswith("+") or region == METROPOLITAN):
        return e164
    if compact.startswith("+"):
        if not phonenumbers.is_valid_number(number):
            raise ValueError(f"numéro de téléphone invalide « {text} » (ex. 06 39 98 00 01)")
    elif not phonenumbers.is_valid_number_for_region(number, region):
        if region == METROPOLITAN:
            raise ValueError(f"numéro de téléphone invalide « {text} » (ex. 06 39 98 00 01)")
        raise ValueError(
            f"numéro invalide pour {REGION_NAMES.get(region, region)} « {text} » "
            "(un numéro d'ailleurs s'écrit en +indicatif)"
        )
    return e164


def accepts_sms(e164: str) -> bool:
    """Mobiles do; a fixed line is kept for calls and its owner written to by email."""
    if FICTION_RANGE.match(e164):
        return True
    try:
        number = phonenumbers.parse(e164)
    except NumberParseException:
        return False
    return phonenumbers.number_type(number) in _MOBILE_TYPES
