"""Behind a reverse proxy: the client's address comes from ``X-Forwarded-For`` only
when a trusted proxy sent it, and failed sign-ins slow down that login from that
address, never the login's owner elsewhere."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from temporalio.testing import WorkflowEnvironment

from gateway.access import SESSION_COOKIE
from gateway.app import create_app
from store.database import Store
from tests.conftest import ACCOUNT_PASSWORD, create_account

ATTACKER = "203.0.113.7"
OWNER = "198.51.100.20"
LOGIN = "permanence"


@asynccontextmanager
async def _gateway(
    env: WorkflowEnvironment, store: Store, trusted_proxies: list[str]
) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway as a proxy on 127.0.0.1 reaches it (httpx's ASGI client address)."""
    app = create_app(env.client, store, "unused", trusted_proxies=trusted_proxies)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 41000))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as gateway:
        yield gateway


async def _sign_in(gateway: httpx.AsyncClient, password: str, address: str) -> httpx.Response:
    return await gateway.post(
        "/connexion",
        data={"login": LOGIN, "password": password},
        headers={"X-Forwarded-For": f"{address}, 127.0.0.1"},
    )


async def test_fifty_wrong_passwords_from_one_address_do_not_keep_the_owner_out(
    time_skipping_env: WorkflowEnvironment, store: Store
) -> None:
    create_account(store, LOGIN)
    async with _gateway(time_skipping_env, store, ["127.0.0.1"]) as gateway:
        answers = [await _sign_in(gateway, "pas le bon", ATTACKER) for _ in range(50)]
        slowed = await _sign_in(gateway, ACCOUNT_PASSWORD, ATTACKER)
        owner = await _sign_in(gateway, ACCOUNT_PASSWORD, OWNER)
    assert {answer.status_code for answer in answers} == {401, 429}
    assert "Trop de tentatives : réessayez dans" in answers[-1].text
    assert slowed.status_code == 429, "the guesser's address is slowed down"
    assert owner.status_code == 303
    assert owner.headers["set-cookie"].startswith(f"{SESSION_COOKIE}=")


async def test_an_untrusted_proxy_s_forwarded_address_is_ignored(
    time_skipping_env: WorkflowEnvironment, store: Store
) -> None:
    """Sent from an address that is no trusted proxy, the header is the caller's own
    claim: every request is the caller's address, and changing the header does not
    escape the slowdown."""
    create_account(store, LOGIN)
    async with _gateway(time_skipping_env, store, ["10.0.0.0/8"]) as gateway:
        for _ in range(10):
            await _sign_in(gateway, "pas le bon", ATTACKER)
        elsewhere = await _sign_in(gateway, ACCOUNT_PASSWORD, OWNER)
    assert elsewhere.status_code == 429
