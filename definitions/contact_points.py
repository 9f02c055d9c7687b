"""Email addresses as the directory keeps them, checked; a sender's domain."""

from email.utils import parseaddr

from email_validator import EmailNotValidError, validate_email


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
