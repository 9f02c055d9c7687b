"""The local Twilio sandbox's auth token, readable without the sandboxes' packages:
``tocsin sms-reply`` signs with it in any installation."""

import secrets

from worker.settings import Settings


def sandbox_auth_token(settings: Settings) -> str:
    """Kept in the state folder, so that ``tocsin sms-reply`` can sign like Twilio."""
    path = settings.state_dir / "sandbox-twilio-token"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(16), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()
