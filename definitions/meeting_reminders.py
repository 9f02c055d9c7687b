"""What a meeting invitation promises about SMS reminders: only those the committee
workflow will really send, since a reminder whose time has passed when the meeting is
set or moved is skipped."""

from datetime import datetime, timedelta

_UNITS = (("jour", 86_400), ("heure", 3_600), ("minute", 60))


def spoken_duration(duration: timedelta) -> str:
    """``1 jour``, ``2 heures``, ``1 heure 30 minutes``: as a sentence says it."""
    remaining = int(duration.total_seconds())
    parts = []
    for unit, seconds in _UNITS:
        amount, remaining = divmod(remaining, seconds)
        if amount:
            parts.append(f"{amount} {unit}{'s' if amount > 1 else ''}")
    return " ".join(parts) or "moins d'une minute"


def reminders_still_due(
    reminders_before: list[timedelta], starts_at: datetime, now: datetime
) -> list[timedelta]:
    """The reminders whose time is still to come, the earliest first."""
    return sorted((b for b in reminders_before if starts_at - b > now), reverse=True)


def reminders_notice(
    reminders_before: list[timedelta], starts_at: datetime, now: datetime, *, by_sms: bool
) -> str:
    """The invitation's sentence about reminders, true for this meeting, this moment
    and this invitee (reminders go by SMS, to those with a mobile)."""
    if not by_sms:
        return "Sans numéro de mobile dans l'annuaire, vous ne recevrez pas de rappel par SMS."
    still_due = reminders_still_due(reminders_before, starts_at, now)
    due = [spoken_duration(before) for before in still_due]
    if not due:
        return "Aucun rappel ne sera envoyé par SMS : la réunion est trop proche."
    if len(due) == 1:
        return f"Un rappel vous sera envoyé par SMS {due[0]} avant la réunion."
    listed = ", ".join(due[:-1]) + f" et {due[-1]}"
    return f"Des rappels vous seront envoyés par SMS {listed} avant la réunion."
