"""``tocsin worker`` and ``tocsin api``: each part alone, for deployments."""

import asyncio
import sys

import structlog
from fastapi import FastAPI
from temporalio.client import Client

from definitions.loader import Definitions, DefinitionsError, load_definitions
from gateway.app import create_app
from store.database import SchemaMismatchError, Store
from worker.asgi_server import AsgiServer
from worker.payload_codec import PayloadKeyError
from worker.process_signals import run_until_stopped, stop_on_signals
from worker.settings import Settings
from worker.temporal_client import MetricsAddressError, connect_temporal
from worker.temporal_workers import build_workers, messaging_from, shut_down

log = structlog.get_logger(__name__)


def open_upgraded_store(settings: Settings) -> Store | None:
    """The database, its schema brought to this version's revision; None, said
    why, when a newer version of Tocsin wrote it."""
    store = Store(settings.database_url)
    try:
        store.upgrade()
    except SchemaMismatchError as error:
        print(error, file=sys.stderr)
        store.dispose()
        return None
    return store


async def _connect_or_explain(settings: Settings) -> Client | None:
    try:
        return await connect_temporal(settings)
    except PayloadKeyError as error:
        print(f"Clé de chiffrement invalide : {error}", file=sys.stderr)
        return None
    except MetricsAddressError as error:
        print(f"Adresse des métriques inutilisable : {error}", file=sys.stderr)
        return None
    except RuntimeError as error:
        print(f"Temporal injoignable à {settings.temporal_address} : {error}", file=sys.stderr)
        return None


def gateway_app(
    client: Client, store: Store, settings: Settings, *, phone_simulator: bool = False
) -> FastAPI:
    """``phone_simulator``: only when the SMS go to the local sandbox."""
    return create_app(
        client,
        store,
        settings.task_queue,
        twilio_auth_token=settings.twilio_auth_token.get_secret_value(),
        public_url=settings.public_url,
        link_secret=settings.answer_link_secret(),
        phone_simulator_sender=(settings.twilio_from or "UNCCAS") if phone_simulator else None,
        phone_simulator_carrier=settings.twilio_base_url if phone_simulator else "",
        definitions_dir=settings.definitions_dir,
        trusted_proxies=settings.trusted_proxy_list,
        temporal_ui_origins=settings.temporal_ui_origin_list,
    )


def load_definitions_or_explain(settings: Settings) -> Definitions | None:
    """Bad protocol or template files stop a worker before it takes any work."""
    try:
        return load_definitions(settings.definitions_dir)
    except DefinitionsError as error:
        print("Définitions invalides :", file=sys.stderr)
        for problem in error.problems:
            print(f"  - {problem}", file=sys.stderr)
        return None


def shared_secrets_missing(settings: Settings) -> bool:
    """With PostgreSQL, every instance must be given the secrets they share: a
    process that made its own would encrypt and sign what the others cannot read."""
    missing = settings.missing_shared_secrets()
    if missing:
        print(
            f"Base PostgreSQL partagée : {' et '.join(missing)} requis (le même pour chaque "
            "instance ; voir aussi *_FILE et TOCSIN_SECRETS_DIR).",
            file=sys.stderr,
        )
    return bool(missing)


async def run_worker(settings: Settings) -> int:
    if shared_secrets_missing(settings):
        return 1
    definitions = load_definitions_or_explain(settings)
    if definitions is None:
        return 1
    client = await _connect_or_explain(settings)
    if client is None:
        return 1
    store = open_upgraded_store(settings)
    if store is None:
        return 1
    stop = stop_on_signals()
    workers = build_workers(
        client, store, settings.task_queue, definitions, messaging_from(settings)
    )
    running = [asyncio.create_task(worker.run()) for worker in workers]
    log.info("worker.started", task_queues=[worker.task_queue for worker in workers])
    try:
        await run_until_stopped(stop, *running)
    finally:
        await shut_down(workers)
        store.dispose()
    return 0


async def run_gateway(settings: Settings) -> int:
    """Refuses, as the worker does, definitions with a problem: a fiche the worker
    would refuse must not be silently missing from ``/fiches``."""
    if shared_secrets_missing(settings):
        return 1
    if load_definitions_or_explain(settings) is None:
        return 1
    client = await _connect_or_explain(settings)
    if client is None:
        return 1
    store = open_upgraded_store(settings)
    if store is None:
        return 1
    stop = stop_on_signals()
    gateway = AsgiServer(
        gateway_app(client, store, settings), settings.http_host, settings.http_port
    )
    serving = await gateway.start()
    log.info("gateway.started", url=settings.gateway_url)
    try:
        await run_until_stopped(stop, serving)
    finally:
        gateway.stop()
        await serving
        store.dispose()
    return 0
