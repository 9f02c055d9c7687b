"""Masking of personal data before it reaches a log line."""

import re

_PHONE = re.compile(r"(?<![\w+])(?:\+\d(?:[ .-]?\d){7,14}|0\d(?:[ .-]?\d{2}){4})(?!\w)")
_EMAIL = re.compile(r"\b([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})\b")


def mask_phone_numbers(text: str) -> str:
    """``+33 6 ** ** ** 01``: the kind of line (mobile, landline) and the last two
    digits, enough to tell numbers apart in a log, not to call them."""

    def _mask(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        national = digits[2:] if digits.startswith("33") and len(digits) == 11 else None
        if national is None and digits.startswith("0") and len(digits) == 10:
            national = digits[1:]
        if national is not None:
            return f"+33 {national[0]} ** ** ** {national[-2:]}"
        return "+" + "*" * (len(digits) - 2) + digits[-2:]

    return _PHONE.sub(_mask, text)


def mask_personal_data(text: str) -> str:
    """Phone numbers and email local parts, as logs must show them."""
    return _EMAIL.sub(r"\1***@\2", mask_phone_numbers(text))
