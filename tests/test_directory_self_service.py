"""The directory's self-service page through real HTTP, as a director opens it
from a campaign's email: the line shown, a bad number refused with its reason
and nothing saved, a correction applied at once with its audit trail, a second
director's stale form shown the first's change, expired and forged links refused."""

import html
import re
from datetime import UTC, datetime, timedelta

from activities.directory_verification import self_service_url
from definitions.answer_links import sign_link
from definitions.directory_verification import DIRECTORY_PATH, DirectoryLinkClaim
from store import directory, directory_verification
from store.database import Store
from tests.conftest import LINK_SECRET, Phone
from tests.test_directory_verification import LILLE_PHONE, with_nord


def _path(public_url: str, organisation_id: str = "ccas-59350", days: int = 30) -> str:
    until = datetime.now(UTC) + timedelta(days=days)
    url = self_service_url(LINK_SECRET, public_url, organisation_id, "20261207-0400", until)
    return url.removeprefix(public_url)


def _form(page: str) -> dict[str, str]:
    """The form's fields as the page drew them (hidden version included)."""
    fields = re.findall(r'name="([a-z_]+)"[^>]*value="([^"]*)"', page)
    return {key: html.unescape(value) for key, value in fields}


async def test_a_director_corrects_the_line_and_it_applies_at_once(
    store: Store, phone: Phone
) -> None:
    with_nord(store)
    path = _path(phone.public_url)
    shown = await phone.http.get(path)
    assert shown.status_code == 200
    assert "CCAS de Lille" in html.unescape(shown.text) and LILLE_PHONE in html.unescape(shown.text)
    form = _form(shown.text)

    refused = await phone.http.post(
        path, data={**form, "director_phone": "12345", "who": "Camille", "action": "correct"}
    )
    assert refused.status_code == 422
    refusal = html.unescape(refused.text)
    assert "Rien n'a été enregistré" in refusal
    assert "Direction : numéro de téléphone invalide « 12345 »" in refusal
    with store.session() as session:
        assert directory.contacts_of(session, ["ccas-59350"])[0].phone == LILLE_PHONE

    corrected = await phone.http.post(
        path,
        data={
            **form,
            "director_phone": "06 39 98 00 09",
            "deputy_name": "Sacha Morel",
            "deputy_email": "adjoint-lille@example.org",
            "who": "Camille Martin",
            "action": "correct",
        },
    )
    assert corrected.status_code == 200 and "appliquée" in html.unescape(corrected.text)
    with store.session() as session:
        contacts = {c.role.value: c for c in directory.contacts_of(session, ["ccas-59350"])}
        trail = directory_verification.changes_of(session, "ccas-59350")
        confirmed = directory_verification.last_confirmations(session)
    assert contacts["director"].phone == "+33639980009"
    assert contacts["deputy"].email == "adjoint-lille@example.org"
    changed = {(c.field, c.before, c.after, c.changed_by) for c in trail}
    assert ("director_phone", LILLE_PHONE, "+33639980009", "Camille Martin") in changed
    assert ("deputy_name", None, "Sacha Morel", "Camille Martin") in changed
    assert {c.campaign_id for c in trail} == {"20261207-0400"}
    assert "ccas-59350" in confirmed

    stale = await phone.http.post(
        path, data={**form, "director_email": "autre@example.org", "who": "B", "action": "correct"}
    )
    assert stale.status_code == 409
    assert "modifiées par une autre personne" in html.unescape(
        stale.text
    ) and "+33639980009" in html.unescape(stale.text)


async def test_expired_forged_and_vanished_links_are_refused_politely(
    store: Store, phone: Phone
) -> None:
    with_nord(store)
    expired = await phone.http.get(_path(phone.public_url, days=-1))
    assert expired.status_code == 410 and "n'est plus valable" in html.unescape(expired.text)
    claim = DirectoryLinkClaim(
        organisation_id="ccas-59350",
        campaign_id="x",
        expires_at=datetime.now(UTC) + timedelta(days=1),
    )
    forged = await phone.http.get(DIRECTORY_PATH + sign_link("pas-le-bon-secret", claim))
    assert forged.status_code == 403 and "pas valide" in html.unescape(forged.text)
    vanished = await phone.http.get(_path(phone.public_url, organisation_id="ccas-00000"))
    assert vanished.status_code == 410 and "réimportée" in html.unescape(vanished.text)
    issued = _path(phone.public_url)
    assert (await phone.http.get(issued)).status_code == 200
    with_nord(store)
    reimported = await phone.http.get(issued)
    assert reimported.status_code == 410 and "réimportée" in html.unescape(reimported.text)
