"""Phone numbers and email addresses as the directory keeps them: E.164 and checked."""

import re
from email.utils import parseaddr

from email_validator import EmailNotValidError, validate_email

_SEPARATORS = re.compile(r"[\s.\-()/]")
_E164 = re.compile(r"^\+[1-9]\d{7,14}$")
_FRENCH_NATIONAL = re.compile(r"^0[1-9]\d{8}$")
_FRENCH_E164 = re.compile(r"^\+33[1-9]\d{8}$")


def to_e164(text: str) -> str:
    """``06 39 98 00 01`` → ``+33639980001``. French national numbers are read as
    metropolitan ``+33``; other countries (overseas included) must be written in
    international form, ``+262 …`` or ``00262 …``."""
    compact = _SEPARATORS.sub("", text.strip())
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if compact.startswith("+330"):
        compact = "+33" + compact[4:]
    if _FRENCH_NATIONAL.match(compact):
        compact = "+33" + compact[1:]
    if not _E164.match(compact) or (compact.startswith("+33") and not _FRENCH_E164.match(compact)):
        raise ValueError(f"numéro de téléphone invalide « {text} » (ex. 06 39 98 00 01)")
    return compact


def checked_email(text: str) -> str:
    """The address as given (domain lower-cased); no DNS look-up is made."""
    try:
        return validate_email(text.strip(), check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise ValueError(f"adresse email invalide « {text} »") from error


def sender_domain(mail_from: str) -> str:
    """The domain of a sender (``UNCCAS Tocsin <tocsin@example.org>`` → ``example.org``),
    which the deployment's Message-IDs name as theirs."""
    local, _, domain = parseaddr(mail_from)[1].rpartition("@")
    if not local or "." not in domain:
        raise ValueError(f"expéditeur sans domaine « {mail_from} » (ex. tocsin@example.org)")
    return domain.lower()
