"""What ``tocsin dev --demo`` shows a newcomer besides the event: the fiches
pratiques and a departmental union's account, signed in with the banner's password."""

from datetime import UTC, datetime
from pathlib import Path

from definitions.accounts import Role
from definitions.loader import Definitions
from store import accounts
from store.database import Store
from worker.dev_stack import _banner, _reset_demo_accounts
from worker.sandbox.providers import SandboxProviders
from worker.settings import Settings


def test_the_demo_banner_lists_the_fiches_and_a_ud_account(
    store: Store, definitions: Definitions, tmp_path: Path
) -> None:
    password = _reset_demo_accounts(store, demo=True)
    again = _reset_demo_accounts(store, demo=True)
    with store.session() as session:
        ud = accounts.authenticate(session, "ud-nord", again, "127.0.0.1", datetime.now(UTC))
        staff = accounts.authenticate(session, "permanence", again, "127.0.0.1", datetime.now(UTC))
        stale = accounts.authenticate(session, "ud-nord", password, "127.0.0.1", datetime.now(UTC))
    assert ud is not None and (ud.role, ud.department) == (Role.UD, "59")
    assert staff is not None and staff.role is Role.STAFF and stale is None

    settings = Settings(state_dir=tmp_path)
    fiches = len(definitions.fiches.fiches)
    banner = _banner(settings, SandboxProviders(settings), again, demo=True, fiches=fiches)
    assert "Compte d'UD     : identifiant ud-nord, même mot de passe (Nord, 59)" in banner
    assert f"{settings.gateway_url}/fiches (8 fiches, sans compte)" in banner
    plain = _banner(settings, SandboxProviders(settings), again, demo=False, fiches=fiches)
    assert "ud-nord" not in plain
