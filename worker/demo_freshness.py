"""A freshness history for the demo's directory: departments from well kept to
neglected, so that the console's Annuaire page and ``tocsin directory status``
show in ``tocsin dev --demo`` what they show in a real deployment. Fictional and
deterministic (drawn from each organisation's id)."""

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert
from sqlmodel import Session, select

from definitions.directory_verification import VERIFIED_KINDS
from store import directory
from store.directory_verification import department_of
from store.tables import DirectoryConfirmationRow

DEMO_CAMPAIGN = "demo-historique"
FRESH_DAYS = 170
STALE_DAYS = (200, 540)


def _draw(text: str) -> float:
    """A number in [0, 1) that the same text always draws."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) / 16**8


def seed_freshness(session: Session, now: datetime | None = None) -> int:
    """Confirmations for the demo's organisations, unless some exist already;
    returns how many were written."""
    if session.exec(select(DirectoryConfirmationRow.organisation_id).limit(1)).first():
        return 0
    now = now or datetime.now(UTC)
    rows = []
    for kind in VERIFIED_KINDS:
        for organisation in directory.organisations_of_kind(session, kind):
            department = department_of(organisation) or ""
            kept = 0.15 + 0.8 * _draw(f"departement-{department}")
            draw = _draw(organisation.id)
            if draw < kept:
                days = FRESH_DAYS * draw / kept
            elif draw < kept + (1 - kept) / 2:
                days = STALE_DAYS[0] + (STALE_DAYS[1] - STALE_DAYS[0]) * _draw(
                    "age-" + organisation.id
                )
            else:
                continue
            rows.append(
                {
                    "organisation_id": organisation.id,
                    "confirmed_at": now - timedelta(days=days),
                    "via": "sms" if draw * 10 % 1 < 0.6 else "web",
                    "contact_id": organisation.id,
                    "campaign_id": DEMO_CAMPAIGN,
                }
            )
    if rows:
        session.execute(insert(DirectoryConfirmationRow), rows)
    return len(rows)
